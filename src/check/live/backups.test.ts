import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyFacts, type HostFacts } from '../../inventory/live/facts.js';
import { parseBackupMetrics } from '../../inventory/live/probes/backups.js';
import { renderBackupMetrics, renderDrillMetrics } from '../../backup/metrics.js';
import { DEFAULT_RETENTION, type BackupDef } from '../../model/backup.js';
import { fleet, project, server, service, stack } from '../test-helpers/make.js';
import { backupAge } from './backups.js';

const NOW = '2026-12-03T08:00:00Z';
const at = (hoursAgo: number): number => Math.floor(Date.parse(NOW) / 1000) - hoursAgo * 3600;
const backups = (over: Partial<BackupDef> = {}): BackupDef => ({
  repositories: [
    { name: 'local', path: '/var/backups/shop' },
    { name: 'offsite', server: 'vault', path: '/srv/shop' },
  ],
  retention: DEFAULT_RETENTION,
  ...over,
});
const shop = (def: BackupDef) =>
  fleet(
    [
      stack('shop', project([service('db', { image: 'postgres:16' })], { name: 'shop' }), {
        server: 'app',
        backups: def,
      }),
    ],
    [server('app')],
  );
const facts = (over: Partial<HostFacts['backups']>): HostFacts => ({
  ...emptyFacts('app', '203.0.113.10', NOW),
  backups: { runs: [], drills: [], schedules: {}, drillSchedules: {}, checkSchedules: {}, ...over },
});
const daily = {
  timer: 'active',
  next: '2026-12-04T03:00:00Z',
  lastResult: 'success',
  lastExit: '2026-12-03T03:00:20Z',
  intervalMs: 24 * 3600_000,
};
/** A good run into each repository, `hoursAgo`. */
const goodRuns = (hoursAgo: number) =>
  ['local', 'offsite'].map((repository) => ({
    stack: 'shop',
    repository,
    lastRun: at(hoursAgo),
    ok: true,
    lastSuccess: at(hoursAgo),
  }));
const messages = (def: BackupDef, f: HostFacts) =>
  backupAge(shop(def), new Map([['app', f]])).map((x) => `${x.severity} ${x.message}`);

test('the metrics files as the probe reads them: one run per stack and repository', () => {
  const text =
    renderBackupMetrics({ stack: 'shop', repository: 'local', lastRun: 200, ok: false, lastSuccess: 100 }) +
    renderBackupMetrics({ stack: 'shop', repository: 'offsite', lastRun: 300, ok: true, lastSuccess: 300 }) +
    renderBackupMetrics({ stack: 'blog', repository: 'local', lastRun: 50, ok: false });
  const drill = renderDrillMetrics({ stack: 'shop', repository: 'offsite', at: 400, ok: false });
  assert.deepEqual(parseBackupMetrics(text + drill), {
    runs: [
      { stack: 'shop', repository: 'local', lastRun: 200, ok: false, lastSuccess: 100 },
      { stack: 'shop', repository: 'offsite', lastRun: 300, ok: true, lastSuccess: 300 },
      { stack: 'blog', repository: 'local', lastRun: 50, ok: false },
    ],
    drills: [{ stack: 'shop', repository: 'offsite', at: 400, ok: false }],
  });
});

test('a scheduled stack backed up within its schedule: nothing to say', () => {
  const runs = goodRuns(5);
  assert.deepEqual(messages(backups({ schedule: 'daily' }), facts({ runs, schedules: { shop: daily } })), []);
});

