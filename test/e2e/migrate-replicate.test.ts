/**
 * `ferry migrate --mode replicate` between two test bed hosts (host3 -> host4): Postgres
 * moved by logical replication while the stack runs and a probe writes through the
 * source's nginx, with a table without a primary key updated by a trigger on every write.
 * Also: a table that cannot be replicated refused before anything changes, a run killed
 * inside the pause and resumed, and what the migration leaves behind (nothing).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paths } from '../../scripts/testbed/lib.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import { httpGet } from './deploy-stack.js';
import { probe } from './probe.js';
import { cleanStack, demoCompose, ferryChild, writeMigrationStack } from './migrate-stack.js';
import { containerOf, loadImages, onHost, testbedHosts, testbedIsUp, type TestbedHost } from './helpers.js';

const STACK = 'tbrep';
const DOMAIN = 'tbrep.ferry.test';
const CANARY = 'canary-rep-5b1f09d3';

const clean = (h: TestbedHost): void => cleanStack(h, STACK, ['db-data', 'files']);

/** The hosts, files and helpers every test of this file uses. */
function makeBed() {
  const hosts = testbedHosts();
  const [source, target] = [hosts[2]!, hosts[3]!];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-replicate-'));
  const state = join(dir, 'state');
  const run = (args: string[]): Promise<Transcript> =>
    ferry([...args, '-f', 'ferry.yml', '--known-hosts', paths.knownHosts], {
      cwd: dir,
      env: { FERRY_STATE_DIR: state },
    });
  /** Rows of ferry_hits written before the trigger on the table without a key. */
  const counts = { untouched: 0 };
  const psql = (h: TestbedHost, sql: string) =>
    onHost(h, `docker exec ${containerOf(STACK, 'db')} psql -U demo -d demo -At -c "${sql}"`).trim();
  /** The migration in a child process; `killAt` kills it with SIGKILL once that step's ✓ line is printed. */
  const child = (args: string[], onLine: (line: string, kill: () => void) => void) =>
    ferryChild({ dir, state }, args, onLine);
  return { hosts, source, target, dir, state, run, psql, child, counts };
}
type Bed = ReturnType<typeof makeBed>;

describe(
  'ferry migrate --mode replicate on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    const b = makeBed();
    const { source, target, dir } = b;

    before(() => {
      for (const h of [source, target]) clean(h);
      writeMigrationStack(dir, {
        stack: STACK,
        domain: DOMAIN,
        password: CANARY,
        compose: demoCompose({ volumes: ['files'] }),
        source,
        target,
      });
      loadImages(source, ['ferry-tb-postgres:1', 'ferry-tb-app:1', 'ferry-tb-worker:1']);
    });
    after(() => {
      if (!process.env.FERRY_KEEP_HOSTS) for (const h of [source, target]) clean(h);
    });

    test('deployed with data: rows, a table without a key updated on every write, files', () => deployedWithData(b));

    test('a table without a key whose column cannot be compared is refused before anything changes', () =>
      unreplicableTableRefused(b));

    test('killed inside the pause, resumed: zero failed requests through the proxy, every write on the target, nothing left behind', () =>
      killedInPauseResumed(b));

    test('rollback serves from the source again, which kept no publication, slot or changed identity', () =>
      rollbackServesSource(b));

    test('killed after the cut-over and rolled back without resuming: the source serves, nothing of the migration is left', () =>
      killedAfterCutoverRolledBack(b));
  },
);

async function deployedWithData(b: Bed): Promise<void> {
  const { source, run, psql } = b;
  const t = await run(['apply', '--yes', '--json']);
  assert.equal(t.code, 0, t.err + t.out);
  assert.equal((await httpGet(source.host, DOMAIN, '/health')).status, 200);
  b.counts.untouched = Number(
    psql(
      source,
      [
        'CREATE TABLE bulk (id bigserial PRIMARY KEY, payload text NOT NULL)',
        'INSERT INTO bulk (payload) SELECT md5(g::text) || repeat(chr(65 + g % 26), 60) FROM generate_series(1, 200000) g',
        'CREATE TABLE nokey (k int, n int)',
        'INSERT INTO nokey SELECT g, 0 FROM generate_series(0, 49) g',
        'CREATE FUNCTION touch_nokey() RETURNS trigger LANGUAGE plpgsql AS \\$\\$ BEGIN UPDATE nokey SET n = n + 1 WHERE k = NEW.id % 50; RETURN NEW; END \\$\\$',
        'CREATE TRIGGER touch AFTER INSERT ON ferry_hits FOR EACH ROW EXECUTE FUNCTION touch_nokey()',
        'CREATE TABLE doc (body json)',
        // In the same transaction as the trigger, which locks out writes until it commits.
        'SELECT count(*) FROM ferry_hits',
      ].join('; '),
    )
      .split('\n')
      .pop(),
  );
  onHost(
    source,
    `p=$(docker volume inspect -f '{{.Mountpoint}}' ${STACK}_files) && for i in $(seq 1 500); do echo "file $i" > "$p/f$i.txt"; done`,
  );
  assert.equal(psql(source, 'SHOW wal_level'), 'replica');
}

