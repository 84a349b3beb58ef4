/**
 * `ferry migrate` between two test bed hosts with real data: Postgres rows, a Redis
 * dataset, a volume with many small files and one large one, while a probe writes
 * through the proxy. Also: a preflight that refuses a target without disk; migrations
 * killed with SIGKILL across the phases (after the first copy, after the freeze while
 * rows stream, after the database, after the start, after the switch), each resumed to
 * a verified end and rolled back to the source; apply refused on the source.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths } from '../../scripts/testbed/lib.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import { httpGet } from './deploy-stack.js';
import { probe } from './probe.js';
import { until } from './pebble.js';
import { cleanStack, demoCompose, writeMigrationStack } from './migrate-stack.js';
import { containerOf, loadImages, onHost, testbedHosts, testbedIsUp, type TestbedHost } from './helpers.js';

const STACK = 'tbmove';
const DOMAIN = 'tbmove.ferry.test';
const CANARY = 'canary-mig-8e2d41c7';
const CHILD = fileURLToPath(new URL('./ferry-child.ts', import.meta.url));

const COMPOSE = demoCompose({
  services: [
    '  cache:',
    '    image: ferry-tb-redis:1',
    '    command: ["redis-server", "--save", "60", "1"]',
    '    volumes:',
    '      - cache-data:/data',
    '    restart: unless-stopped',
    '    mem_limit: 128m',
  ],
  volumes: ['cache-data', 'files'],
});
const clean = (h: TestbedHost): void => cleanStack(h, STACK, ['db-data', 'cache-data', 'files']);

/** The hosts, files and helpers every test of this file uses. */
function makeBed() {
  const [target, source] = [testbedHosts()[0]!, testbedHosts()[1]!];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-migrate-'));
  const state = join(dir, 'state');
  const run = (args: string[]): Promise<Transcript> =>
    ferry([...args, '-f', 'ferry.yml', '--known-hosts', paths.knownHosts], {
      cwd: dir,
      env: { FERRY_STATE_DIR: state },
    });
  const psql = (h: TestbedHost, sql: string) =>
    onHost(h, `docker exec ${containerOf(STACK, 'db')} psql -U demo -d demo -At -c "${sql}"`).trim();
  return { target, source, dir, state, run, psql };
}
type Bed = ReturnType<typeof makeBed>;

describe(
  'ferry migrate on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    const b = makeBed();
    const { target, source, dir, psql } = b;

    before(() => {
      for (const h of [source, target]) clean(h);
      writeMigrationStack(dir, { stack: STACK, domain: DOMAIN, password: CANARY, compose: COMPOSE, source, target });
      loadImages(source, ['ferry-tb-redis:1', 'ferry-tb-postgres:1', 'ferry-tb-app:1', 'ferry-tb-worker:1']);
    });
    after(() => {
      if (!process.env.FERRY_KEEP_HOSTS) for (const h of [source, target]) clean(h);
    });

    test('the stack is deployed on the source with data: rows, a Redis dataset, many small files and a large one', () =>
      deployedWithData(b));

    test('a target without the disk for the data is refused in preflight; nothing changes on either side', () =>
      noDiskRefused(b));

    // Kills across the phases, each once the steps `after` have finished and before `before`
    // has; each is resumed to a verified end and rolled back, so that the next starts from
    // the source again.
    const kills: { at: string; after: string[]; before: string; also?: () => boolean; then?: () => void }[] = [
      { at: 'after the first copy (transfer phase, the stack still serving)', after: ['precopy'], before: 'freeze' },
      {
        at: 'after the freeze, while rows stream into the target database',
        after: ['freeze', 'final-copy'],
        before: 'dump/db',
        also: () => copying(b, 'public.bulk'),
        // A half-done restore: whatever the orphaned streams still bring, post-data (the indexes) never ran.
        then: () => assert.equal(psql(target, "SELECT count(*) FROM pg_indexes WHERE indexname = 'bulk_pkey'"), '0'),
      },
      { at: 'after the database moved', after: ['dump/db'], before: 'start' },
      { at: 'after the target started, before the switch', after: ['start'], before: 'switch' },
      { at: 'after the switch, before the source is marked', after: ['switch'], before: 'mark' },
    ];
    for (const k of kills) {
      test(`a migration killed with SIGKILL ${k.at} is resumed to a verified end, then rolled back`, async () => {
        const err = await killedMigration(b, (e) => k.after.every((x) => done(x).test(e)) && (k.also?.() ?? true));
        for (const x of k.after) assert.match(err, done(x));
        assert.doesNotMatch(err, done(k.before), `killed too late: ${k.before} had finished`);
        assert.equal(err.includes(CANARY), false);
        k.then?.();
        await resumeThenRollback(b);
      });
    }

    test('a migration killed after its proof, whose source then takes a write, is refused on --resume (source-changed) with nothing changed; rollback serves that write', () =>
      staleProofRefused(b));

    test('a migration under a writing probe: verified, every acknowledged write on the target, the pause reported', () =>
      probedMigration(b));

    test('retire refuses the server the stack runs on, and removes what the migration left on the source', () =>
      retireAfterMove(b));
  },
);

