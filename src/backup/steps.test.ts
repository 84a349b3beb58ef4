import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Secret } from '../core/secret.js';
import { StepError } from '../engine/errors.js';
import { drive, testContext } from '../engine/test-helpers.js';
import { RecordingTransport } from '../transport/recording.js';
import { repoAccess, restUrlWith } from './repos.js';
import { backupSteps, type BackupPlanInput } from './steps.js';
import { keptDays } from '../model/backup.js';
import { scheduleStep } from './schedule-step.js';
import { scheduleFiles, type ScheduleInput } from './schedule.js';
import { makePlan } from '../engine/plan.js';

const app = { name: 'app', host: '203.0.113.10' };
const vault = { name: 'vault', host: '203.0.113.20' };
const PASSWORD = 'correct horse battery staple';
const input: BackupPlanInput = {
  stack: 'shop',
  server: 'app',
  sudo: false,
  password: new Secret(PASSWORD),
  repos: [
    repoAccess('shop', { name: 'here', path: '/var/backups/shop' }, app, { app, vault }),
    repoAccess('shop', { name: 'offsite', server: 'vault', path: '/srv/restic/shop' }, app, { app, vault }),
  ],
  sources: { project: 'shop', postgres: [], mysql: [], redis: [], volumes: [], paths: [], release: false },
  run: 'R1',
  retention: { postgres: 30, mysql: 21, redis: 14, volumes: 7, paths: 7, release: 20 },
  calendars: {},
};
const steps = backupSteps(input);
const step = (id: string) => steps.find((s) => s.id === id)!;
const PROBE = 'env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password restic -r /var/backups/shop cat config';
const INIT = 'env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password restic -r /var/backups/shop init';

test('the plan: restic and the password first, the SFTP repository behind its key, each run behind its repository', () => {
  assert.deepEqual(
    steps.map((s) => [s.id, s.dependsOn]),
    [
      ['shop/backup/restic', []],
      ['shop/backup/password', []],
      ['shop/backup/repository/here', ['shop/backup/restic', 'shop/backup/password']],
      ['shop/backup/run/here', ['shop/backup/repository/here']],
      ['shop/backup/retention/here', ['shop/backup/run/here']],
      ['shop/backup/channel/offsite', []],
      ['shop/backup/repository/offsite', ['shop/backup/restic', 'shop/backup/password', 'shop/backup/channel/offsite']],
      ['shop/backup/run/offsite', ['shop/backup/repository/offsite', 'shop/backup/run/here']],
      ['shop/backup/retention/offsite', ['shop/backup/run/offsite']],
      ['shop/backup/schedule', ['shop/backup/repository/here', 'shop/backup/repository/offsite']],
    ],
  );
  assert.deepEqual(step('shop/backup/run/offsite').reaches, ['vault']);
});

test('the password goes to a mode-600 file as a secret, never on a command line; written again only when it differs', async () => {
  const t = new RecordingTransport('app')
    .when('sha256sum /etc/ferry/backup/shop.password', { code: 1, stderr: 'No such file' }, { times: 1 })
    .when('install -d -m 700 /etc/ferry/backup', {})
    .when('sha256sum /etc/ferry/backup/shop.password', {
      stdout: `${createHash('sha256').update(PASSWORD).digest('hex')}  /etc/ferry/backup/shop.password\n`,
    });
  const { checked, verified } = await drive(step('shop/backup/password'), testContext(t));
  assert.equal(checked.needed, true);
  assert.deepEqual(verified, { ok: true });
  const upload = t.calls.find((c) => c.kind === 'upload');
  assert.ok(upload?.kind === 'upload' && upload.content instanceof Secret && upload.mode === 0o600);
  assert.equal(JSON.stringify(t.calls).includes(PASSWORD), false);
  const again = await drive(step('shop/backup/password'), testContext(t));
  assert.equal(again.checked.needed, false);
});

