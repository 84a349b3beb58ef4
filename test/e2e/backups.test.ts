/**
 * Backups on the test bed: a stack with Postgres (a password), Redis (requirepass) and a
 * named volume on bk1 is backed up with restic to a repository on bk1 and to one on bk2
 * over SFTP; a drill restores each into scratch containers and proves every row, key and
 * file; a wrong password and an unreachable repository fail with their codes, the host and
 * a hint; a corrupted pack fails the drill with `backup-corrupt`; the passwords appear in
 * no output, no journal and no process list on either host.
 *
 * ferry-test-lane: side (bk1 and bk2 are fresh hosts of its own, scripts/testbed/fresh.mjs),
 * so it runs beside the suites that share the test bed's hosts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFreshHost, removeFreshHost } from '../../scripts/testbed/fresh.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import {
  containerOf,
  loadImages,
  onHost,
  testbedIsUp,
  watchProcesses,
  type TestbedHost,
  serverLine,
} from './helpers.js';
import { FILES_SERVICE, PG_SERVICE } from './backup-compose.js';

const STACK = 'tbbackup';
/** The fresh hosts: the stack's server, and the off-site repository's. */
const [BK1, BK2] = ['bk1', 'bk2'];
const DB_CANARY = 'canary-db-7d3a91fe';
const REDIS_CANARY = 'canary-redis-2b8c5e10';
const RESTIC_CANARY = 'canary-restic-9f41c6ad';
const CANARIES = [DB_CANARY, REDIS_CANARY, RESTIC_CANARY];
const LOCAL_REPO = `/var/backups/ferry-${STACK}`;
const REMOTE_REPO = `/var/backups/ferry-${STACK}-offsite`;
const TIMER = `ferry-backup-${STACK}.timer`;
const SERVICE = `ferry-backup-${STACK}.service`;
const DRILL_TIMER = `ferry-drill-${STACK}.timer`;
const DRILL_SERVICE = `ferry-drill-${STACK}.service`;
const ROWS = 1000;
const KEYS = 50;

const COMPOSE = `services:
${PG_SERVICE}  cache:
    image: ferry-tb-redis:1
    command: redis-server --requirepass \${REDIS_PASSWORD}
    volumes: [cache-data:/data]
    restart: unless-stopped
    mem_limit: 128m
${FILES_SERVICE}volumes:
  db-data: {}
  cache-data: {}
  uploads: {}
`;

function clean(h1: TestbedHost, h2: TestbedHost): void {
  onHost(
    h1,
    `ids=$(docker ps -aq --filter label=com.docker.compose.project=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
      `ids=$(docker ps -aq --filter label=ferry-drill=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
      `docker volume rm ${STACK}_db-data ${STACK}_cache-data ${STACK}_uploads >/dev/null 2>&1; ` +
      `rm -rf /srv/ferry/${STACK} /var/lib/ferry/locks/${STACK}.lock ${LOCAL_REPO} /etc/ferry/backup/${STACK}.password /var/tmp/ferry-drill-${STACK} /var/lib/ferry/textfile/ferry_backup_${STACK}_*.prom ` +
      `/root/.ssh/ferry-migrate-${STACK}-backup /root/.ssh/ferry-migrate-${STACK}-backup.pub /root/.ssh/ferry-migrate-${STACK}-backup.known_hosts /root/.cache/restic; ` +
      `systemctl disable --now ${TIMER} ${DRILL_TIMER} >/dev/null 2>&1; systemctl reset-failed ${SERVICE} ${DRILL_SERVICE} >/dev/null 2>&1; rm -f /etc/systemd/system/ferry-backup-${STACK}.* /etc/systemd/system/ferry-drill-${STACK}.* /var/lib/ferry/textfile/ferry_drill_${STACK}_*.prom /etc/ferry/backup/${STACK}.json /etc/ferry/backup/${STACK}.redis-*.auth; systemctl daemon-reload; true`,
  );
  onHost(h2, `rm -rf ${REMOTE_REPO}; sed -i '/ ferry-migrate-${STACK}-backup$/d' /root/.ssh/authorized_keys; true`);
}

/** ssh's arguments to run `line` on a host as root. */
const sshTo = (h: TestbedHost, line: string): string[] => [
  '-i',
  h.identityFile,
  '-o',
  `UserKnownHostsFile=${h.knownHostsFile}`,
  '-o',
  'BatchMode=yes',
  `root@${h.host}`,
  line,
];

/** The metrics file a run wrote on bk1 for monitoring, and its times. */
const metricsOf = (repository: string): string =>
  onHost(stackServer, `cat /var/lib/ferry/textfile/ferry_backup_${STACK}_${repository}.prom`);
/** bk1, once made. */
let stackServer: TestbedHost;
const metric = (text: string, name: string): number =>
  Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
const lastGood = (text: string) => metric(text, 'ferry_backup_last_success_timestamp_seconds');
const lastRun = (text: string) => metric(text, 'ferry_backup_last_run_timestamp_seconds');

/** What monitoring reads after a good run into `repository`: its success, as promtool accepts it. */
function metricsSayGood(repository: string): void {
  const m = metricsOf(repository);
  assert.match(
    m,
    new RegExp(`^ferry_backup_last_run_success\\{stack="${STACK}",repository="${repository}"\\} 1$`, 'm'),
  );
  assert.equal(lastGood(m), lastRun(m));
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: m, encoding: 'utf8' });
  if (!promtool.error || process.env.CI) assert.equal(promtool.status, 0, promtool.stdout + promtool.stderr);
}