async function unreplicableTableRefused(b: Bed): Promise<void> {
  const { source, target, run, psql } = b;
  const t = await run(['migrate', STACK, '--to', target.name, '--mode', 'replicate', '--yes']);
  assert.equal(t.code, 1, t.err + t.out);
  assert.match(
    t.out,
    /publish\/db\s+ERROR\s+replicate-unsupported: host3: database demo cannot be moved by replication: table public\.doc has no primary key and its column body is of type json, which cannot be compared/,
  );
  assert.match(t.err, /nothing was changed on host3 or host4/);
  assert.equal(psql(source, 'SHOW wal_level'), 'replica');
  assert.equal(psql(source, 'SELECT count(*) FROM pg_publication'), '0');
  assert.equal(onHost(target, `docker ps -aq --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '0');
  psql(source, 'DROP TABLE doc');
}

async function killedInPauseResumed(b: Bed): Promise<void> {
  const { source, target, run, psql, child } = b;
  const p = probe(source.host, DOMAIN, 60_000);
  assert.ok(await p.okAfter(0, 30_000), 'the probe writes through the source before the migration');
  // The source's database restarts once (wal_level=logical): requests may fail until it is back.
  let publishedAt = 0;
  const killed = await child(['migrate', STACK, '--to', target.name, '--mode', 'replicate', '--yes'], (line, kill) => {
    if (/✓ tbrep\/migrate\/publish\/db/.test(line)) publishedAt = Date.now();
    if (/✓ tbrep\/migrate\/freeze/.test(line)) kill();
  });
  assert.equal(killed.signal, 'SIGKILL', killed.err);
  assert.ok(publishedAt > 0, killed.err);
  const resumed = await run([
    'migrate',
    STACK,
    '--to',
    target.name,
    '--mode',
    'replicate',
    '--yes',
    '--resume',
    '--json',
  ]);
  const after = Date.now();
  assert.ok(await p.okAfter(after, 30_000), 'the probe writes after the migration');
  const seen = await p.stop();
  assert.equal(resumed.code, 0, resumed.err + resumed.out);
  const r = JSON.parse(resumed.out.trim().split('\n').pop()!) as {
    verified: {
      tables: { name: string; rows_source: number; checksum_match: boolean }[];
      volumes: { name: string; manifest_match: boolean }[];
    };
  };
  const names = r.verified.tables.map((x) => x.name);
  for (const n of ['public.bulk', 'public.nokey', 'public.ferry_hits', 'public.ferry_worker_beats'])
    assert.ok(names.includes(n), names.join());
  assert.ok(
    r.verified.tables.every((x) => x.checksum_match),
    JSON.stringify(r.verified.tables),
  );
  assert.deepEqual(
    r.verified.volumes.map((v) => [v.name, v.manifest_match]),
    [['files', true]],
  );

  const failedAfterPublish = seen.failed.filter((a) => a.at > publishedAt + 1000);
  assert.deepEqual(
    failedAfterPublish,
    [],
    `requests failed during the migration (after the database restart): ${JSON.stringify(failedAfterPublish.slice(0, 5))}`,
  );
  const onTarget = Number(psql(target, 'SELECT count(*) FROM ferry_hits'));
  assert.ok(
    onTarget >= Math.max(...seen.acked),
    `target has ${onTarget} hits, the probe saw ${Math.max(...seen.acked)} acknowledged`,
  );
  // Every write since the trigger updated the keyless table, on the source and then on the target.
  assert.equal(
    psql(target, 'SELECT (SELECT count(*) FROM ferry_hits) - (SELECT sum(n) FROM nokey)'),
    String(b.counts.untouched),
  );
  console.log(
    `replicate under probe (killed in the pause, resumed): ${seen.answers} requests, ${seen.failed.length} failed (all before the database restart ended), slowest answer ${seen.slowest} ms, longest gap between acknowledged writes ${seen.gap} ms`,
  );

  // Nothing left on the target: no subscription, the identity back; no tunnel, key or hold (the source's database is stopped: see rollback).
  assert.equal(psql(target, 'SELECT count(*) FROM pg_subscription'), '0');
  assert.equal(psql(target, "SELECT relreplident FROM pg_class WHERE relname = 'nokey'"), 'd');
  assert.equal(onHost(target, `pgrep -f '[f]erry-migrate-${STACK}-replica' | wc -l`).trim(), '0');
  assert.equal(
    onHost(source, `grep -cE ' ferry-migrate-${STACK}(-replica|-back)?$' /root/.ssh/authorized_keys || true`).trim(),
    '0',
  );
  assert.equal(onHost(target, `iptables -S INPUT | grep -c -e '--comment ferry-hold-${STACK} ' || true`).trim(), '0');
  assert.equal((await httpGet(source.host, DOMAIN, '/')).status, 200, "through the source's nginx");
  assert.equal((await httpGet(target.host, DOMAIN, '/')).status, 200, "through the target's nginx");
  for (const x of [resumed, killed]) assert.equal(`${x.out}${x.err}`.includes(CANARY), false);
}

async function rollbackServesSource(b: Bed): Promise<void> {
  const { source, target, run, psql } = b;
  const t = await run(['rollback', STACK, '--yes']);
  assert.equal(t.code, 0, t.err + t.out);
  assert.equal((await httpGet(source.host, DOMAIN, '/health')).status, 200);
  assert.equal(
    psql(source, 'SELECT count(*) FROM pg_publication') + psql(source, 'SELECT count(*) FROM pg_replication_slots'),
    '00',
  );
  assert.equal(psql(source, "SELECT relreplident FROM pg_class WHERE relname = 'nokey'"), 'd');
  assert.equal(onHost(target, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(), '0');
}

async function killedAfterCutoverRolledBack(b: Bed): Promise<void> {
  const { source, target, run, psql, child } = b;
  const killed = await child(['migrate', STACK, '--to', target.name, '--mode', 'replicate', '--yes'], (line, kill) => {
    if (/✓ tbrep\/migrate\/verify/.test(line)) kill();
  });
  assert.equal(killed.signal, 'SIGKILL', killed.err);
  assert.equal(onHost(source, `cat /srv/ferry/${STACK}/migrating-to`).trim(), target.name);
  assert.equal(
    onHost(target, `iptables -S INPUT | grep -c ferry-hold-${STACK} || true`).trim(),
    '1',
    'killed inside the pause',
  );
  const t = await run(['rollback', STACK, '--yes']);
  assert.equal(t.code, 0, t.err + t.out);
  assert.match(
    t.err,
    /rolling back the unfinished run .* \(migrate tbrep --to host4 --mode replicate\): taking over its locks/,
  );
  assert.equal((await httpGet(source.host, DOMAIN, '/health')).status, 200);
  assert.equal(
    psql(source, 'SELECT count(*) FROM pg_publication') + psql(source, 'SELECT count(*) FROM pg_replication_slots'),
    '00',
  );
  assert.equal(psql(source, "SELECT relreplident FROM pg_class WHERE relname = 'nokey'"), 'd');
  assert.equal(onHost(target, `iptables -S INPUT | grep -c -e '--comment ferry-hold-${STACK} ' || true`).trim(), '0');
  assert.equal(onHost(target, `pgrep -f '[f]erry-migrate-${STACK}-replica' | wc -l`).trim(), '0');
  for (const h of [source, target])
    assert.equal(
      onHost(h, `grep -cE ' ferry-migrate-${STACK}(-replica|-back)?$' /root/.ssh/authorized_keys || true`).trim(),
      '0',
      h.name,
    );
  assert.equal(
    onHost(source, `ls /srv/ferry/${STACK}/migrating-to /srv/ferry/${STACK}/migrated-to 2>/dev/null | wc -l`).trim(),
    '0',
  );
}
