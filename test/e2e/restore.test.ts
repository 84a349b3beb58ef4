/**
 * `ferry restore` on the test bed: a stack with Postgres (a password), Redis (requirepass
 * and AOF), a volume shared by two services and a worker is backed up on host5 (to a
 * repository there and to one on host1 over SFTP), damaged, and restored: every row, key
 * and file comes back and is proven, what was live is kept aside, a second restore changes
 * nothing, Redis keeps the restored keys across a restart (AOF), bad input fails with a
 * code before anything is touched, and a restore killed after it stopped the stack or
 * after its swap finishes with --resume. `ferry recover` brings the stack back on host6
 * with host5 unreachable, and `restore --to` restores into that copy. No password appears
 * in any output or in the journal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paths } from '../../scripts/testbed/lib.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import {
  containerOf,
  ferryChild,
  loadImages,
  onHost,
  testbedHosts,
  testbedIsUp,
  type TestbedHost,
  serverLine,
  stackLines,
} from './helpers.js';

const STACK = 'tbrestore';
const DB_CANARY = 'canary-db-5e1c07aa';
const REDIS_CANARY = 'canary-redis-93d4f2b1';
const RESTIC_CANARY = 'canary-restic-0b7e6c3d';
const CANARIES = [DB_CANARY, REDIS_CANARY, RESTIC_CANARY];
const LOCAL_REPO = `/var/backups/ferry-${STACK}`;
const REMOTE_REPO = `/var/backups/ferry-${STACK}-offsite`;
const ROWS = 800;
const KEYS = 40;

const COMPOSE = `services:
  db:
    image: ferry-tb-postgres:1
    environment:
      POSTGRES_USER: app
      POSTGRES_DB: appdb
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
    volumes: [db-data:/var/lib/postgresql/data]
    restart: unless-stopped
  cache:
    image: ferry-tb-redis:1
    command: redis-server --requirepass \${REDIS_PASSWORD} --appendonly yes
    volumes: [cache-data:/data]
    restart: unless-stopped
  files:
    image: ferry-tb-app:1
    entrypoint: [sleep, infinity]
    volumes: [uploads:/srv/uploads, ./media:/srv/media]
    restart: unless-stopped
  worker:
    image: ferry-tb-app:1
    entrypoint: [sleep, infinity]
    volumes: [uploads:/srv/uploads:ro]
    restart: unless-stopped
    healthcheck:
      test: ["CMD-SHELL", "test ! -e /srv/uploads/poison"]
      interval: 1s
      retries: 2
volumes:
  db-data: {}
  cache-data: {}
  uploads: {}
`;

const psql = (sql: string) =>
  `docker exec -i ${containerOf(STACK, 'db')} psql -X -At -v ON_ERROR_STOP=1 -U app -d appdb -c "${sql}"`;
const redis = (args: string) =>
  `docker exec -e REDISCLI_AUTH=${REDIS_CANARY} ${containerOf(STACK, 'cache')} redis-cli ${args}`;
const uploads = `"$(docker volume inspect --format '{{ .Mountpoint }}' ${STACK}_uploads)"`;
/** The data of the relative bind mount ./media, kept in the stack's shared/ directory. */
const media = `/srv/ferry/${STACK}/shared/media`;
/** A directory of the server that no service mounts, named in backups.paths. */
const EXPORTS = `/srv/${STACK}-exports`;

