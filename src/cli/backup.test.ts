import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ferry } from '../../test/cli/run.js';
import { newRunId, renderDrill, runsOf } from './backup.js';

const snap = (time: string, ...tags: string[]) => ({ id: time, time, tags: ['ferry', 'stack=shop', ...tags] });

test('snapshots grouped by run, newest first; a run without its manifest is incomplete', () => {
  const rows = runsOf('here', [
    snap('2026-12-01T02:00:01Z', 'run=A', 'kind=postgres', 'source=db'),
    snap('2026-12-01T02:00:03Z', 'run=A', 'kind=volume', 'source=uploads'),
    snap('2026-12-01T02:00:04Z', 'run=A', 'kind=manifest'),
    snap('2026-12-02T02:00:01Z', 'run=B', 'kind=postgres', 'source=db'),
    snap('2026-12-02T02:00:02Z'),
  ]);
  assert.deepEqual(rows, [
    { repository: 'here', run: 'B', time: '2026-12-02T02:00:01Z', kinds: ['postgres db'], complete: false },
    {
      repository: 'here',
      run: 'A',
      time: '2026-12-01T02:00:01Z',
      kinds: ['postgres db', 'volume uploads'],
      complete: true,
    },
  ]);
});

test('run ids sort by time', () => {
  assert.match(newRunId(new Date('2026-12-03T00:15:00.123Z')), /^20261203T001500Z-[0-9a-f]{6}$/);
});

test('a drill report says what was proven, how long it took and how old the data was', () => {
  const text = renderDrill({
    stack: 'shop',
    repository: 'here',
    run: 'A',
    backed_up_at: '2026-12-01T02:00:00Z',
    data_age_ms: 90 * 60_000,
    duration_ms: 12_345,
    proofs: [
      { what: 'postgres db public.items', expected: '1000 rows, checksum x', found: '1000 rows, checksum x', ok: true },
      { what: 'redis cache', expected: '50 keys', found: '49 keys', ok: false },
    ],
    ok: false,
    left: [],
  });
  assert.equal(
    text,
    'ok   postgres db public.items: 1000 rows, checksum x\n' +
      'FAIL redis cache: expected 50 keys, found 49 keys\n' +
      'drill of shop from here, run A: FAILED; took 12.3 s; the data was 90 min old\n',
  );
});

/** A fleet whose stack shop is backed up into `repo`, with `more` lines after its backups. */
const shopFleet = (repo: string, more: string[]): string =>
  [
    'servers:',
    '  app: { host: 203.0.113.10 }',
    'stacks:',
    '  shop:',
    '    server: app',
    '    compose: compose.yml',
    '    backups:',
    '      password: { env: SHOP_BACKUP_PASSWORD }',
    `      repositories: [${repo}]`,
    ...more,
    '',
  ].join('\n');

test('before any server is reached: an unknown repository server, an unset password, a stack without backups', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-backup-cli-'));
  writeFileSync(join(dir, 'compose.yml'), 'services:\n  db:\n    image: postgres:16\n    mem_limit: 256m\n');
  const fleet = (repo: string) => shopFleet(repo, ['  blog: { server: app, compose: compose.yml, project: blog }']);
  const run = (args: string[], env: Record<string, string> = {}) =>
    ferry([...args, '-f', 'ferry.yml'], { cwd: dir, env });
  writeFileSync(join(dir, 'ferry.yml'), fleet('{ name: far, server: vault, path: /srv/restic }'));
  const unknown = await run(['backup', 'run', 'shop'], { SHOP_BACKUP_PASSWORD: 'x' });
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /^error backup-not-configured: repository far of stack shop names server "vault"/m);
  writeFileSync(join(dir, 'ferry.yml'), fleet('{ name: here, path: /var/backups/shop }'));
  const unset = await run(['backup', 'run', 'shop']);
  assert.equal(unset.code, 2);
  assert.match(
    unset.err,
    /^error backup-password-unreadable: the backup password of shop is not set: environment variable SHOP_BACKUP_PASSWORD/m,
  );
  const none = await run(['backup', 'drill', 'blog']);
  assert.equal(none.code, 2);
  assert.match(none.err, /^error backup-not-configured: stack blog has no backups/m);
});