test('a missing repository (exit 10) is created; a wrong password (exit 12) fails the check with its code', async () => {
  const t = new RecordingTransport('app')
    .when(PROBE, { code: 10, stderr: 'Fatal: repository does not exist: unable to open config file\n' }, { times: 1 })
    .when(INIT, { stdout: 'created restic repository 1a2b at /var/backups/shop\n' })
    .when(PROBE, { stdout: '{"version":2}' });
  const { checked, verified } = await drive(step('shop/backup/repository/here'), testContext(t));
  assert.deepEqual(checked.change, { summary: 'restic init /var/backups/shop' });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(
    t.calls.map((c) => (c.kind === 'exec' ? c.line : c.kind)),
    [PROBE, INIT, PROBE],
  );
  const wrong = new RecordingTransport('app').when(PROBE, {
    code: 12,
    stderr: 'Fatal: wrong password or no key found\n',
  });
  await assert.rejects(
    drive(step('shop/backup/repository/here'), testContext(wrong)),
    (e: unknown) =>
      e instanceof StepError &&
      e.code === 'backup-wrong-password' &&
      e.message.startsWith('app: opening repository here'),
  );
});

test('restic missing is installed with apt-get; present, nothing is done', async () => {
  const present = new RecordingTransport('app').when(/command -v restic/, {
    stdout: '/usr/bin/restic\nrestic 0.18.0\n',
  });
  assert.equal((await drive(step('shop/backup/restic'), testContext(present))).checked.needed, false);
  const failing = new RecordingTransport('app')
    .when(/command -v restic/, { code: 1 })
    .when(/apt-get install/, { code: 100, stderr: 'E: Unable to locate package restic\n' });
  await assert.rejects(
    drive(step('shop/backup/restic'), testContext(failing)),
    (e: unknown) => e instanceof StepError && e.code === 'restic-install-failed' && e.place === 'host app',
  );
});

test('retention forgets each kind past its days (the manifest as long as the longest), prunes, and then finds nothing more', async () => {
  assert.deepEqual(keptDays(input.retention), [
    ['postgres', 30],
    ['mysql', 21],
    ['redis', 14],
    ['volume', 7],
    ['path', 7],
    ['release', 20],
    ['manifest', 30],
  ]);
  const forget = (kind: string, days: number, dry: boolean) =>
    `env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password restic -r /var/backups/shop forget --json --tag ferry,stack=shop,kind=${kind} --keep-within ${days}d${kind === 'release' ? ' --group-by host' : ''}${dry ? ' --dry-run' : ''}`;
  const groups = (remove: number) =>
    JSON.stringify([
      {
        host: 'shop',
        paths: ['/postgres-db.sql'],
        keep: [{ id: 'k' }],
        remove: remove ? Array(remove).fill({ id: 'r' }) : null,
      },
    ]);
  const t = new RecordingTransport('app')
    .when(forget('postgres', 30, true), { stdout: `${groups(2)}\n` }, { times: 1 })
    .when(/forget .* --dry-run$/, { stdout: `${groups(0)}\n` })
    .when(/forget --json --tag \S+ --keep-within \d+d( --group-by host)?$/, { stdout: `${groups(0)}\n` })
    .when(/restic -r \/var\/backups\/shop prune$/, { stdout: 'done\n' });
  const { checked, verified } = await drive(step('shop/backup/retention/here'), testContext(t));
  assert.deepEqual(checked.change, { summary: 'forget 2 snapshot(s) past retention, then prune' });
  assert.deepEqual(verified, { ok: true });
  const lines = t.calls.flatMap((c) => (c.kind === 'exec' ? [c.line] : []));
  assert.deepEqual(lines.slice(7, 15), [
    forget('postgres', 30, false),
    forget('mysql', 21, false),
    forget('redis', 14, false),
    forget('volume', 7, false),
    forget('path', 7, false),
    forget('release', 20, false),
    forget('manifest', 30, false),
    'env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password restic -r /var/backups/shop prune',
  ]);
});