/** Runs `migrate` in a child process and kills it with SIGKILL once `reached(stderr)` holds; returns its stderr. */
async function killedMigration(b: Bed, reached: (err: string) => boolean): Promise<string> {
  const { target, dir, state } = b;
  const child = spawn(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      CHILD,
      'migrate',
      STACK,
      '--to',
      target.name,
      '--yes',
      '-f',
      'ferry.yml',
      '--known-hosts',
      paths.knownHosts,
    ],
    {
      cwd: dir,
      env: { ...process.env, FERRY_STATE_DIR: state },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  let closed = false;
  const ended = new Promise<void>((resolve) => child.on('close', () => ((closed = true), resolve())));
  const look = () => {
    if (!child.killed && !closed && reached(err)) child.kill('SIGKILL');
  };
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    look();
  });
  // Also between lines of output, for points that are seen on a server.
  while (!closed && !child.killed) {
    look();
    await new Promise((r) => setTimeout(r, 150));
  }
  await ended;
  assert.equal(child.signalCode, 'SIGKILL', `the migration ended before the kill point:\n${err}`);
  return err;
}

/** Whether a COPY into `table` runs in the target's database (false while it is being created anew). */
const copying = (b: Bed, table: string): boolean => {
  const { target, psql } = b;
  try {
    return psql(target, `SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY ${table} %'`) !== '0';
  } catch {
    return false;
  }
};

const done = (step: string) => new RegExp(`✓ ${STACK}/migrate/${step.replace('/', '\\/')} `);

