import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenTests } from '../render/test-helpers/golden.js';
import { repoAccess } from './repos.js';
import { renderBackupMetrics, renderDrillMetrics } from './metrics.js';
import { renderRunner } from './runner.js';
import { renderRunnerConfig, renderService, renderTimer, scheduleFiles, type ScheduleInput } from './schedule.js';
import { Secret } from '../core/secret.js';
import { render } from '../shell/command.js';
import { restic } from './restic.js';

const app = { name: 'app', host: '203.0.113.10' };
const vault = { name: 'vault', host: '203.0.113.20' };
const input: ScheduleInput = {
  stack: 'shop',
  calendars: { backup: '*-*-* 03:00', drill: 'Sun 04:00' },
  repos: [
    repoAccess('shop', { name: 'here', path: '/var/backups/shop' }, app, { app, vault }),
    repoAccess('shop', { name: 'offsite', server: 'vault', path: '/srv/restic/shop' }, app, { app, vault }),
  ],
  sources: {
    project: 'shop',
    postgres: [{ service: 'db', user: 'shop', db: 'orders', volumes: [] }],
    mysql: [{ service: 'legacy' }],
    redis: [{ service: 'cache' }],
    volumes: [{ name: 'uploads', docker: 'shop_uploads' }],
    paths: [{ name: './media', path: '/srv/ferry/shop/shared/media' }],
    release: true,
  },
  retention: { postgres: 30, mysql: 21, redis: 14, volumes: 7, paths: 7, release: 20 },
};

goldenTests('backup', [
  { file: 'backup-run', render: renderRunner },
  { file: 'shop.json', render: () => renderRunnerConfig(input) },
  { file: 'ferry-backup-shop.service', render: () => renderService('shop') },
  { file: 'ferry-backup-shop.timer', render: () => renderTimer('shop', '*-*-* 03:00') },
  { file: 'ferry-drill-shop.service', render: () => renderService('shop', 'drill') },
  { file: 'ferry-drill-shop.timer', render: () => renderTimer('shop', 'Sun 04:00', 'drill') },
  { file: 'ferry-backup-shop.postgres.service', render: () => renderService('shop', 'backup.postgres') },
  { file: 'ferry-backup-shop.postgres.timer', render: () => renderTimer('shop', 'hourly', 'backup.postgres') },
]);

const bash = (script: string, env: Record<string, string> = {}) =>
  spawnSync('bash', ['-c', script], { encoding: 'utf8', env: { ...process.env, ...env } });

test('the runner is valid bash, and sourcing it defines its functions without running anything', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-runner-'));
  const runner = join(dir, 'backup-run');
  writeFileSync(runner, renderRunner());
  assert.equal(bash(`bash -n ${runner}`).status, 0);
  const r = bash(`. ${runner} && declare -F | awk '{ print $3 }'`);
  assert.equal(r.status, 0, r.stderr);
  for (const f of [
    'pg_backup',
    'redis_backup',
    'files_manifest',
    'backup_into',
    'retention',
    'metrics',
    'drill_from',
    'drill_metrics',
    'main',
  ])
    assert.ok(r.stdout.split('\n').includes(f), `${f} is defined`);
  const usage = bash(`bash ${runner}`);
  assert.notEqual(usage.status, 0, 'without a stack it refuses');
  assert.match(usage.stderr, /usage: backup-run STACK/);
});

test("the runner's metrics file is the one `ferry backup run` writes, and a failed run keeps the last good time", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-runner-metrics-'));
  const runner = join(dir, 'backup-run');
  writeFileSync(runner, renderRunner());
  const file = join(dir, 'ferry_backup_shop_here.prom');
  const ok = bash(`. ${runner} && stack=shop && metrics here 1700000000 1`, { FERRY_TEXTFILE_DIR: dir });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(
    readFileSync(file, 'utf8'),
    renderBackupMetrics({ stack: 'shop', repository: 'here', lastRun: 1700000000, ok: true, lastSuccess: 1700000000 }),
  );
  const failed = bash(`. ${runner} && stack=shop && metrics here 1700003600 0`, { FERRY_TEXTFILE_DIR: dir });
  assert.equal(failed.status, 0, failed.stderr);
  assert.equal(
    readFileSync(file, 'utf8'),
    renderBackupMetrics({ stack: 'shop', repository: 'here', lastRun: 1700003600, ok: false, lastSuccess: 1700000000 }),
  );
  const first = bash(`. ${runner} && stack=new && metrics here 1700003600 0`, { FERRY_TEXTFILE_DIR: dir });
  assert.equal(first.status, 0, first.stderr);
  assert.equal(
    readFileSync(join(dir, 'ferry_backup_new_here.prom'), 'utf8'),
    renderBackupMetrics({ stack: 'new', repository: 'here', lastRun: 1700003600, ok: false }),
  );
});