/** A run with the stack's database stopped: it fails, and its metrics say so while keeping the last good run. */
async function sourceDownRun(h1: TestbedHost, run: (a: string[]) => Promise<Transcript>): Promise<void> {
  const before = metricsOf('local');
  onHost(h1, `docker stop ${containerOf(STACK, 'db')} >/dev/null`);
  try {
    const r = await run(['backup', 'run', STACK]);
    assert.equal(r.code, 1, r.err + r.out);
    assert.match(r.err, /error backup-source-failed: .*no running container of db/);
    const m = metricsOf('local');
    assert.match(m, new RegExp(`^ferry_backup_last_run_success\\{stack="${STACK}",repository="local"\\} 0$`, 'm'));
    assert.equal(lastGood(m), lastGood(before), 'the last good run is the one before');
    assert.ok(lastRun(m) >= lastRun(before));
  } finally {
    onHost(
      h1,
      `docker start $(docker ps -aq --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=db) >/dev/null && until docker exec ${containerOf(STACK, 'db')} pg_isready -q -h 127.0.0.1 -U shop -d shop; do sleep 0.5; done`,
    );
  }
}

/** compose.yml, .env (the canaries) and ferry.yml with backups to bk1 and bk2. */
function writeStack(dir: string, h1: TestbedHost, h2: TestbedHost, schedule?: string, drill?: string): void {
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(join(dir, '.env'), `POSTGRES_PASSWORD=${DB_CANARY}\nREDIS_PASSWORD=${REDIS_CANARY}\n`);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      serverLine(h1),
      serverLine(h2),
      'backups:',
      '  password: { env: FERRY_BACKUP_PASSWORD }',
      'stacks:',
      `  ${STACK}:`,
      `    server: ${h1.name}`,
      '    compose: compose.yml',
      `    project: ${STACK}`,
      '    deploy: { health_timeout: 60s }',
      '    backups:',
      '      repositories:',
      `        - { name: local, path: ${LOCAL_REPO} }`,
      `        - { name: offsite, server: ${h2.name}, path: ${REMOTE_REPO} }`,
      ...(schedule !== undefined ? [`      schedule: ${schedule}`] : []),
      ...(drill !== undefined ? [`      drill: ${drill}`] : []),
      '',
    ].join('\n'),
  );
}

/** 1,000 rows and an odd table name, 50 keys, 41 files. */
function fillData(h1: TestbedHost): void {
  onHost(
    h1,
    `until docker exec ${containerOf(STACK, 'db')} pg_isready -q -h 127.0.0.1 -U shop -d shop; do sleep 0.5; done; ` +
      `docker exec -i ${containerOf(STACK, 'db')} psql -q -v ON_ERROR_STOP=1 -U shop -d shop`,
    `CREATE TABLE items (id serial PRIMARY KEY, name text, price numeric);\n` +
      `INSERT INTO items (name, price) SELECT 'item ' || i, i * 1.5 FROM generate_series(1, ${ROWS}) i;\n` +
      `CREATE TABLE "odd name" (k text);\nINSERT INTO "odd name" VALUES ('a'), ('b'), (NULL);\n`,
  );
  onHost(
    h1,
    `c=${containerOf(STACK, 'cache')}; for i in $(seq 1 ${KEYS}); do echo "SET key:$i value-$i"; done | docker exec -i -e REDISCLI_AUTH=${REDIS_CANARY} $c redis-cli >/dev/null`,
  );
  onHost(
    h1,
    `cd "$(docker volume inspect --format '{{ .Mountpoint }}' ${STACK}_uploads)" && mkdir -p "a dir/deeper" && ` +
      `for i in $(seq 1 40); do printf "file %d\\n" $i > "a dir/deeper/f $i.txt"; done && head -c 3000000 /dev/urandom > big.bin`,
  );
}

/** A Postgres dump of the stack made `days` ago (restic's --time), straight into the local repository. */
const oldDump = (days: number): string =>
  `echo old | env RESTIC_PASSWORD_FILE=/etc/ferry/backup/${STACK}.password restic -r ${LOCAL_REPO} backup --quiet --stdin ` +
  `--stdin-filename postgres-db.sql --host ${STACK} --tag ferry --tag stack=${STACK} --tag run=old${days} --tag kind=postgres ` +
  `--tag source=db --time "$(date -u -d '-${days} days' '+%Y-%m-%d %H:%M:%S')"`;

/** The run tags of the stack's Postgres snapshots in the local repository. */
function postgresRuns(h1: TestbedHost): string[] {
  const list = onHost(
    h1,
    `env RESTIC_PASSWORD_FILE=/etc/ferry/backup/${STACK}.password restic -r ${LOCAL_REPO} snapshots --json --tag ferry,stack=${STACK},kind=postgres`,
  );
  return (JSON.parse(list) as { tags: string[] }[]).map((x) => x.tags.find((t) => t.startsWith('run=')) ?? '');
}