function clean(h: TestbedHost, o: TestbedHost, spare: TestbedHost): void {
  onHost(
    h,
    `ids=$(docker ps -aq --filter label=com.docker.compose.project=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
      `docker volume rm ${STACK}_db-data ${STACK}_cache-data ${STACK}_uploads >/dev/null 2>&1; ` +
      `rm -rf /srv/ferry/${STACK} /var/lib/ferry/locks/${STACK}.lock ${LOCAL_REPO} /etc/ferry/backup/${STACK}.password /var/lib/ferry/restore/${STACK}.json ` +
      `/var/lib/ferry/textfile/ferry_backup_${STACK}_*.prom /root/.ssh/ferry-migrate-${STACK}-backup* /root/.cache/restic ${EXPORTS}; ` +
      `sed -i '/ ferry-migrate-${STACK}-backup$/d' /root/.ssh/authorized_keys; true`,
  );
  onHost(o, `rm -rf ${REMOTE_REPO}; sed -i '/ ferry-migrate-${STACK}-backup$/d' /root/.ssh/authorized_keys; true`);
  onHost(
    spare,
    `ids=$(docker ps -aq --filter label=com.docker.compose.project=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
      `docker volume rm ${STACK}_db-data ${STACK}_cache-data ${STACK}_uploads >/dev/null 2>&1; ` +
      `rm -rf /srv/ferry/${STACK} /var/lib/ferry/locks/${STACK}.lock /etc/ferry/backup/${STACK}.password /var/lib/ferry/restore/${STACK}.json /root/.ssh/ferry-migrate-${STACK}-backup* /root/.cache/restic ${EXPORTS}; true`,
  );
}

function writeStack(dir: string, h: TestbedHost, o: TestbedHost, spare: TestbedHost): void {
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(join(dir, '.env'), `POSTGRES_PASSWORD=${DB_CANARY}\nREDIS_PASSWORD=${REDIS_CANARY}\n`);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      serverLine(h),
      serverLine(o),
      serverLine(spare),
      'stacks:',
      ...stackLines(STACK, h.name, '30s'),
      '    backups:',
      '      password: { env: FERRY_BACKUP_PASSWORD }',
      '      repositories:',
      `        - { name: local, path: ${LOCAL_REPO} }`,
      `        - { name: offsite, server: ${o.name}, path: ${REMOTE_REPO} }`,
      `      paths: [./media, ${EXPORTS}]`,
      '',
    ].join('\n'),
  );
}

/** 800 rows in two tables, 40 keys, 21 files. */
function fillData(h: TestbedHost): void {
  onHost(
    h,
    `until docker exec ${containerOf(STACK, 'db')} pg_isready -q -h 127.0.0.1 -U app -d appdb; do sleep 0.5; done; ` +
      `docker exec -i ${containerOf(STACK, 'db')} psql -q -v ON_ERROR_STOP=1 -U app -d appdb`,
    `CREATE TABLE orders (id serial PRIMARY KEY, total numeric, note text);\n` +
      `INSERT INTO orders (total, note) SELECT i * 2.5, 'order ' || i FROM generate_series(1, ${ROWS}) i;\n` +
      `CREATE SCHEMA billing; CREATE TABLE billing."Invoices" (n int);\nINSERT INTO billing."Invoices" SELECT generate_series(1, 30);\n`,
  );
  onHost(
    h,
    `for i in $(seq 1 ${KEYS}); do echo "SET job:$i payload-$i"; done | docker exec -i -e REDISCLI_AUTH=${REDIS_CANARY} ${containerOf(STACK, 'cache')} redis-cli >/dev/null`,
  );
  onHost(
    h,
    `cd ${uploads} && mkdir -p "img/2026" && for i in $(seq 1 20); do printf "image %d\\n" $i > "img/2026/p $i.txt"; done && head -c 2000000 /dev/urandom > blob.bin`,
  );
  onHost(
    h,
    `cd ${media} && mkdir -p covers && for i in 1 2 3 4 5; do printf "cover %d\\n" $i > "covers/c$i.txt"; done`,
  );
  onHost(h, `mkdir -p ${EXPORTS} && echo a > ${EXPORTS}/a.csv && echo b > ${EXPORTS}/b.csv`);
}

/** What a bad day does: rows deleted and added, keys flushed, files removed and added. */
function damage(h: TestbedHost): void {
  onHost(
    h,
    psql(`DELETE FROM orders WHERE id > 300; INSERT INTO orders (total, note) VALUES (1, 'late'), (2, 'later');`),
  );
  onHost(h, `${redis('FLUSHALL')} >/dev/null && ${redis('SET stray 1')} >/dev/null`);
  onHost(h, `cd ${uploads} && rm -rf img && echo new > after-backup.txt`);
  onHost(h, `cd ${media} && rm -f covers/c1.txt && echo new > covers/after-backup.txt`);
}