test('no schedule: nothing to do while no timer is there; a timer left behind is removed', async () => {
  const none = new RecordingTransport('app').when(/systemctl is-enabled/, {
    stdout: 'jq\ntimer backup /inactive\ntimer drill /inactive\n',
  });
  assert.equal((await drive(step('shop/backup/schedule'), testContext(none))).checked.needed, false);
  const left = new RecordingTransport('app')
    .when(
      /systemctl is-enabled/,
      { stdout: 'jq\ntimer backup enabled/active\nunit backup\ntimer drill /inactive\n' },
      {
        times: 1,
      },
    )
    .when(/systemctl disable --now/, {})
    .when(/rm -f/, {})
    .when(/daemon-reload/, {})
    .when(/systemctl is-enabled/, { stdout: 'jq\ntimer backup /inactive\ntimer drill /inactive\n' });
  const { checked, verified } = await drive(step('shop/backup/schedule'), testContext(left));
  assert.match(checked.change?.summary ?? '', /^remove the timer ferry-backup-shop\.timer \(no schedule configured\)$/);
  assert.equal(
    left.calls.some((c) => c.kind === 'exec' && /ferry-drill-shop/.test(c.line) && /disable/.test(c.line)),
    false,
    'no drill timer was there: none is removed',
  );
  assert.deepEqual(verified, { ok: true });
});

test('a schedule systemd refuses fails the check with backup-schedule-invalid at its key, before anything is written', async () => {
  const steps = backupSteps({ ...input, calendars: { backup: 'every tuesday' } });
  const t = new RecordingTransport('app').when(/systemd-analyze calendar/, {
    code: 1,
    stderr: "Failed to parse calendar specification 'every tuesday': Invalid argument\n",
  });
  await assert.rejects(
    drive(
      steps.find((s) => s.id === 'shop/backup/schedule')!,
      testContext(t),
    ),
    (e: unknown) =>
      e instanceof StepError &&
      e.code === 'backup-schedule-invalid' &&
      e.place === 'stacks/shop/backups/schedule' &&
      /Invalid argument/.test(e.message),
  );
  assert.equal(
    t.calls.some((c) => c.kind === 'upload'),
    false,
  );
});

test('refresh only (ferry apply): a server where no schedule was installed is left alone, without a calendar check', async () => {
  const refresh = scheduleStep({
    ...input,
    server: 'app',
    calendars: { backup: 'daily' },
    dependsOn: [],
    refreshOnly: true,
  });
  const t = new RecordingTransport('app').when(/systemctl is-enabled/, {
    stdout: 'jq\ntimer backup /inactive\ntimer drill /inactive\n',
  });
  assert.equal((await drive(refresh, testContext(t))).checked.needed, false);
  assert.equal(
    t.calls.some((c) => c.kind === 'exec' && /systemd-analyze/.test(c.line)),
    false,
  );
});

test('refresh only runs in the last phase, after every deploy step of the stack (a deploy ends in verify)', () => {
  const refresh = scheduleStep({
    ...input,
    server: 'app',
    calendars: {},
    dependsOn: ['shop/prune'],
    refreshOnly: true,
  });
  const prune = { ...step('shop/backup/restic'), id: 'shop/prune', phase: 'verify' as const };
  assert.equal(refresh.phase, 'verify');
  assert.doesNotThrow(() => makePlan([prune, refresh]));
});