test('no good backup, a failed last run, a schedule without its timer, an overdue backup', () => {
  const runs = [{ stack: 'shop', repository: 'local', lastRun: at(1), ok: false, lastSuccess: at(30) }];
  assert.deepEqual(messages(backups({ schedule: 'daily' }), facts({ runs })), [
    'warning the last backup run of shop into local on app failed (2026-12-03T07:00Z); the last good one is 30 h old',
    'warning app records no good backup of shop into offsite',
    'error backups.schedule of shop is "daily", but app has no backup timer for it: no backup runs by itself',
  ]);
  const overdue = messages(backups({ schedule: 'daily' }), facts({ runs, schedules: { shop: daily } }));
  assert.match(
    overdue[2] ?? '',
    /^error backups of shop on app: overdue: the last good backup is 30 h old, more than the schedule allows \(26 h\)$/,
  );
  const stopped = messages(
    backups({ schedule: 'daily' }),
    facts({ runs, schedules: { shop: { ...daily, timer: 'inactive' } } }),
  );
  assert.match(stopped[2] ?? '', /^error backups of shop on app: the timer is inactive/);
});

test('no schedule: a last good backup older than 26 h is a warning that names the window', () => {
  const runs = goodRuns(40);
  assert.deepEqual(messages(backups(), facts({ runs })), [
    'warning shop has no backup schedule, and its last good backup is 40 h old: that much data would be lost',
  ]);
  const fresh = runs.map((r) => ({ ...r, lastRun: at(2), lastSuccess: at(2) }));
  assert.deepEqual(messages(backups(), facts({ runs: fresh })), []);
});

test('a failed drill is an error; a drill schedule without an active timer too', () => {
  const runs = goodRuns(5);
  const drills = [
    { stack: 'shop', repository: 'local', at: at(3), ok: true },
    { stack: 'shop', repository: 'offsite', at: at(2), ok: false },
  ];
  assert.deepEqual(messages(backups({ drill: 'weekly' }), facts({ runs, drills })), [
    'error the last restore drill of shop from offsite on app failed (2026-12-03T06:00Z): its backups may not restore',
    'error backups.drill of shop is "weekly", but app has no drill timer: no drill runs by itself',
  ]);
  const good = drills.map((d) => ({ ...d, ok: true }));
  assert.deepEqual(
    messages(backups({ drill: 'weekly' }), facts({ runs, drills: good, drillSchedules: { shop: daily } })),
    [],
  );
});

test('a check schedule without an active timer is an error; so is a last scheduled check that failed', () => {
  const runs = goodRuns(5);
  assert.deepEqual(messages(backups({ check: 'daily' }), facts({ runs })), [
    'error backups.check of shop is "daily", but app has no check timer: no repository check runs by itself',
  ]);
  const failed = { ...daily, lastResult: 'exit-code', lastExit: '2026-12-03T04:00:00Z' };
  assert.deepEqual(messages(backups({ check: 'daily' }), facts({ runs, checkSchedules: { shop: failed } })), [
    "error the last scheduled check of shop's repositories on app failed (exit-code, 2026-12-03T04:00Z): a repository may be damaged",
  ]);
  assert.deepEqual(messages(backups({ check: 'daily' }), facts({ runs, checkSchedules: { shop: daily } })), []);
});

test("a kind on a schedule of its own: its timer missing, then its last scheduled run failed, are errors naming the kind's key", () => {
  const def = backups({ schedule: 'daily', kindSchedules: { postgres: 'hourly' } });
  const runs = goodRuns(2);
  assert.deepEqual(messages(def, facts({ runs, schedules: { shop: daily } })), [
    'error backups.schedule.postgres of shop is "hourly", but on app its timer says: the timer is missing: no scheduled backup will run',
  ]);
  const hourly = { ...daily, intervalMs: 3600_000, lastResult: 'exit-code', lastExit: '2026-12-03T07:00:10Z' };
  const failed = backupAge(
    shop(def),
    new Map([['app', facts({ runs, schedules: { shop: daily, 'shop.postgres': hourly } })]]),
  );
  assert.deepEqual(
    failed.map((f) => [f.message, f.where?.path]),
    [
      [
        'backups.schedule.postgres of shop is "hourly", but on app its timer says: the last scheduled run failed (exit-code, 2026-12-03T07:00Z)',
        'stacks/shop/backups/schedule/postgres',
      ],
    ],
  );
  assert.deepEqual(
    messages(def, facts({ runs, schedules: { shop: daily, 'shop.postgres': { ...hourly, lastResult: 'success' } } })),
    [],
  );
});