interface Live {
  rows: number;
  invoices: number;
  keys: number;
  files: number;
  /** The files of ./media, and the hash of their names and contents. */
  media: string;
  exports: string;
}

function live(h: TestbedHost): Live {
  return {
    rows: Number(onHost(h, psql('SELECT count(*) FROM orders')).trim()),
    invoices: Number(onHost(h, psql('SELECT count(*) FROM billing.\\"Invoices\\"')).trim()),
    keys: Number(onHost(h, redis('DBSIZE')).trim()),
    files: Number(onHost(h, `find ${uploads} -type f | wc -l`).trim()),
    media: onHost(
      h,
      `cd ${media} && find . -type f | sort | xargs cat | sha256sum | cut -c1-16; find . -type f | wc -l`,
    )
      .trim()
      .replace('\n', ' '),
    exports: onHost(h, `cat ${EXPORTS}/*.csv 2>/dev/null | tr -d '\\n'; true`).trim(),
  };
}

let AS_BACKED_UP: Live = { rows: ROWS, invoices: 30, keys: KEYS, files: 21, media: '', exports: 'ab' };

interface Report {
  repository: string;
  restored: string[];
  kept: string[];
  proofs: { what: string; ok: boolean }[];
}

interface RecoverReport {
  from: string;
  to: string;
  recovery_ms: number;
  data_age_ms: number;
  deploy: { changed: number };
  restore: Report;
}

type Runner = (a: string[], password?: string) => Promise<Transcript>;

function ferryOn(dir: string, state: string) {
  const outputs: string[] = [];
  const run: Runner = async (args, password = RESTIC_CANARY) => {
    const t = await ferry([...args, '-f', 'ferry.yml', '--known-hosts', paths.knownHosts], {
      cwd: dir,
      env: { FERRY_STATE_DIR: state, FERRY_BACKUP_PASSWORD: password },
    });
    outputs.push(t.out, t.err);
    return t;
  };
  return { run, outputs };
}

/** Restored from `repository`: every source proven, the stack's services up, what was live kept aside. */
async function restoredFrom(h: TestbedHost, run: Runner, repository: string): Promise<void> {
  damage(h);
  const damaged = live(h);
  const r = await run(['restore', STACK, '--yes', '--json', '--repository', repository]);
  assert.equal(r.code, 0, r.err + r.out);
  const report = JSON.parse(r.out) as Report;
  assert.deepEqual(report.restored.sort(), ['path ./media', 'postgres db', 'redis cache', 'volume uploads']);
  assert.ok(report.proofs.length >= 5 && report.proofs.every((p) => p.ok), r.out);
  assert.deepEqual(live(h), AS_BACKED_UP);
  const id = /database appdb_before_([0-9a-f]{6})/.exec(report.kept.join('\n'))?.[1];
  assert.ok(id, report.kept.join('\n'));
  // What was live before is kept: the damaged rows, Redis's files, the volume's files.
  assert.equal(
    Number(
      onHost(
        h,
        `docker exec ${containerOf(STACK, 'db')} psql -X -At -U app -d appdb_before_${id} -c "SELECT count(*) FROM orders"`,
      ).trim(),
    ),
    damaged.rows,
  );
  assert.match(
    onHost(h, `ls -A "$(docker volume inspect --format '{{ .Mountpoint }}' ${STACK}_cache-data)/.ferry-before-${id}"`),
    /appendonlydir/,
  );
  assert.match(onHost(h, `ls "$(dirname ${uploads})/ferry-before-${id}"`), /after-backup\.txt/);
  assert.match(onHost(h, `ls /srv/ferry/${STACK}/shared/.media.ferry-before-${id}/covers`), /after-backup\.txt/);
  for (const svc of ['files', 'worker', 'cache', 'db'])
    assert.equal(onHost(h, `docker inspect -f '{{.State.Running}}' ${containerOf(STACK, svc)}`).trim(), 'true', svc);
}

interface Bed {
  dir: string;
  state: string;
  outputs: string[];
  h: TestbedHost;
  spare: TestbedHost;
}