test('a REST repository with credentials: restic reads its URL from a mode-600 file, written first; no credential on any line', async () => {
  const url = restUrlWith('https://vault.example.com:8000/shop/', 'shop', 'p@ss:w/rd CANARY');
  assert.equal(url, 'rest:https://shop:p%40ss%3Aw%2Frd%20CANARY@vault.example.com:8000/shop/');
  const rest = repoAccess(
    'shop',
    { name: 'vault', rest: { url: 'https://vault.example.com:8000/shop/', user: 'shop', password: { env: 'PW' } } },
    app,
    { app, vault },
    new Secret(url),
  );
  // Where the password was not read (the schedule kept in step by `ferry apply`), the file is still restic's way in.
  const named = repoAccess('shop', { name: 'vault', rest: { url: 'https://v/', user: 'shop' } }, app, { app, vault });
  assert.deepEqual(named.file, { path: '/etc/ferry/backup/shop.repo-vault', holds: 'url' });
  const plan = backupSteps({ ...input, repos: [rest] });
  const file = plan.find((s) => s.id === 'shop/backup/repository-file/vault')!;
  assert.deepEqual(plan.find((s) => s.id === 'shop/backup/repository/vault')?.dependsOn, [
    'shop/backup/restic',
    'shop/backup/password',
    'shop/backup/repository-file/vault',
  ]);
  const t = new RecordingTransport('app')
    .when('sha256sum /etc/ferry/backup/shop.repo-vault', { code: 1 }, { times: 1 })
    .when('install -d -m 700 /etc/ferry/backup', {})
    .when('sha256sum /etc/ferry/backup/shop.repo-vault', {
      stdout: `${createHash('sha256').update(url).digest('hex')}  /etc/ferry/backup/shop.repo-vault\n`,
    });
  const { verified } = await drive(file, testContext(t));
  assert.deepEqual(verified, { ok: true });
  const upload = t.calls.find((c) => c.kind === 'upload');
  assert.ok(upload?.kind === 'upload' && upload.content instanceof Secret && upload.mode === 0o600);
  const probe = new RecordingTransport('app').when(/./, {});
  await plan.find((s) => s.id === 'shop/backup/repository/vault')!.check(testContext(probe));
  assert.deepEqual(probe.lines, [
    `timeout 10 bash -c 'exec 3<>"/dev/tcp/$1/$2"' ferry-reach vault.example.com 8000`,
    'env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password restic --repository-file /etc/ferry/backup/shop.repo-vault cat config',
  ]);
  // A server that does not answer: said at once, before restic would retry it for minutes.
  const down = new RecordingTransport('app').when(/ferry-reach/, { code: 1 });
  await assert.rejects(
    plan.find((s) => s.id === 'shop/backup/repository/vault')!.check(testContext(down)),
    (e: StepError) =>
      e.code === 'backup-repository-unreachable' &&
      /vault\.example\.com:8000/.test(e.message) &&
      down.lines.length === 1,
  );
  const shown = JSON.stringify([plan.map((s) => [s.title, s.doc?.()]), t.calls, probe.calls]);
  assert.equal(shown.includes('CANARY'), false);
  assert.equal(shown.includes('p%40ss'), false);
});

test('a kind on a calendar of its own: settled when its timer runs too (a second run changes nothing); removed when taken out', async () => {
  const volumes = { ...input.sources, volumes: [{ name: 'uploads', docker: 'shop_uploads' }] };
  const i = { ...input, sources: volumes, calendars: { backup: 'daily', 'backup.volumes': 'hourly' } };
  const sums = scheduleFiles(i)
    .map((f) => `sum ${createHash('sha256').update(f.content).digest('hex')} ${f.path}`)
    .join('\n');
  const state = (kind: string) =>
    new RecordingTransport('app').when(/systemd-analyze calendar/, {}).when(/systemctl is-enabled/, {
      stdout: `${sums}\njq\ntimer backup enabled/active\nunit backup\ntimer backup.volumes ${kind}\nunit backup.volumes\ntimer drill /inactive\nconfig\n`,
    });
  const check = (calendars: ScheduleInput['calendars'], t: RecordingTransport) =>
    scheduleStep({ ...i, calendars, dependsOn: [] }).check(testContext(t));
  assert.equal((await check(i.calendars, state('enabled/active'))).needed, false, 'a second run changes nothing');
  assert.match(
    (await check(i.calendars, state('enabled/inactive'))).change?.summary ?? '',
    /timer ferry-backup-shop\.volumes\.timer enabled and started \(OnCalendar=hourly\)/,
  );
  assert.match(
    (await check({ backup: 'daily' }, state('enabled/active'))).change?.summary ?? '',
    /remove the timer ferry-backup-shop\.volumes\.timer \(no schedule\/volumes configured\)/,
  );
});

test('a kind on a calendar of its own that the stack has no source of is refused at its key, before anything is written', async () => {
  const t = new RecordingTransport('app');
  await assert.rejects(
    drive(
      scheduleStep({ ...input, calendars: { backup: 'daily', 'backup.postgres': 'hourly' }, dependsOn: [] }),
      testContext(t),
    ),
    (e: unknown) =>
      e instanceof StepError &&
      e.code === 'backup-schedule-invalid' &&
      e.place === 'stacks/shop/backups/schedule/postgres' &&
      /back up no postgres/.test(e.message),
  );
  assert.equal(
    t.calls.some((c) => c.kind === 'upload'),
    false,
  );
});
