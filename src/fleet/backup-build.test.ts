import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backupDef } from './backup-build.js';
import { loadFleetFile } from './load.js';

test('a stack without its own backups key is not backed up, whatever the defaults', () => {
  assert.equal(backupDef({ password: { env: 'PW' } }, undefined, '/fleet'), undefined);
});

test("the stack's keys over the fleet's, retention per kind over the defaults, a password file resolved", () => {
  const fleet = {
    password: { file: 'secrets/restic' },
    repositories: [{ name: 'offsite', server: 'vault', path: '/srv/restic' }],
    retention: { postgres: 60 },
  };
  assert.deepEqual(backupDef(fleet, { retention: { redis: 7 }, volumes: false }, '/fleet'), {
    password: { file: '/fleet/secrets/restic' },
    repositories: [{ name: 'offsite', server: 'vault', path: '/srv/restic' }],
    retention: { postgres: 60, mysql: 30, redis: 7, volumes: 30, paths: 30, release: 90 },
    volumes: false,
  });
  assert.deepEqual(
    backupDef(
      fleet,
      { password: { env: 'SHOP_PW' }, repositories: [{ name: 'here', path: '/var/backups/shop' }] },
      '/f',
    ),
    {
      password: { env: 'SHOP_PW' },
      repositories: [{ name: 'here', path: '/var/backups/shop' }],
      retention: { postgres: 60, mysql: 30, redis: 14, volumes: 30, paths: 30, release: 90 },
    },
  );
});

test('a REST repository: its URL, and its password file resolved against ferry.yml', () => {
  const rest = { url: 'https://vault.example.com:8000/shop/', user: 'shop', password: { file: 'secrets/rest' } };
  assert.deepEqual(
    backupDef(undefined, { password: { env: 'PW' }, repositories: [{ name: 'vault', rest }] }, '/f')?.repositories,
    [{ name: 'vault', rest: { ...rest, password: { file: '/f/secrets/rest' } } }],
  );
});

describe('REST repositories in ferry.yml', () => {
  const findingsOf = (repo: string) => {
    const tmp = mkdtempSync(join(tmpdir(), 'ferry-rest-'));
    try {
      writeFileSync(
        join(tmp, 'ferry.yml'),
        `servers: { app: { host: 203.0.113.5 } }\nstacks:\n  shop:\n    server: app\n    compose: compose.yml\n    backups:\n      password: { env: PW }\n      repositories:\n        - ${repo}\n`,
      );
      writeFileSync(join(tmp, 'compose.yml'), 'services: { web: { image: nginx } }\n');
      return loadFleetFile('ferry.yml', { cwd: tmp }).findings.map((f) => `${f.where?.path}: ${f.message}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  };

  test('one with a user and a password, or with neither, loads', () => {
    assert.deepEqual(
      findingsOf('{ name: vault, rest: { url: "http://vault:8000/shop/", user: shop, password: { env: REST_PW } } }'),
      [],
    );
    assert.deepEqual(findingsOf('{ name: vault, rest: { url: "https://vault:8000/shop/" } }'), []);
  });

  test('a path beside rest, a user without a password, credentials in the URL: each refused at its key', () => {
    assert.match(
      findingsOf('{ name: vault, path: /srv/r, rest: { url: "http://vault:8000/shop/" } }').join('\n'),
      /stacks\/shop\/backups\/repositories\/0\/rest: .*one of a `path`.*a REST server \(`rest`\) or a bucket/,
    );
    assert.match(
      findingsOf('{ name: vault, rest: { url: "http://vault:8000/shop/", user: shop } }').join('\n'),
      /repositories\/0\/rest: .*`user` and `password` go together/,
    );
    const credentials = findingsOf('{ name: vault, rest: { url: "http://shop:CANARY-rest@vault:8000/shop/" } }');
    assert.match(
      credentials.join('\n'),
      /repositories\/0\/rest\/url must be an http:\/\/ or https:\/\/ URL without credentials/,
    );
    assert.ok(!credentials.join('\n').includes('CANARY-rest'), 'the value is not echoed');
    assert.match(findingsOf('{ name: vault }').join('\n'), /repositories\/0\/path must be given/);
  });

  test('a bucket: its URL with a bucket and no credentials, its keys from secrets, alone', () => {
    const keys = 'access_key_id: { env: S3_ID }, secret_access_key: { file: s3.key }';
    assert.deepEqual(findingsOf(`{ name: b2, s3: { url: "https://s3.example.com/shop-backups/app", ${keys} } }`), []);
    assert.match(
      findingsOf(`{ name: b2, rest: { url: "http://v/" }, s3: { url: "https://s3.example.com/b", ${keys} } }`).join(
        '\n',
      ),
      /repositories\/0\/rest: .*one of a `path`/,
    );
    assert.match(
      findingsOf(`{ name: b2, s3: { url: "https://s3.example.com", ${keys} } }`).join('\n'),
      /repositories\/0\/s3\/url must be .* then the bucket/,
    );
    const leaked = findingsOf(`{ name: b2, s3: { url: "https://ID:CANARY-s3@s3.example.com/b", ${keys} } }`);
    assert.match(leaked.join('\n'), /repositories\/0\/s3\/url must be/);
    assert.ok(!leaked.join('\n').includes('CANARY-s3'), 'the value is not echoed');
    const plain = findingsOf('{ name: b2, s3: { url: "https://s3.example.com/b", access_key_id: AKIA-CANARY } }');
    assert.match(
      plain.join('\n'),
      /s3\/access_key_id must be `\{ env: NAME \}` or `\{ file: PATH \}`, got a value not shown/,
    );
    assert.match(plain.join('\n'), /s3\/secret_access_key must be/);
    assert.ok(!plain.join('\n').includes('AKIA-CANARY'), 'the value is not echoed');
  });
});

test('a schedule per kind: `default` backs everything up, a kind on another calendar gets a timer of its own', () => {
  const def = backupDef(undefined, { schedule: { default: 'daily', postgres: 'hourly', redis: 'daily' } }, '/f');
  assert.equal(def?.schedule, 'daily');
  assert.deepEqual(def?.kindSchedules, { postgres: 'hourly' }, 'a kind on the default calendar needs no timer');
  assert.equal(backupDef(undefined, { schedule: 'daily' }, '/f')?.kindSchedules, undefined);
});

test('a schedule per kind without `default`, or naming a kind that is not one, is refused at its key', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-kinds-'));
  try {
    const load = (schedule: string) => {
      writeFileSync(
        join(tmp, 'ferry.yml'),
        `servers: { app: { host: 203.0.113.5 } }\nstacks:\n  shop:\n    server: app\n    compose: compose.yml\n    backups:\n      password: { env: PW }\n      repositories: [{ name: here, path: /var/backups/shop }]\n      schedule: ${schedule}\n`,
      );
      writeFileSync(join(tmp, 'compose.yml'), 'services: { web: { image: nginx } }\n');
      return loadFleetFile('ferry.yml', { cwd: tmp }).findings.map((f) => `${f.where?.path}: ${f.message}`);
    };
    assert.deepEqual(load('{ default: daily, postgres: hourly }'), []);
    assert.match(load('{ postgres: hourly }').join('\n'), /stacks\/shop\/backups\/schedule.*default/);
    assert.match(
      load('{ default: daily, postgress: hourly }').join('\n'),
      /stacks\/shop\/backups\/schedule.*postgress/,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