/** The stack recovered on the spare, with its own server unreachable in the fleet file; a second recovery changes nothing. */
async function recoveredElsewhere({ dir, state, outputs, h, spare }: Bed): Promise<void> {
  // The stack's server is gone: in this fleet file it answers nowhere, so any connection to it fails the run.
  const gone = readFileSync(join(dir, 'ferry.yml'), 'utf8').replace(
    `  ${h.name}: { host: ${h.host}, user: ${h.user}, port: ${h.port},`,
    `  ${h.name}: { host: 127.0.0.1, user: ${h.user}, port: 9,`,
  );
  assert.ok(gone.includes('127.0.0.1'));
  writeFileSync(join(dir, 'ferry-gone.yml'), gone);
  const recover = async () => {
    const t = await ferry(
      [
        'recover',
        STACK,
        '--to',
        spare.name,
        '--yes',
        '--json',
        '-f',
        'ferry-gone.yml',
        '--known-hosts',
        paths.knownHosts,
      ],
      { cwd: dir, env: { FERRY_STATE_DIR: state, FERRY_BACKUP_PASSWORD: RESTIC_CANARY } },
    );
    outputs.push(t.out, t.err);
    return t;
  };
  const r = await recover();
  assert.equal(r.code, 0, r.err + r.out);
  const report = JSON.parse(r.out) as RecoverReport;
  assert.equal(report.from, h.name);
  assert.equal(report.to, spare.name);
  assert.equal(report.restore.repository, 'offsite');
  // The spare had no /srv/...-exports: it is made, then restored.
  assert.deepEqual(report.restore.restored.sort(), [
    'path ./media',
    `path ${EXPORTS}`,
    'postgres db',
    'redis cache',
    'volume uploads',
  ]);
  assert.ok(
    report.restore.proofs.every((p) => p.ok),
    r.out,
  );
  assert.ok(report.data_age_ms > 0 && report.recovery_ms > 0);
  assert.deepEqual(live(spare), AS_BACKED_UP);
  const again = await recover();
  assert.equal(again.code, 0, again.err + again.out);
  const second = JSON.parse(again.out) as RecoverReport;
  assert.equal(second.deploy.changed, 0, again.err);
  assert.deepEqual(second.restore.restored, []);
}