test('backups.paths: a path outside the rules is refused at its key, one no bind mount holds names those that are', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-backup-paths-'));
  writeFileSync(
    join(dir, 'compose.yml'),
    'services:\n  web:\n    image: nginx\n    mem_limit: 64m\n    volumes: [./media:/media, ./site.conf:/etc/site.conf]\n',
  );
  writeFileSync(join(dir, 'site.conf'), 'x\n');
  const fleet = (paths: string) => shopFleet('{ name: here, path: /var/backups/shop }', [`      paths: ${paths}`]);
  const run = () =>
    ferry(['backup', 'run', 'shop', '-f', 'ferry.yml'], { cwd: dir, env: { SHOP_BACKUP_PASSWORD: 'x' } });
  writeFileSync(join(dir, 'ferry.yml'), fleet('[./media/../../etc]'));
  const dots = await run();
  assert.equal(dots.code, 2);
  assert.match(dots.err, /stacks\/shop\/backups\/paths\/0 must be .*no `\.\.`.*\n {2}at ferry\.yml:10:15/);
  writeFileSync(join(dir, 'ferry.yml'), fleet('[./site.conf]'));
  const file = await run();
  assert.equal(file.code, 2, 'bad input, before any server is reached');
  assert.match(
    file.err,
    /^error backup-source-unknown: backups names path "\.\/site\.conf", which no relative bind mount/m,
  );
  assert.match(file.err, /\.\/media/);
});

test('backups.mysql takes a list of services or false, and a service the project lacks is refused before any server is reached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-backup-mysql-'));
  writeFileSync(
    join(dir, 'compose.yml'),
    'services:\n  db:\n    image: mariadb:11\n    mem_limit: 256m\n    volumes: [db:/var/lib/mysql]\nvolumes:\n  db: {}\n',
  );
  const run = (more: string[]) => {
    writeFileSync(join(dir, 'ferry.yml'), shopFleet('{ name: here, path: /var/backups/shop }', more));
    return ferry(['backup', 'run', 'shop', '-f', 'ferry.yml'], { cwd: dir, env: { SHOP_BACKUP_PASSWORD: 'x' } });
  };
  const wrong = await run(['      mysql: true']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.err, /stacks\/shop\/backups\/mysql is not valid: .*\n {2}at ferry\.yml:10:7 /);
  const unknown = await run(['      mysql: [legacy]']);
  assert.equal(unknown.code, 2, unknown.err);
  assert.match(
    unknown.err,
    /^error backup-source-unknown: backups names mysql service "legacy", which the compose project does not have\n {2}at backups\/mysql\n {2}hint: Name services of the project: db\./m,
  );
});

test('restore and recover refuse bad input before any server is reached', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-restore-cli-'));
  writeFileSync(join(dir, 'compose.yml'), 'services:\n  db:\n    image: postgres:16\n    mem_limit: 256m\n');
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      '  app: { host: 203.0.113.10 }',
      '  spare: { host: 203.0.113.11 }',
      'stacks:',
      '  shop:',
      '    server: app',
      '    compose: compose.yml',
      '    backups:',
      '      password: { env: SHOP_BACKUP_PASSWORD }',
      '      repositories: [{ name: here, path: /var/backups/shop }]',
      '  blog: { server: app, compose: compose.yml, project: blog }',
      '',
    ].join('\n'),
  );
  const run = (args: string[]) => ferry([...args, '-f', 'ferry.yml'], { cwd: dir, env: { SHOP_BACKUP_PASSWORD: 'x' } });
  const none = await run(['restore', 'blog', '--yes']);
  assert.equal(none.code, 2);
  assert.match(none.err, /^error backup-not-configured: stack blog has no backups/m);
  const unknownServer = await run(['recover', 'shop', '--to', 'nowhere', '--yes']);
  assert.equal(unknownServer.code, 2);
  assert.match(unknownServer.err, /^error usage: no server "nowhere" in the fleet file/m);
  assert.match(unknownServer.err, /Servers: app, spare/);
  // Its only repository is on the server being recovered from: nothing could be read.
  const lost = await run(['recover', 'shop', '--to', 'spare', '--yes']);
  assert.equal(lost.code, 2);
  assert.match(lost.err, /^error recover-no-offsite: every repository of shop is on app/m);
  assert.match(lost.err, /at ferry\.yml: stacks\/shop\/backups\/repositories/);
  const noTarget = await run(['recover', 'shop', '--yes']);
  assert.equal(noTarget.code, 2);
  assert.match(noTarget.err, /--to/);
});