/** The stack deployed on bk1 with `ferry apply`, and its data written. */
async function deployStack(dir: string, h1: TestbedHost, h2: TestbedHost, run: (a: string[]) => Promise<Transcript>) {
  clean(h1, h2);
  loadImages(h1, ['ferry-tb-postgres:1', 'ferry-tb-redis:1', 'ferry-tb-app:1']);
  writeStack(dir, h1, h2);
  const applied = await run(['apply', STACK, '--yes']);
  assert.equal(applied.code, 0, applied.err + applied.out);
  fillData(h1);
}

/** The complete runs `ferry backup list` shows, as `repository run`. */
async function completeRuns(run: (a: string[]) => Promise<Transcript>): Promise<string[]> {
  const list = await run(['backup', 'list', STACK, '--json']);
  assert.equal(list.code, 0, list.err);
  return (JSON.parse(list.out).runs as { repository: string; run: string; complete: boolean }[])
    .filter((x) => x.complete)
    .map((x) => `${x.repository} ${x.run}`);
}

/** A scheduled service started on bk1 as its timer would; its exit code and its journal since. */
function startService(h1: TestbedHost, service = SERVICE): { code: number; journal: string } {
  const since = onHost(h1, 'date "+%Y-%m-%d %H:%M:%S"').trim();
  const code = spawnSync('ssh', sshTo(h1, `systemctl start ${service}`)).status;
  return { code: code ?? -1, journal: onHost(h1, `journalctl -u ${service} --since "${since}" --no-pager -o cat`) };
}

/** `schedule` in ferry.yml: `ferry backup run` puts the timer, its files and units on bk1; a second run changes none. */
async function scheduleInstalled(dir: string, h1: TestbedHost, h2: TestbedHost, run: Runner): Promise<void> {
  writeStack(dir, h1, h2, '"*-*-* 03:00"', 'weekly');
  const r = await run(['backup', 'run', STACK]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.err, /backup\/schedule \(backup schedule backup \*-\*-\* 03:00, drill weekly on bk1\): changed/);
  assert.equal(
    onHost(h1, `systemctl is-enabled ${TIMER} ${DRILL_TIMER}; systemctl is-active ${TIMER} ${DRILL_TIMER}`),
    'enabled\nenabled\nactive\nactive\n',
  );
  assert.match(onHost(h1, `systemctl show -p TimersCalendar ${TIMER}`), /OnCalendar=\*-\*-\* 03:00:00/);
  assert.equal(
    onHost(h1, `stat -c %a /etc/ferry/backup/${STACK}.json /etc/ferry/backup/${STACK}.redis-cache.auth`),
    '600\n600\n',
  );
  assert.equal(
    onHost(
      h1,
      `cd /etc/systemd/system && systemd-analyze verify ${SERVICE} ${TIMER} ${DRILL_SERVICE} ${DRILL_TIMER} && echo ok`,
    ).trim(),
    'ok',
  );
  const status = await run(['backup', 'status', STACK, '--json']);
  assert.equal(status.code, 0, status.err + status.out);
  assert.deepEqual(JSON.parse(status.out).schedules, [
    {
      stack: STACK,
      schedule: '*-*-* 03:00',
      timer: 'active',
      next: JSON.parse(status.out).schedules[0].next,
      interval_ms: 24 * 3600_000,
      drill: { calendar: 'weekly', timer: 'active', next: JSON.parse(status.out).schedules[0].drill.next },
    },
  ]);
  assert.match(JSON.parse(status.out).schedules[0].next, /T03:00:00Z$/);
  const again = await run(['backup', 'run', STACK]);
  assert.equal(again.code, 0, again.err);
  assert.match(again.err, /backup\/schedule \(backup schedule backup \*-\*-\* 03:00, drill weekly on bk1\): ok/);
}

/** `ferry apply` of the stack with a volume added: the installed schedule's configuration follows; then back. */
async function applyRefreshes(dir: string, h1: TestbedHost, run: Runner): Promise<void> {
  const volumes = () => onHost(h1, `jq -r '.volumes[].name' /etc/ferry/backup/${STACK}.json`).trim().split('\n');
  const withExports = COMPOSE.replace(
    'volumes: [uploads:/srv/uploads]',
    'volumes: [uploads:/srv/uploads, exports:/srv/exports]',
  ).replace('  uploads: {}\n', '  uploads: {}\n  exports: {}\n');
  assert.notEqual(withExports, COMPOSE);
  try {
    writeFileSync(join(dir, 'compose.yml'), withExports);
    const added = await run(['apply', STACK, '--yes']);
    assert.equal(added.code, 0, added.err + added.out);
    assert.match(added.err, /backup\/schedule \(backup schedule of tbbackup kept in step .*\): changed/);
    assert.deepEqual(volumes(), ['uploads', 'exports']);
  } finally {
    writeFileSync(join(dir, 'compose.yml'), COMPOSE);
    const back = await run(['apply', STACK, '--yes']);
    assert.equal(back.code, 0, back.err + back.out);
  }
  assert.deepEqual(volumes(), ['uploads']);
  const again = await run(['apply', STACK, '--yes']);
  assert.match(again.err, /backup\/schedule \(backup schedule of tbbackup kept in step .*\): ok/);
}