test('the configuration names the SFTP command of a repository on another server, and the retention per kind', () => {
  const c = JSON.parse(renderRunnerConfig(input)) as {
    repositories: { name: string; url: string; sftp_command?: string }[];
    retention: { kind: string; days: number }[];
  };
  assert.equal(c.repositories[0]!.sftp_command, undefined);
  assert.match(c.repositories[1]!.sftp_command ?? '', /^ssh .*-i \/root\/\.ssh\/ferry-migrate-shop-backup .* -s sftp$/);
  assert.match(c.repositories[1]!.url, /^sftp:root@203\.0\.113\.20:\/srv\/restic\/shop$/);
  assert.deepEqual(
    c.retention.map((r) => `${r.kind} ${r.days}`),
    ['postgres 30', 'mysql 21', 'redis 14', 'volume 7', 'path 7', 'release 20', 'manifest 30'],
  );
});

test('the files: runner executable, configuration readable by root only, units world-readable', () => {
  assert.deepEqual(
    scheduleFiles(input).map((f) => [f.path, f.mode.toString(8)]),
    [
      ['/usr/local/lib/ferry/backup-run', '755'],
      ['/etc/ferry/backup/shop.json', '600'],
      ['/etc/systemd/system/ferry-backup-shop.service', '644'],
      ['/etc/systemd/system/ferry-backup-shop.timer', '644'],
      ['/etc/systemd/system/ferry-drill-shop.service', '644'],
      ['/etc/systemd/system/ferry-drill-shop.timer', '644'],
    ],
  );
  assert.deepEqual(scheduleFiles({ ...input, calendars: {} }), [], 'no calendar, no file');
  assert.deepEqual(
    scheduleFiles({ ...input, calendars: { drill: 'weekly' } }).map((f) => f.path.split('/').pop()),
    ['backup-run', 'shop.json', 'ferry-drill-shop.service', 'ferry-drill-shop.timer'],
    'drills scheduled, backups by hand',
  );
});

test("the runner's drill metrics file is the one `ferry backup drill` writes", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-runner-drill-'));
  const runner = join(dir, 'backup-run');
  writeFileSync(runner, renderRunner());
  for (const ok of [true, false]) {
    const r = bash(`. ${runner} && stack=shop && drill_metrics offsite 1700000000 ${ok ? 1 : 0}`, {
      FERRY_TEXTFILE_DIR: dir,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      readFileSync(join(dir, 'ferry_drill_shop_offsite.prom'), 'utf8'),
      renderDrillMetrics({ stack: 'shop', repository: 'offsite', at: 1700000000, ok }),
    );
  }
});

test('a check schedule: its own units starting the runner in check mode, and the share it reads in the configuration', () => {
  const checked = { ...input, calendars: { check: 'daily' }, checkRead: '2.5%' };
  const files = scheduleFiles(checked);
  assert.deepEqual(
    files.map((f) => f.path.split('/').pop()),
    ['backup-run', 'shop.json', 'ferry-check-shop.service', 'ferry-check-shop.timer'],
  );
  assert.match(files[2]!.content, /^ExecStart=\/usr\/local\/lib\/ferry\/backup-run shop check$/m);
  assert.match(files[3]!.content, /^OnCalendar=daily$/m);
  assert.equal((JSON.parse(renderRunnerConfig(checked)) as { check_read?: string }).check_read, '2.5%');
  assert.equal((JSON.parse(renderRunnerConfig(input)) as { check_read?: string }).check_read, undefined);
  assert.equal(
    (JSON.parse(renderRunnerConfig({ ...checked, checkRead: undefined } as ScheduleInput)) as { check_read?: string })
      .check_read,
    '10%',
  );
});

test("a REST repository's server is in the configuration, for the runner to try its port first; its credentials are not", () => {
  const rest = {
    name: 'vault',
    stack: 'shop',
    url: 'rest:https://backup.example.com/shop/',
    file: { path: '/etc/ferry/backup/shop.repo-vault', holds: 'url' as const },
  };
  const c = JSON.parse(renderRunnerConfig({ ...input, repos: [rest] })) as { repositories: Record<string, unknown>[] };
  assert.deepEqual(c.repositories[0], {
    name: 'vault',
    url: 'rest:https://backup.example.com/shop/',
    repository_file: '/etc/ferry/backup/shop.repo-vault',
    reach_host: 'backup.example.com',
    reach_port: 443,
  });
});