/** A restore killed (SIGKILL) at `point` leaves the stack stopped; --resume finishes it, proven, and then has nothing left. */
async function killedThenResumed({ dir, state, outputs, h }: Bed, run: Runner, point: string): Promise<void> {
  damage(h);
  const killed = await ferryChild(
    dir,
    state,
    ['restore', STACK, '--yes', '-f', 'ferry.yml', '--known-hosts', paths.knownHosts],
    { FERRY_TEST_KILL_AT: `${STACK}/restore/${point}`, FERRY_BACKUP_PASSWORD: RESTIC_CANARY },
  );
  outputs.push(killed.out, killed.err);
  assert.equal(killed.signal, 'SIGKILL', killed.err);
  const running = `docker ps -q --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=files`;
  assert.equal(onHost(h, running).trim(), '', 'the killed run left the stack stopped');
  const r = await run(['restore', STACK, '--resume', '--yes']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.match(r.err, /resuming the restore/);
  assert.match(r.out, /every row, key and file proven/);
  assert.deepEqual(live(h), AS_BACKED_UP);
  const again = await run(['restore', STACK, '--resume', '--yes']);
  assert.equal(again.code, 2, again.err);
  assert.match(again.err, /error nothing-to-resume/);
}

/**
 * Into the copy recovered on the spare, from the repository on the stack's own server:
 * the spare is given a key to it first, then reads it over SFTP.
 */
async function restoredOnAnotherServer(h: TestbedHost, spare: TestbedHost, run: Runner): Promise<void> {
  damage(spare);
  const r = await run(['restore', STACK, '--to', spare.name, '--repository', 'local', '--yes', '--json']);
  assert.equal(r.code, 0, r.err + r.out);
  const report = JSON.parse(r.out) as Report & { server: string };
  assert.equal(report.server, spare.name);
  assert.equal(report.repository, 'local');
  assert.ok(report.proofs.length >= 5 && report.proofs.every((p) => p.ok), r.out);
  assert.deepEqual(live(spare), AS_BACKED_UP);
  assert.match(
    onHost(h, 'cat /root/.ssh/authorized_keys'),
    new RegExp(`^from="${spare.host}",restrict .* ferry-migrate-${STACK}-backup$`, 'm'),
  );
}

/** A run whose files make a service unhealthy, restored: the swap is undone, the restored database kept aside. */
async function undoneWhenUnhealthy(h: TestbedHost, run: Runner): Promise<void> {
  // A run whose uploads make the worker unhealthy, then the stack healthy and damaged again.
  onHost(h, `touch ${uploads}/poison`);
  const backed = await run(['backup', 'run', STACK, '--json']);
  assert.equal(backed.code, 0, backed.err + backed.out);
  onHost(h, `rm ${uploads}/poison`);
  const runs = await run(['backup', 'list', STACK, '--json']);
  const poisoned = (JSON.parse(runs.out) as { runs: { run: string }[] }).runs[0]!.run;
  damage(h);
  const damaged = live(h);
  const r = await run(['restore', STACK, '--yes', '--run', poisoned]);
  assert.equal(r.code, 1, r.err + r.out);
  assert.match(r.err, /↺ rolled back tbrestore\/restore\/swap/);
  assert.match(r.err, /what it changed was undone/);
  assert.deepEqual(live(h), damaged, 'the data from before the restore serves again');
  assert.equal(onHost(h, `test -e ${uploads}/poison && echo there || echo gone`).trim(), 'gone');
  const dbs = onHost(
    h,
    `docker exec ${containerOf(STACK, 'db')} psql -X -At -U app -d postgres -c "SELECT datname FROM pg_database ORDER BY 1"`,
  );
  assert.match(dbs, /^appdb_restored_[0-9a-f]{6}$/m, 'the restored database is kept aside');
  assert.doesNotMatch(dbs, /appdb_ferry_restore/, 'no staging is left');
  for (const svc of ['files', 'worker', 'cache'])
    assert.equal(onHost(h, `docker inspect -f '{{.State.Running}}' ${containerOf(STACK, svc)}`).trim(), 'true', svc);
}

describe(
  'ferry restore: a backup run put back into the live stack, proven, the live data kept aside',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    const debian13 = testbedHosts('debian-13');
    // The stack on host5, its off-site repository on host1 (files only), host6 (Debian 12,
    // Compose v1) the spare a recovery goes to.
    const [h, o, spare] = [debian13[4], debian13[0], testbedHosts('debian-12')[0]] as [
      TestbedHost,
      TestbedHost,
      TestbedHost,
    ];
    const dir = mkdtempSync(join(tmpdir(), `ferry-${STACK}-`));
    const state = join(dir, 'state');
    const { run, outputs } = ferryOn(dir, state);

    before(async () => {
      clean(h, o, spare);
      loadImages(h, ['ferry-tb-postgres:1', 'ferry-tb-redis:1', 'ferry-tb-app:1']);
      loadImages(spare, ['ferry-tb-postgres:1', 'ferry-tb-redis:1', 'ferry-tb-app:1']);
      writeStack(dir, h, o, spare);
      const applied = await run(['apply', STACK, '--yes']);
      assert.equal(applied.code, 0, applied.err + applied.out);
      fillData(h);
      AS_BACKED_UP = { ...AS_BACKED_UP, media: live(h).media };
      assert.match(AS_BACKED_UP.media, /^[0-9a-f]{16} 5$/);
      const backed = await run(['backup', 'run', STACK]);
      assert.equal(backed.code, 0, backed.err + backed.out);
    });

    after(() => {
      clean(h, o, spare);
      onHost(spare, 'DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq restic >/dev/null 2>&1; true');
    });

    test('a restore of the run the stack already holds changes nothing and says so', async () => {
      const r = await run(['restore', STACK, '--yes']);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /already holds the data of this run: nothing to restore/);
      assert.match(r.out, /^ok {3}volume uploads: 21 files/m);
      assert.match(r.out, /^ok {3}path \.\/media: 5 files/m);
      assert.deepEqual(live(h), AS_BACKED_UP);
    });

    test('after rows, keys and files were lost, restore brings every one back, proven, and keeps what was live', () =>
      restoredFrom(h, run, 'local'));

    test('the restored Redis keeps its keys across a restart (its AOF was rebuilt from the restored RDB)', () => {
      onHost(h, `docker restart ${containerOf(STACK, 'cache')} >/dev/null; sleep 2`);
      assert.equal(Number(onHost(h, redis('DBSIZE')).trim()), KEYS);
    });

    test('a second restore right after changes nothing', async () => {
      const r = await run(['restore', STACK, '--yes']);
      assert.equal(r.code, 0, r.err + r.out);
      assert.match(r.out, /nothing to restore/);
    });

    test('a drill proves the data of the bind mount and the release (its env file encrypted in the repository)', async () => {
      const r = await run(['backup', 'drill', STACK, '--json']);
      assert.equal(r.code, 0, r.err + r.out);
      const proofs = (JSON.parse(r.out) as { proofs: { what: string; found: string; ok: boolean }[] }).proofs;
      const release = onHost(h, `basename "$(readlink -e /srv/ferry/${STACK}/current)"`).trim();
      assert.deepEqual(
        proofs.filter((p) => /^(path|release) /.test(p.what)).map((p) => [p.what, p.ok]),
        [
          ['path ./media', true],
          [`path ${EXPORTS}`, true],
          [`release ${release}`, true],
        ],
      );
      // The release holds .env with both passwords: restic encrypts it.
      assert.equal(onHost(h, `grep -rlF ${DB_CANARY} ${LOCAL_REPO} | wc -l`).trim(), '0');
    });

    test('a restore from the repository on another server (SFTP) works the same', () =>
      restoredFrom(h, run, 'offsite'));

    test('an unknown run and an unknown repository fail with their codes before anything is touched', async () => {
      damage(h);
      const damaged = live(h);
      const unknown = await run(['restore', STACK, '--yes', '--run', '20990101T000000Z-000000']);
      assert.equal(unknown.code, 1, unknown.err + unknown.out);
      assert.match(unknown.err, /error backup-run-unknown: .*holds no complete backup run 20990101T000000Z-000000/);
      assert.match(unknown.err, /hint: Its complete runs, newest last: \d{8}T\d{6}Z-[0-9a-f]{6}/);
      const nope = await run(['restore', STACK, '--yes', '--repository', 'nope']);
      assert.equal(nope.code, 2, nope.err + nope.out);
      assert.match(
        nope.err,
        /error usage: stack tbrestore has no repository "nope"[\s\S]*hint: Its repositories: local, offsite/,
      );
      assert.deepEqual(live(h), damaged, 'nothing was touched');
    });

    for (const point of ['stop:applied', 'swap:applied'])
      test(`a restore killed after ${point}, the stack stopped, finishes with --resume and is proven`, () =>
        killedThenResumed({ dir, state, outputs, h, spare }, run, point));

    test("recover onto another server (Debian 12, Compose v1) while the stack's own is gone: deployed there, restored from the off-site repository, proven", () =>
      recoveredElsewhere({ dir, state, outputs, h, spare }));

    test("restore --to: into the copy on another server, from the repository on the stack's own server over SFTP", () =>
      restoredOnAnotherServer(h, spare, run));

    test('a restore whose services do not come up is undone: the data from before serves again, the restored data kept aside', () =>
      undoneWhenUnhealthy(h, run));

    test('no password appears in any output or in the journal', () => {
      const journal = readdirSync(state)
        .filter((f) => f.startsWith('journal'))
        .map((f) => readFileSync(join(state, f)).toString('latin1'))
        .join('\n');
      for (const c of CANARIES) {
        assert.ok(!outputs.some((x) => x.includes(c)), `${c} in an output`);
        assert.ok(!journal.includes(c), `${c} in the journal`);
      }
    });
  },
);