/** The timer's service, without Ferry: one new complete run in each repository, which a drill from each proves. */
async function scheduledRunProven(h1: TestbedHost, h2: TestbedHost, ctx: ReturnType<typeof ferryOn>): Promise<void> {
  const before = await completeRuns(ctx.run);
  const w = watchProcesses([h1, h2]);
  const started = startService(h1);
  ctx.processes.push(await w.stop());
  ctx.outputs.push(started.journal);
  assert.equal(started.code, 0, started.journal);
  const made = (await completeRuns(ctx.run)).filter((x) => !before.includes(x));
  assert.deepEqual(made.map((x) => x.split(' ')[0]).sort(), ['local', 'offsite'], made.join(', '));
  const id = made[0]!.split(' ')[1]!;
  assert.ok(
    made.every((x) => x.endsWith(` ${id}`)),
    'one run into both repositories',
  );
  assert.match(started.journal, new RegExp(`run ${id} into local complete`));
  for (const repository of ['local', 'offsite']) {
    const d = await ctx.run(['backup', 'drill', STACK, '--repository', repository, '--json']);
    assert.equal(d.code, 0, d.err + d.out);
    const report = JSON.parse(d.out) as { ok: boolean; run: string; proofs: { what: string; found: string }[] };
    assert.equal(report.ok, true);
    assert.equal(report.run, id);
    const found = Object.fromEntries(report.proofs.map((p) => [p.what, p.found.split(',')[0]]));
    assert.equal(found['postgres db public.items'], `${ROWS} rows`);
    assert.equal(found['redis cache'], `${KEYS} keys`);
    assert.equal(found['volume uploads'], '41 files');
    metricsSayGood(repository);
  }
}

/** The timer's service with the database stopped: it fails, the journal says why, the metrics keep the last good run. */
async function scheduledRunFails(h1: TestbedHost, ctx: ReturnType<typeof ferryOn>): Promise<void> {
  const before = metricsOf('local');
  onHost(h1, `docker stop ${containerOf(STACK, 'db')} >/dev/null`);
  try {
    const started = startService(h1);
    ctx.outputs.push(started.journal);
    assert.notEqual(started.code, 0);
    assert.match(started.journal, /no running container of db in project tbbackup/);
    assert.match(onHost(h1, `systemctl show -p Result ${SERVICE}`), /^Result=exit-code$/m);
    const m = metricsOf('local');
    assert.match(m, new RegExp(`^ferry_backup_last_run_success\\{stack="${STACK}",repository="local"\\} 0$`, 'm'));
    assert.equal(lastGood(m), lastGood(before));
    assert.equal(onHost(h1, `test -d /var/lib/ferry/locks/${STACK}.lock && echo held || echo free`).trim(), 'free');
    const status = await ctx.run(['backup', 'status', STACK]);
    assert.equal(status.code, 1, status.out);
    assert.match(
      status.out,
      /schedule \*-\*-\* 03:00: next run .*; PROBLEM: the last scheduled run failed \(exit-code/,
    );
    const check = await ctx.run(['check', '--live', '--json']);
    const ages = (JSON.parse(check.out) as { findings: { code: string; severity: string; message: string }[] }).findings
      .filter((x) => x.code === 'backup-age')
      .map((x) => `${x.severity} ${x.message}`);
    assert.equal(ages.length, 3, ages.join('\n'));
    assert.match(
      ages.join('\n'),
      /^warning the last backup run of tbbackup into local on bk1 failed .*; the last good one is \d+ min old$/m,
    );
    assert.match(ages.join('\n'), /^error backups of tbbackup on bk1: the last scheduled run failed \(exit-code/m);
  } finally {
    onHost(
      h1,
      `docker start $(docker ps -aq --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=db) >/dev/null && until docker exec ${containerOf(STACK, 'db')} pg_isready -q -h 127.0.0.1 -U shop -d shop; do sleep 0.5; done`,
    );
  }
}

/** The drill timer's service, without Ferry: each repository's latest run restored and proven; nothing left behind. */
async function scheduledDrillProven(h1: TestbedHost, ctx: ReturnType<typeof ferryOn>): Promise<void> {
  const started = startService(h1, DRILL_SERVICE);
  ctx.outputs.push(started.journal);
  assert.equal(started.code, 0, started.journal);
  for (const line of [
    /^ok {3}postgres db: 2 table\(s\), every row count and checksum$/m,
    new RegExp(`^ok {3}redis cache: ${KEYS} keys$`, 'm'),
    /^ok {3}volume uploads: 41 files, \d+ bytes, sha256 [0-9a-f]{12}$/m,
    /drill of run \S+ from local .*: every row, key and file came back$/m,
    /drill of run \S+ from offsite .*: every row, key and file came back$/m,
  ])
    assert.match(started.journal, line);
  for (const repository of ['local', 'offsite'])
    assert.match(
      onHost(h1, `cat /var/lib/ferry/textfile/ferry_drill_${STACK}_${repository}.prom`),
      new RegExp(`^ferry_backup_last_drill_success\\{stack="${STACK}",repository="${repository}"\\} 1$`, 'm'),
    );
  assert.equal(
    onHost(h1, `docker ps -aq --filter label=ferry-drill=${STACK}; ls /var/tmp | grep ferry-drill || true`).trim(),
    '',
  );
  const status = await ctx.run(['backup', 'status', STACK]);
  assert.equal(status.code, 0, status.out);
  assert.match(status.out, /^tbbackup {2}drill weekly: next run [^;]*$/m, 'the passed drill clears the failed one');
}

/**
 * The drill timer's service when the local repository cannot be opened (its keys moved
 * aside: a change to this stack's repository only, as other suites share the host): the
 * local drill fails, the offsite one passes; metrics, status and check --live say so.
 */
async function scheduledDrillFails(h1: TestbedHost, ctx: ReturnType<typeof ferryOn>): Promise<void> {
  onHost(h1, `mv ${LOCAL_REPO}/keys ${LOCAL_REPO}/keys.aside`);
  try {
    const started = startService(h1, DRILL_SERVICE);
    ctx.outputs.push(started.journal);
    assert.notEqual(started.code, 0);
    assert.match(started.journal, /restic check --read-data of local failed/);
    assert.match(started.journal, /drill from local FAILED/);
    assert.match(started.journal, /drill of run \S+ from offsite .*: every row, key and file came back$/m);
    const drilled = (repository: string) =>
      onHost(h1, `cat /var/lib/ferry/textfile/ferry_drill_${STACK}_${repository}.prom`);
    assert.match(drilled('local'), /^ferry_backup_last_drill_success\{[^}]*\} 0$/m);
    assert.match(drilled('offsite'), /^ferry_backup_last_drill_success\{[^}]*\} 1$/m);
    assert.equal(onHost(h1, `docker ps -aq --filter label=ferry-drill=${STACK}`).trim(), '', 'nothing left behind');
    const status = await ctx.run(['backup', 'status', STACK]);
    assert.equal(status.code, 1, status.out);
    assert.match(status.out, /drill weekly: next run .*; PROBLEM: the last scheduled drill failed/);
    const check = await ctx.run(['check', '--live', '--json']);
    const drills = (JSON.parse(check.out) as { findings: { code: string; message: string }[] }).findings.filter(
      (x) => x.code === 'backup-age' && /restore drill/.test(x.message),
    );
    assert.deepEqual(
      drills.map((x) => x.message.replace(/ \(.*\)/, '')),
      [`the last restore drill of ${STACK} from local on bk1 failed: its backups may not restore`],
    );
  } finally {
    onHost(h1, `mv ${LOCAL_REPO}/keys.aside ${LOCAL_REPO}/keys`);
  }
}