test("a bucket's keys file and region are in the runner's environment for restic, its keys are not in the configuration", () => {
  const bucket = repoAccess(
    'shop',
    {
      name: 'b2',
      s3: {
        url: 'https://s3.eu-central-003.backblazeb2.com/shop-backups/app',
        accessKeyId: { env: 'K' },
        secretAccessKey: { env: 'S' },
        region: 'eu-central-003',
      },
    },
    app,
    { app },
    new Secret('[default]\naws_access_key_id = canary-id\naws_secret_access_key = canary-secret\n'),
  );
  const text = renderRunnerConfig({ ...input, repos: [bucket] });
  assert.doesNotMatch(text, /canary/);
  assert.deepEqual((JSON.parse(text) as { repositories: Record<string, unknown>[] }).repositories[0], {
    name: 'b2',
    url: 's3:https://s3.eu-central-003.backblazeb2.com/shop-backups/app',
    env: ['AWS_SHARED_CREDENTIALS_FILE=/etc/ferry/backup/shop.repo-b2', 'AWS_DEFAULT_REGION=eu-central-003'],
    reach_host: 's3.eu-central-003.backblazeb2.com',
    reach_port: 443,
  });
  assert.equal(
    render(restic(bucket, 'snapshots')),
    'env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password AWS_SHARED_CREDENTIALS_FILE=/etc/ferry/backup/shop.repo-b2 AWS_DEFAULT_REGION=eu-central-003 restic -r s3:https://s3.eu-central-003.backblazeb2.com/shop-backups/app snapshots',
  );
});

test('a kind on a calendar of its own: a service and a timer of its own, whose run backs up that kind', () => {
  const files = scheduleFiles({ ...input, calendars: { backup: 'daily', 'backup.postgres': 'hourly' } });
  assert.deepEqual(
    files.map((f) => f.path.split('/').pop()),
    [
      'backup-run',
      'shop.json',
      'ferry-backup-shop.service',
      'ferry-backup-shop.timer',
      'ferry-backup-shop.postgres.service',
      'ferry-backup-shop.postgres.timer',
    ],
  );
  assert.match(files[4]!.content, /^ExecStart=\/usr\/local\/lib\/ferry\/backup-run shop run postgres$/m);
  assert.match(files[5]!.content, /^OnCalendar=hourly$/m);
});

/** The runner sourced with the test configuration, `only` set, then `script`. */
function withRunner(script: string, only: string) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-runner-carry-'));
  const runner = join(dir, 'backup-run');
  writeFileSync(runner, renderRunner());
  writeFileSync(join(dir, 'shop.json'), renderRunnerConfig(input));
  return bash(`. ${runner} && stack=shop config=${dir}/shop.json only=${only} && ${script}`);
}

const PREV = JSON.stringify({
  at: '2026-12-01T03:00:00.000Z',
  postgres: [{ service: 'db', snapshot: 'p1', tables: [] }],
  mysql: [{ service: 'legacy', snapshot: 'm1', at: '2026-11-30T03:00:00.000Z' }],
  redis: [{ service: 'cache', snapshot: 'r1' }],
  volumes: [{ name: 'uploads', snapshot: 'v1' }],
  paths: [{ name: './media', snapshot: 'd1' }],
  release: { name: 'r-7', snapshot: 'x1' },
});

test("a kind's run carries the other kinds over from a manifest that has every source, each entry with the time it was backed up", () => {
  const ok = withRunner(`carries '${PREV}' && echo carries`, 'postgres');
  assert.equal(ok.stdout.trim(), 'carries', ok.stderr);
  const lacking = JSON.parse(PREV) as { redis: unknown[] };
  lacking.redis = [];
  const no = withRunner(`carries '${JSON.stringify(lacking)}' || echo lacks`, 'postgres');
  assert.equal(no.stdout.trim(), 'lacks', 'a Redis service the manifest does not have: every kind runs');
  const own = withRunner(`carries '${JSON.stringify(lacking)}' && echo carries`, 'redis');
  assert.equal(own.stdout.trim(), 'carries', 'the kind the run backs up need not be in it');
  const noRelease = JSON.parse(PREV) as { release?: unknown };
  delete noRelease.release;
  assert.equal(withRunner(`carries '${JSON.stringify(noRelease)}' || echo lacks`, 'postgres').stdout.trim(), 'lacks');
  const f = join(mkdtempSync(join(tmpdir(), 'ferry-carry-')), 'out');
  const carried = withRunner(
    `carry mysql '${PREV}' ${f} && carry redis '${PREV}' ${f} && carry release '${PREV}' ${f}`,
    'postgres',
  );
  assert.equal(carried.status, 0, carried.stderr);
  assert.deepEqual(
    readFileSync(f, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [
      { service: 'legacy', snapshot: 'm1', at: '2026-11-30T03:00:00.000Z' },
      { service: 'cache', snapshot: 'r1', at: '2026-12-01T03:00:00.000Z' },
      { name: 'r-7', snapshot: 'x1', at: '2026-12-01T03:00:00.000Z' },
    ],
    'an entry keeps the time it was first backed up',
  );
});