/** After a kill: --resume ends verified, with the data on the target; rollback then serves from the source again, for the next kill. */
async function resumeThenRollback(b: Bed): Promise<void> {
  const { target, source, run, psql } = b;
  const resumed = await run(['migrate', STACK, '--to', target.name, '--yes', '--resume', '--json']);
  assert.equal(resumed.code, 0, resumed.err + resumed.out);
  const report = JSON.parse(resumed.out.trim().split('\n').pop()!) as {
    verified: {
      tables: { name: string; rows_source: number; checksum_match: boolean }[];
      volumes: { name: string; manifest_match: boolean }[];
    };
  };
  assert.ok(report.verified.tables.length >= 3);
  assert.ok(
    report.verified.tables.every((t) => t.checksum_match),
    JSON.stringify(report.verified.tables),
  );
  assert.deepEqual(report.verified.volumes.map((v) => [v.name, v.manifest_match]).sort(), [
    ['cache-data', true],
    ['files', true],
  ]);
  assert.equal(psql(target, 'SELECT count(*) FROM bulk'), '400000');
  assert.equal(psql(target, "SELECT count(*) FROM pg_indexes WHERE indexname = 'bulk_pkey'"), '1');
  assert.match(onHost(target, `docker exec ${containerOf(STACK, 'cache')} redis-cli DBSIZE`), /^20000/);
  assert.equal(`${resumed.out}${resumed.err}`.includes(CANARY), false);

  const back = await run(['rollback', STACK, '--yes']);
  assert.equal(back.code, 0, back.err + back.out);
  assert.match(back.out, /tbmove serves from host2 again/);
  await servesWithin(source, 60_000);
  assert.equal(onHost(target, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '0');
  assert.equal(onHost(source, `test -e /srv/ferry/${STACK}/migrated-to && echo yes || echo no`).trim(), 'no');
}

async function deployedWithData(b: Bed): Promise<void> {
  const { source, run, psql } = b;
  const t = await run(['apply', '--yes', '--json']);
  assert.equal(t.code, 0, t.err + t.out);
  psql(
    source,
    'CREATE TABLE bulk (id bigserial PRIMARY KEY, payload text NOT NULL); INSERT INTO bulk (payload) SELECT md5(g::text) || repeat(chr(65 + g % 26), 60) FROM generate_series(1, 400000) g; CREATE TABLE nokey (v int); INSERT INTO nokey SELECT generate_series(1, 1000);',
  );
  onHost(
    source,
    `for i in $(seq 1 20000); do echo "SET key:$i value-$i"; done | docker exec -i ${containerOf(STACK, 'cache')} redis-cli --pipe >/dev/null`,
  );
  assert.match(onHost(source, `docker exec ${containerOf(STACK, 'cache')} redis-cli DBSIZE`), /^20000/);
  onHost(
    source,
    `p=$(docker volume inspect -f '{{.Mountpoint}}' ${STACK}_files) && mkdir -p "$p/a b" && for i in $(seq 1 2000); do echo "file $i" > "$p/a b/f$i.txt"; done && head -c 64M /dev/urandom > "$p/large.bin"`,
  );
  assert.equal(psql(source, 'SELECT count(*) FROM bulk'), '400000');
}

async function noDiskRefused(b: Bed): Promise<void> {
  const { target, source, run } = b;
  onHost(target, 'mount -t tmpfs -o size=32m tmpfs /srv');
  try {
    const t = await run(['migrate', STACK, '--to', target.name, '--yes']);
    assert.equal(t.code, 1, t.err);
    assert.match(
      t.out,
      /tbmove\/migrate\/preflight\s+ERROR\s+preflight-failed: host1 cannot take stack tbmove: .* of disk free .* the data to move is/,
    );
    assert.match(t.err, /nothing was changed on host2 or host1/);
  } finally {
    onHost(target, 'umount /srv');
  }
  assert.equal(onHost(target, `docker volume ls -q --filter name=${STACK}_ | wc -l`).trim(), '0');
  assert.equal(onHost(source, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '4');
  await servesWithin(source, 60_000);
}

async function staleProofRefused(b: Bed): Promise<void> {
  const { target, source, run, psql } = b;
  const err = await killedMigration(b, (e) => done('verify').test(e));
  assert.doesNotMatch(err, done('start'), 'killed too late: start had finished');
  psql(source, "INSERT INTO bulk (payload) VALUES ('written by hand after the kill')");
  const resumed = await run(['migrate', STACK, '--to', target.name, '--yes', '--resume']);
  assert.equal(resumed.code, 1, resumed.err + resumed.out);
  assert.match(
    resumed.out,
    /dump\/db\s+ERROR\s+source-changed: host2: database demo changed after the proof recorded on host1 at \S+: public\.bulk has 400001 rows, 400000 when proven/,
  );
  assert.equal(
    onHost(
      target,
      `docker ps -q --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=web | wc -l`,
    ).trim(),
    '0',
    'the target was not started',
  );
  const back = await run(['rollback', STACK, '--yes']);
  assert.equal(back.code, 0, back.err + back.out);
  await servesWithin(source, 60_000);
  assert.equal(psql(source, "SELECT count(*) FROM bulk WHERE payload = 'written by hand after the kill'"), '1');
  psql(source, "DELETE FROM bulk WHERE payload = 'written by hand after the kill'");
}

async function probedMigration(b: Bed): Promise<void> {
  const { target, source, run, psql } = b;
  const p = probe(source.host, DOMAIN);
  assert.ok(await p.okAfter(0, 30_000), 'the probe writes through the source before the migration');
  const t = await run(['migrate', STACK, '--to', target.name, '--yes', '--json']);
  const resumed = await p.okAfter(Date.now(), 30_000);
  const seen = await p.stop();
  assert.ok(resumed, 'the probe has a write acknowledged after the migration (through the source address)');
  assert.equal(t.code, 0, t.err + t.out);
  const r = JSON.parse(t.out.trim().split('\n').pop()!) as {
    downtime_ms: number;
    bytes_transferred: number;
    transferred: Record<string, number>;
    duration_ms: number;
    verified: { tables: { checksum_match: boolean }[]; volumes: { manifest_match: boolean }[] };
    dns: unknown;
  };
  assert.ok(r.verified.tables.every((x) => x.checksum_match));
  // The domain has no record here: the one to create, by hand, is in the report.
  assert.deepEqual(r.dns, [{ domain: DOMAIN, pending: [{ type: 'A', from: [], to: [target.host], ttl: 300 }] }]);
  assert.ok(r.verified.volumes.every((x) => x.manifest_match));
  assert.equal(typeof r.downtime_ms, 'number');
  assert.ok(r.downtime_ms > 0 && r.downtime_ms < r.duration_ms);
  // The database crossed as a dump stream; the total is the sum of the kinds.
  assert.ok(r.transferred.databases! > 0, JSON.stringify(r.transferred));
  assert.equal(
    r.bytes_transferred,
    Object.values(r.transferred).reduce((a, b) => a + b, 0),
  );
  assert.ok(seen.acked.length > 0);
  const onTarget = Number(psql(target, 'SELECT count(*) FROM ferry_hits'));
  assert.ok(
    onTarget >= Math.max(...seen.acked),
    `target has ${onTarget} hits, the probe saw ${Math.max(...seen.acked)} acknowledged`,
  );
  assert.ok(
    seen.gap >= r.downtime_ms * 0.5,
    `the probe's longest gap between writes (${seen.gap} ms) should span the reported pause (${r.downtime_ms} ms)`,
  );
  // Through the source's nginx (clients on the old address) and the target's own.
  const [viaSource, viaTarget] = [await httpGet(source.host, DOMAIN, '/'), await httpGet(target.host, DOMAIN, '/')];
  assert.equal(viaSource.status, 200, `through the source's nginx: ${viaSource.body}`);
  assert.equal(viaTarget.status, 200, `through the target's nginx: ${viaTarget.body}`);
  assert.equal(onHost(source, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '0');
  assert.equal(
    onHost(source, `docker volume ls -q --filter name=${STACK}_ | wc -l`).trim(),
    '3',
    'the source keeps its data',
  );
  assert.equal(
    onHost(target, `grep -cE ' ferry-migrate-${STACK}(-replica|-back)?$' /root/.ssh/authorized_keys || true`).trim(),
    '0',
    'the channel is closed',
  );
  console.log(
    `migration under probe: ${seen.answers} requests, ${seen.failed.length} refused during the pause, longest gap between acknowledged writes ${seen.gap} ms; reported downtime ${r.downtime_ms} ms; ${r.bytes_transferred} bytes`,
  );
  const refused = await run(['apply', '--yes']);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /stack tbmove was moved from host2 to host1/);
  // plan refuses it alike, rather than show a plan that would restart the stale copy there
  const planned = await run(['plan']);
  assert.equal(planned.code, 2);
  assert.match(planned.err, /stack tbmove was moved from host2 to host1; ferry.yml still names host2/);
  assert.equal(planned.out, '');
  for (const x of [t]) assert.equal(`${x.out}${x.err}`.includes(CANARY), false);
}

async function retireAfterMove(b: Bed): Promise<void> {
  const { target, source, run } = b;
  const refused = await run(['retire', STACK, '--from', target.name, '--yes']);
  assert.equal(refused.code, 1);
  assert.match(refused.out, /ERROR\s+not-moved: host1: stack tbmove was not moved away from here/);
  const t = await run(['retire', STACK, '--from', source.name, '--yes']);
  assert.equal(t.code, 0, t.err + t.out);
  assert.equal(onHost(source, `test -d /srv/ferry/${STACK} && echo yes || echo no`).trim(), 'no');
  assert.equal(onHost(source, `docker volume ls -q --filter name=${STACK}_ | wc -l`).trim(), '0');
  assert.equal((await httpGet(target.host, DOMAIN, '/')).status, 200, 'the target still serves');
}

/**
 * The site answers 200 through `host`'s nginx within `ms`. A refused migration changes nothing,
 * but the service-move suite restarts Docker on host2 and may run beside this one.
 */
async function servesWithin(host: TestbedHost, ms: number): Promise<void> {
  await until(`${host.name} serving ${DOMAIN}`, ms, async () =>
    assert.equal((await httpGet(host.host, DOMAIN, '/')).status, 200),
  );
}