/**
 * `schedule: { default, postgres }`: a timer of its own backs up the database alone, without
 * Ferry; its manifest carries the Redis keys and the files over from the run before, each
 * with the time it was backed up, and a drill proves every row, key and file of it.
 */
async function kindScheduled(dir: string, h1: TestbedHost, h2: TestbedHost, ctx: ReturnType<typeof ferryOn>) {
  const kindTimer = `ferry-backup-${STACK}.postgres.timer`;
  writeStack(dir, h1, h2, '{ default: "*-*-* 03:00", postgres: hourly }', 'weekly');
  const r = await ctx.run(['backup', 'run', STACK]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(
    r.err,
    /backup\/schedule \(backup schedule backup \*-\*-\* 03:00, backup\.postgres hourly, drill weekly on bk1\): changed/,
  );
  assert.equal(onHost(h1, `systemctl is-enabled ${kindTimer}; systemctl is-active ${kindTimer}`), 'enabled\nactive\n');
  assert.match(onHost(h1, `systemctl show -p TimersCalendar ${kindTimer}`), /OnCalendar=\*-\*-\* \*:00:00 /);
  const full = (await completeRuns(ctx.run)).length;
  const sql = (q: string) =>
    onHost(h1, `docker exec ${containerOf(STACK, 'db')} psql -XAtq -v ON_ERROR_STOP=1 -U shop -d shop -c "${q}"`);
  sql("INSERT INTO items (name, price) VALUES ('after the full run', 1)");
  try {
    const started = startService(h1, `ferry-backup-${STACK}.postgres.service`);
    ctx.outputs.push(started.journal);
    assert.equal(started.code, 0, started.journal);
    assert.match(started.journal, /run \S+ \(the postgres\) into local complete/);
    const list = await ctx.run(['backup', 'list', STACK, '--json']);
    const runs = JSON.parse(list.out).runs as {
      repository: string;
      complete: boolean;
      kinds: string[];
      oldest?: string;
      time: string;
    }[];
    assert.equal(runs.filter((x) => x.complete).length, full + 2, 'one more run into each repository');
    const newest = runs.find((x) => x.repository === 'local' && x.complete)!;
    assert.deepEqual(newest.kinds, ['postgres db'], 'the database alone');
    assert.ok(newest.oldest && newest.oldest < newest.time, `carried over from before: ${JSON.stringify(newest)}`);
    const d = await ctx.run(['backup', 'drill', STACK, '--repository', 'local', '--json']);
    assert.equal(d.code, 0, d.err + d.out);
    const report = JSON.parse(d.out) as {
      ok: boolean;
      backed_up_at: string;
      proofs: { what: string; found: string }[];
    };
    assert.equal(report.ok, true);
    const found = Object.fromEntries(report.proofs.map((p) => [p.what, p.found.split(',')[0]]));
    assert.equal(found['postgres db public.items'], `${ROWS + 1} rows`, 'the row written after the full run');
    assert.equal(found['redis cache'], `${KEYS} keys`);
    assert.equal(found['volume uploads'], '41 files');
    assert.equal(report.backed_up_at, newest.oldest, "the data's age is the oldest entry's");
    assert.ok(
      lastGood(metricsOf('local')) * 1000 <= Date.parse(newest.oldest!),
      'the metrics give the oldest data too',
    );
    const status = await ctx.run(['backup', 'status', STACK, '--json']);
    assert.equal(status.code, 0, status.err + status.out);
    const kinds = JSON.parse(status.out).schedules[0].kinds as {
      kind: string;
      calendar: string;
      timer: string;
      last_result?: string;
    }[];
    assert.deepEqual(
      kinds.map((k) => `${k.kind} ${k.calendar} ${k.timer} ${k.last_result}`),
      ['postgres hourly active success'],
    );
  } finally {
    sql("DELETE FROM items WHERE name = 'after the full run'");
  }
}

/** A good run clears the failed run's problem; then `schedule: false` takes the timer, its units and its configuration away. */
async function scheduleRemoved(dir: string, h1: TestbedHost, h2: TestbedHost, run: Runner): Promise<void> {
  const good = await run(['backup', 'run', STACK]);
  assert.equal(good.code, 0, good.err);
  const status = await run(['backup', 'status', STACK]);
  assert.equal(status.code, 0, status.out);
  assert.doesNotMatch(status.out, /PROBLEM/);
  writeStack(dir, h1, h2, 'false');
  const r = await run(['backup', 'run', STACK]);
  assert.equal(r.code, 0, r.err + r.out);
  assert.equal(
    onHost(
      h1,
      `ls /etc/systemd/system/ferry-backup-${STACK}.* /etc/ferry/backup/${STACK}.json 2>/dev/null | wc -l`,
    ).trim(),
    '0',
  );
  assert.equal(onHost(h1, `systemctl is-active ${TIMER} || true`).trim(), 'inactive');
  writeStack(dir, h1, h2);
}

/**
 * A repository that cannot be reached is reported by status with its code; a run while the
 * off-site server refuses the stack's server still writes to the local repository.
 */
async function unreachableRepository(h1: TestbedHost, h2: TestbedHost, run: Runner): Promise<void> {
  onHost(h2, `sed -i '/ ferry-migrate-${STACK}-backup$/d' /root/.ssh/authorized_keys`);
  const s = await run(['backup', 'status', STACK, '--json']);
  assert.equal(s.code, 1);
  const rows = JSON.parse(s.out).backups as { repository: string; error?: { code: string; place: string } }[];
  assert.equal(rows.find((x) => x.repository === 'local')?.error, undefined);
  const off = rows.find((x) => x.repository === 'offsite')!;
  assert.equal(off.error?.code, 'backup-repository-unreachable');
  assert.equal(off.error?.place, `host ${h1.name}`);
  // The off-site server refuses the stack's server: the run still goes to the local repository.
  // backup list shows the runs of the repository it can read, and says which it cannot.
  const listed = async () => {
    const t = await run(['backup', 'list', STACK, '--json']);
    const list = JSON.parse(t.out) as { runs: RunRow[]; errors?: { repository: string; error: { code: string } }[] };
    assert.equal(t.code, 1, t.out);
    assert.deepEqual(
      list.errors?.map((e) => [e.repository, e.error.code]),
      [['offsite', 'backup-repository-unreachable']],
    );
    return list.runs.filter((x) => x.repository === 'local' && x.complete);
  };
  const before = await listed();
  const reject = `INPUT -s ${h1.host} -p tcp --dport 22 -j REJECT --reject-with tcp-reset`;
  onHost(h2, `iptables -I ${reject}`);
  const partial = await run(['backup', 'run', STACK]).finally(() => onHost(h2, `iptables -D ${reject}`));
  assert.equal(partial.code, 1, partial.err);
  assert.match(partial.err, /error channel-failed: bk1: cannot reach bk2 .*\(written to local all the same\)/);
  assert.match(partial.err, /- tbbackup\/backup\/run\/offsite .*: skipped/);
  onHost(h2, `iptables -I ${reject}`);
  const after = await listed().finally(() => onHost(h2, `iptables -D ${reject}`));
  assert.equal(after.length, before.length + 1, 'a new complete run in local');
  const fixed = await run(['backup', 'run', STACK]);
  assert.equal(fixed.code, 0, fixed.err);
}

/** A wrong password: backup-wrong-password with the host and a hint, status reports it; the right one works again. */
async function wrongPassword(h1: TestbedHost, ctx: ReturnType<typeof ferryOn>): Promise<void> {
  const { run, watched } = ctx;
  const r = await watched(['backup', 'run', STACK], 'not-the-password');
  assert.equal(r.code, 1);
  assert.match(r.err, /error backup-wrong-password: /);
  assert.match(r.err, new RegExp(`at host ${h1.name}`));
  assert.match(r.err, /hint: /);
  const s = await run(['backup', 'status', STACK]);
  assert.equal(s.code, 1);
  assert.match(s.out, /local {2}error backup-wrong-password/);
  const again = await run(['backup', 'run', STACK]);
  assert.equal(again.code, 0, again.err);
}

/** A drill by hand from `repository`: every table, key count and file proven, nothing left, its outcome in the drill metrics. */
async function drillProves(h1: TestbedHost, ctx: ReturnType<typeof ferryOn>, repository: string): Promise<void> {
  const { watched } = ctx;
  const r = await watched(['backup', 'drill', STACK, '--repository', repository, '--json']);
  assert.equal(r.code, 0, r.err + r.out);
  const report = JSON.parse(r.out) as {
    ok: boolean;
    proofs: { what: string; found: string; ok: boolean }[];
    left: string[];
    duration_ms: number;
    data_age_ms: number;
  };
  assert.equal(report.ok, true);
  assert.deepEqual(report.left, []);
  const found = Object.fromEntries(report.proofs.map((p) => [p.what, p.found.split(',')[0]]));
  // The release: compose.yml and the .env Ferry wrote.
  const release = onHost(h1, `basename "$(readlink -e /srv/ferry/${STACK}/current)"`).trim();
  assert.deepEqual(found, {
    'postgres db public.items': `${ROWS} rows`,
    'postgres db public."odd name"': '3 rows',
    'redis cache': `${KEYS} keys`,
    'volume uploads': '41 files',
    [`release ${release}`]: found[`release ${release}`],
  });
  assert.match(found[`release ${release}`] ?? '', /^[1-9]\d* files$/);
  assert.ok(report.duration_ms > 0 && report.data_age_ms > 0);
  assert.equal(
    onHost(h1, `docker ps -aq --filter label=ferry-drill=${STACK}; ls /var/tmp | grep ferry-drill || true`).trim(),
    '',
  );
  assert.match(
    onHost(h1, `cat /var/lib/ferry/textfile/ferry_drill_${STACK}_${repository}.prom`),
    /^ferry_backup_last_drill_success\{[^}]*\} 1$/m,
  );
}

