import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { plaintextSecret } from './plaintext-secret.js';
import { brief, files, project, service, single, fleet, stack } from '../test-helpers/make.js';
import type { Where } from '../../core/finding.js';

const CANARY = 'canary-7d1f3c9e';

/** A compose file on disk, and a locator that finds `services/<svc>/.../<key>` by scanning its lines. */
function onDisk(text: string): { locate: (p: readonly (string | number)[]) => Where } {
  const lines = text.split('\n');
  return {
    locate: (path) => {
      const svc = lines.findIndex((l) => l === `  ${String(path[1])}:`);
      const key = String(path[path.length - 1]);
      const i = lines.findIndex((l, n) => n > svc && (l.trimStart().startsWith(`${key}:`) || l.includes(`- ${key}=`)));
      return i >= 0
        ? { file: 'compose.yml', line: i + 1, column: 1, path: path.join('/') }
        : { file: 'compose.yml', path: path.join('/') };
    },
  };
}

describe('plaintext-secret', () => {
  it('names literal credential keys and never shows their value', () => {
    const text = [
      'services:',
      '  db:',
      '    environment:',
      `      POSTGRES_PASSWORD: ${CANARY}`,
      `      JWT_SECRET: ${CANARY}`,
      '      SECRET_KEY_BASE: ${SECRET_KEY_BASE}',
      `      AWS_SECRET_ACCESS_KEY: ${CANARY}`,
      '      POSTGRES_PASSWORD_FILE: /run/secrets/pg',
      '      PASSWORD_MIN_LENGTH: "12"',
      '      AWS_ACCESS_KEY_ID: AKIAEXAMPLE',
      '      AUTH_ENABLED: "true"',
      '      EMPTY_TOKEN: ""',
    ].join('\n');
    const env = {
      POSTGRES_PASSWORD: CANARY,
      JWT_SECRET: CANARY,
      SECRET_KEY_BASE: 'from-dotenv-value',
      AWS_SECRET_ACCESS_KEY: CANARY,
      POSTGRES_PASSWORD_FILE: '/run/secrets/pg',
      PASSWORD_MIN_LENGTH: '12',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AUTH_ENABLED: 'true',
      EMPTY_TOKEN: '',
      NULL_PASSWORD: null,
    };
    const f = plaintextSecret(
      single([service('db', { inlineEnvironment: env })], onDisk(text)),
      files({ '/srv/app/compose.yml': text }),
    );
    assert.deepEqual(
      brief(f),
      ['POSTGRES_PASSWORD', 'JWT_SECRET', 'AWS_SECRET_ACCESS_KEY'].map((k) => ({
        code: 'plaintext-secret',
        severity: 'warning',
        message: `app/db: environment variable ${k} is written in plain text in the compose file`,
        path: `services/db/environment/${k}`,
      })),
    );
    assert.equal(f[0]?.where.line, 4);
    assert.ok(!JSON.stringify(f).includes(CANARY));
    assert.ok(!JSON.stringify(f).includes('canary'));
  });

  it('finds passwords in URLs and on command lines, and never shows them', () => {
    const text = [
      'services:',
      '  api:',
      `    command: ["celery", "--broker=amqp://app:${CANARY}@mq:5672//"]`,
      '    environment:',
      `      - DATABASE_URL=postgres://app:${CANARY}@db:5432/app`,
      '      - REDIS_URL=redis://:${REDIS_PASSWORD}@cache:6379/0',
      '  cache:',
      `    command: redis-server --requirepass ${CANARY} --appendonly yes`,
      '  prom:',
      '    entrypoint:',
      '      - /bin/prometheus',
      `      - --web.basic_auth=admin:${CANARY}`,
      '  backup:',
      `    command: sh -c "PGPASSWORD=${CANARY} pg_dump -h db app && mysqldump -p${CANARY} shop && redis-cli -a ${CANARY} save"`,
    ].join('\n');
    const services = [
      service('api', {
        command: ['celery', `--broker=amqp://app:${CANARY}@mq:5672//`],
        inlineEnvironment: {
          DATABASE_URL: `postgres://app:${CANARY}@db:5432/app`,
          REDIS_URL: 'redis://:from-dotenv@cache:6379/0',
        },
      }),
      service('cache', { command: `redis-server --requirepass ${CANARY} --appendonly yes` }),
      service('prom', { entrypoint: ['/bin/prometheus', `--web.basic_auth=admin:${CANARY}`] }),
      service('backup', {
        command: `sh -c "PGPASSWORD=${CANARY} pg_dump -h db app && mysqldump -p${CANARY} shop && redis-cli -a ${CANARY} save"`,
      }),
    ];
    const f = plaintextSecret(single(services, onDisk(text)), files({ '/srv/app/compose.yml': text }));
    assert.deepEqual(brief(f), [
      {
        code: 'plaintext-secret',
        severity: 'warning',
        message: 'app/api: environment variable DATABASE_URL holds a URL with a password written in plain text',
        path: 'services/api/environment/DATABASE_URL',
      },
      {
        code: 'plaintext-secret',
        severity: 'warning',
        message: 'app/api: its command has a credential written in plain text (a password in a URL)',
        path: 'services/api/command',
      },
      {
        code: 'plaintext-secret',
        severity: 'warning',
        message: 'app/cache: its command has a credential written in plain text (--requirepass)',
        path: 'services/cache/command',
      },
      {
        code: 'plaintext-secret',
        severity: 'warning',
        message: 'app/prom: its entrypoint has a credential written in plain text (--web.basic_auth=)',
        path: 'services/prom/entrypoint',
      },
      {
        code: 'plaintext-secret',
        severity: 'warning',
        message:
          'app/backup: its command has a credential written in plain text (PGPASSWORD=, mysqldump -p, redis-cli -a)',
        path: 'services/backup/command',
      },
    ]);
    assert.ok(!JSON.stringify(f).includes(CANARY));
  });
});

describe('plaintext-secret: values it leaves alone', () => {
  it('skips values interpolated from variables, in the environment and on command lines', () => {
    const text = [
      'services:',
      '  db:',
      '    command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}"]',
      '    environment:',
      '      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}',
      '      - API_TOKEN=$API_TOKEN',
      '  job:',
      '    command: sh -c "redis-cli -a $$REDIS_PASSWORD ping"',
    ].join('\n');
    const services = [
      service('db', {
        command: ['redis-server', '--requirepass', 'resolved-from-env'],
        inlineEnvironment: { POSTGRES_PASSWORD: 'resolved-from-env', API_TOKEN: 'resolved-too' },
      }),
      service('job', { command: 'sh -c "redis-cli -a $REDIS_PASSWORD ping"' }),
    ];
    assert.deepEqual(plaintextSecret(single(services, onDisk(text)), files({ '/srv/app/compose.yml': text })), []);
  });

  it('treats values as literal when the source text cannot be read', () => {
    const f = plaintextSecret(single([service('db', { inlineEnvironment: { MYSQL_ROOT_PASSWORD: CANARY } })]), files());
    assert.deepEqual(
      brief(f).map((x) => x.path),
      ['services/db/environment/MYSQL_ROOT_PASSWORD'],
    );
    assert.ok(!JSON.stringify(f).includes(CANARY));
  });

  it('looks only at loaded projects and inline environment', () => {
    const s = service('db', { environment: { POSTGRES_PASSWORD: CANARY } });
    assert.deepEqual(plaintextSecret(fleet([stack('a', project([s])), stack('b', undefined)]), files()), []);
  });
});