type Runner = (a: string[]) => Promise<Transcript>;
type RunRow = { repository: string; run: string; complete: boolean };

/** Ferry in `dir` with the run's password (or another), every output kept; `watched` also reads the hosts' process lists meanwhile. */
function ferryOn(dir: string, state: string, hosts: TestbedHost[]) {
  const outputs: string[] = [];
  const processes: string[] = [];
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, hosts.map((h) => readFileSync(h.knownHostsFile, 'utf8')).join(''));
  const run = async (args: string[], password = RESTIC_CANARY): Promise<Transcript> => {
    const t = await ferry([...args, '-f', 'ferry.yml', '--known-hosts', knownHosts], {
      cwd: dir,
      env: { FERRY_STATE_DIR: state, FERRY_BACKUP_PASSWORD: password },
    });
    outputs.push(t.out, t.err);
    return t;
  };
  const watched = async (args: string[], password?: string): Promise<Transcript> => {
    const w = watchProcesses(hosts);
    try {
      return await run(args, password);
    } finally {
      processes.push(await w.stop());
    }
  };
  return { run, watched, outputs, processes };
}

describe(
  'backups with restic: local and SFTP repositories, drills, failures with codes',
  {
    skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)',
  },
  () => {
    let h1: TestbedHost;
    let h2: TestbedHost;
    const dir = mkdtempSync(join(tmpdir(), `ferry-${STACK}-`));
    const state = join(dir, 'state');
    let ctx: ReturnType<typeof ferryOn>;
    let run: Runner;
    let watched: ReturnType<typeof ferryOn>['watched'];
    let outputs: string[];
    let processes: string[];

    before(async () => {
      h1 = stackServer = await createFreshHost(BK1);
      h2 = await createFreshHost(BK2);
      ctx = ferryOn(dir, state, [h1, h2]);
      ({ run, watched, outputs, processes } = ctx);
      await deployStack(dir, h1, h2, run);
    });

    after(async () => {
      await removeFreshHost(BK1);
      await removeFreshHost(BK2);
    });

    test('a backup run installs restic, writes to a repository on the server and to another server over SFTP, and list shows it', async () => {
      const r = await watched(['backup', 'run', STACK]);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(onHost(h1, 'restic version'), /^restic 0\.1[7-9]/);
      assert.equal(onHost(h1, `stat -c %a /etc/ferry/backup/${STACK}.password`).trim(), '600');
      assert.equal(onHost(h2, `test -f ${REMOTE_REPO}/config && echo yes`).trim(), 'yes');
      const list = await run(['backup', 'list', STACK, '--json']);
      assert.equal(list.code, 0, list.err);
      const runs = JSON.parse(list.out).runs as { repository: string; complete: boolean; kinds: string[] }[];
      assert.deepEqual(runs.map((x) => [x.repository, x.complete]).sort(), [
        ['local', true],
        ['offsite', true],
      ]);
      // The running release is backed up too, named by its id.
      const release = onHost(h1, `basename "$(readlink -e /srv/ferry/${STACK}/current)"`).trim();
      for (const x of runs)
        assert.deepEqual([...x.kinds].sort(), ['postgres db', 'redis cache', `release ${release}`, 'volume uploads']);
      for (const repository of ['local', 'offsite']) metricsSayGood(repository);
    });

    for (const repository of ['local', 'offsite'])
      test(`a drill from ${repository} proves every table's rows and checksum, the key count and every file, and leaves nothing`, () =>
        drillProves(h1, ctx, repository));

    test('a drill refuses a stack another run has locked, with lock-held naming the holder; the lock stays', async () => {
      onHost(
        h1,
        `mkdir -p /var/lib/ferry/locks/${STACK}.lock && echo '{"run":"other-run","by":"ops@laptop","at":"2026-12-03T08:00:00Z","command":"apply"}' > /var/lib/ferry/locks/${STACK}.lock/owner.json`,
      );
      try {
        const r = await run(['backup', 'drill', STACK]);
        assert.equal(r.code, 1, r.err);
        assert.match(r.err, /error lock-held: stack tbbackup on bk1 is locked by run other-run \(ops@laptop/);
        assert.equal(onHost(h1, `cat /var/lib/ferry/locks/${STACK}.lock/owner.json`).includes('other-run'), true);
      } finally {
        onHost(h1, `rm -rf /var/lib/ferry/locks/${STACK}.lock`);
      }
    });

    test('a second backup after a row changed is proven by the next drill', async () => {
      onHost(
        h1,
        `docker exec ${containerOf(STACK, 'db')} psql -q -U shop -d shop -c "UPDATE items SET price = 0 WHERE id = 7"`,
      );
      const r = await run(['backup', 'run', STACK]);
      assert.equal(r.code, 0, r.err);
      const d = await run(['backup', 'drill', STACK, '--json']);
      assert.equal(d.code, 0, d.err);
      assert.equal(JSON.parse(d.out).ok, true);
    });

    test('retention keeps exactly what the policy says: a Postgres dump 60 days older than the newest is forgotten, one 10 days older kept', async () => {
      onHost(h1, `${oldDump(60)} && ${oldDump(10)}`);
      const r = await run(['backup', 'run', STACK]);
      assert.equal(r.code, 0, r.err);
      const runs = postgresRuns(h1);
      assert.equal(runs.includes('run=old60'), false, 'the dump past 30 days is forgotten');
      assert.equal(runs.includes('run=old10'), true, 'the dump within 30 days is kept');
      assert.equal(runs.length, 4, `this file's three runs and old10: ${runs.join(' ')}`);
    });

    test('database down: backup-source-failed, metrics keep the last good run', () => sourceDownRun(h1, run));

    test('a wrong password fails the backup with backup-wrong-password, the host and a hint; status reports it', () =>
      wrongPassword(h1, ctx));

    test('an unreachable repository is reported with backup-repository-unreachable, not skipped; the other repository still gets the run', () =>
      unreachableRepository(h1, h2, run));

    test('a schedule puts a systemd timer on the server; a second run changes nothing', () =>
      scheduleInstalled(dir, h1, h2, run));

    test("ferry apply keeps the installed schedule in step with the stack: a volume added is in the scheduled run's configuration", () =>
      applyRefreshes(dir, h1, run));

    test('the timer backs up without Ferry: one run into both repositories, proven by a drill from each', () =>
      scheduledRunProven(h1, h2, ctx));

    test('a scheduled drill from a repository that cannot be opened fails; its metrics, backup status and check --live say so', () =>
      scheduledDrillFails(h1, ctx));

    test('the drill timer restores each repository into scratch containers and proves every row, key and file, without Ferry', () =>
      scheduledDrillProven(h1, ctx));

    test('a scheduled run with the database down fails with the reason in its journal; metrics keep the last good run', () =>
      scheduledRunFails(h1, ctx));

    test('a kind on a calendar of its own: its timer backs up the database alone, carrying the rest over; a drill proves it all', () =>
      kindScheduled(dir, h1, h2, ctx));

    test('a good run after the failed one clears the problem; schedule: false takes the timer away', () =>
      scheduleRemoved(dir, h1, h2, run));

    test('a corrupted pack makes the drill fail with backup-corrupt', async () => {
      onHost(
        h1,
        `f=$(find ${LOCAL_REPO}/data -type f -size +100k | head -1); [ -n "$f" ] && ` +
          `dd if=/dev/urandom of="$f" bs=1 count=64 seek=4096 conv=notrunc status=none`,
      );
      const r = await run(['backup', 'drill', STACK, '--repository', 'local']);
      assert.equal(r.code, 1);
      assert.match(r.err, /error backup-corrupt: /);
      assert.match(r.err, new RegExp(`at host ${h1.name}`));
    });

    test('no password appears in any output, in the journal, or in a process list on either host', () => {
      for (const c of CANARIES) {
        for (const o of outputs) assert.equal(o.includes(c), false, `${c} in an output`);
        for (const p of processes) assert.equal(p.includes(c), false, `${c} in a process list`);
        for (const f of readdirSync(state, { recursive: true }) as string[]) {
          const path = join(state, f);
          if (statSync(path).isFile()) assert.equal(readFileSync(path).includes(c), false, `${c} in state/${f}`);
        }
      }
      assert.ok(processes.join('').includes('restic'), 'the process lists saw restic run');
    });
  },
);
