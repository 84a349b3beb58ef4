/**
 * What a rollback does with the writes the target took after a migration, on the test bed
 * (the crash stack, host3 -> host4): Redis keys written on the target come back with its
 * volume; a table the target has and the source does not (its schema changed) refuses the
 * rollback with the rows on each side, changing nothing; `--discard-target-writes` then
 * rolls back, naming per table what it drops.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerOf, loadImages, onHost, testbedHosts, testbedIsUp } from './helpers.js';
import { cleanStack } from './migrate-stack.js';
import { httpGet } from './deploy-stack.js';
import { ferryRun, migrateArgs, serving, status, type Bed } from './crash/cycle.js';
import { CRASH_CANARY, REDIS_CANARY, rows, writeCrashStack } from './crash/stack.js';

const STACK = 'tbback';

function makeBed(): Bed {
  const [source, target] = testbedHosts('debian-13').slice(2, 4) as [Bed['source'], Bed['target']];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-rollback-writes-'));
  return { dir, state: join(dir, 'state'), stack: STACK, domain: 'tbback.ferry.test', source, target };
}

const clean = (bed: Bed) => {
  for (const h of [bed.source, bed.target]) cleanStack(h, STACK, ['db-data', 'cache-data']);
};

/** redis-cli in the stack's cache on `h`, the password passed by environment (never on its command line there). */
const redis = (bed: Bed, h: Bed['source'], args: string) =>
  onHost(
    h,
    `docker exec -e REDISCLI_AUTH="$(cat)" ${containerOf(STACK, 'cache')} redis-cli ${args}`,
    REDIS_CANARY,
  ).trim();

describe(
  'rollback and the writes the target took, on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up' },
  () => {
    const bed = makeBed();
    before(async () => {
      clean(bed);
      writeCrashStack(bed.dir, bed);
      loadImages(bed.source, ['ferry-tb-postgres:1', 'ferry-tb-app:1', 'ferry-tb-worker:1', 'ferry-tb-redis:1']);
      const t = await ferryRun(bed, ['apply', '--yes']);
      assert.equal(t.code, 0, t.err);
    });
    after(() => {
      if (!process.env.FERRY_KEEP_HOSTS) clean(bed);
    });

    test('Redis keys and rows written on the target come back with the rollback, proven', async () => {
      const moved = await ferryRun(bed, migrateArgs(bed, 'dump'));
      assert.equal(moved.code, 0, moved.err);
      assert.equal(redis(bed, bed.target, 'SET written-on-target yes'), 'OK');
      // The first answer may wait for a loaded machine; then each write is acknowledged.
      assert.ok(await answersWithin(bed, 60_000), 'the site answers after the migration');
      for (let i = 0; i < 5; i++) {
        const a = await fetchHealth(bed);
        assert.equal(a.status, 200, a.body);
      }
      const onTarget = rows(bed.target, STACK, 'ferry_hits');
      const back = await ferryRun(bed, ['rollback', STACK, '--yes']);
      assert.equal(back.code, 0, back.err);
      assert.match(back.err, /✓ tbback\/unmigrate\/write-back .*: changed/);
      assert.equal(redis(bed, bed.source, 'GET written-on-target'), 'yes');
      assert.ok(rows(bed.source, STACK, 'ferry_hits') >= onTarget, 'every row the target had');
      assert.ok(await serving(bed));
      const st = await status(bed);
      assert.deepEqual([st.stage, st.left, st.locks, st.markers], ['none', [], [], []]);
      for (const r of [moved, back]) assert.equal(`${r.out}${r.err}`.includes(CRASH_CANARY), false);
    });

    test('a table only the target has refuses the rollback, changing nothing; --discard-target-writes names what it drops', async () => {
      await backOnSource(bed);
      const moved = await ferryRun(bed, migrateArgs(bed, 'dump'));
      assert.equal(moved.code, 0, moved.err);
      onHost(
        bed.target,
        `docker exec ${containerOf(STACK, 'db')} psql -U app -d app -q -c "CREATE TABLE audit (id int); INSERT INTO audit VALUES (1), (2)"`,
      );
      assert.ok(await answersWithin(bed, 60_000), 'the site answers after the migration');
      for (let i = 0; i < 3; i++) {
        const a = await fetchHealth(bed);
        assert.equal(a.status, 200, a.body);
      }
      const refused = await ferryRun(bed, ['rollback', STACK, '--yes']);
      assert.equal(refused.code, 1, refused.err);
      assert.match(
        refused.err,
        /error write-back-impossible: host4: database app cannot be carried back to host3: its tables differ \(public\.audit 2 on host4, missing on host3\)/,
      );
      assert.match(refused.err, /↺ rolled back tbback\/unmigrate\/source-db/);
      assert.equal(
        onHost(bed.source, `docker ps -q --filter label=com.docker.compose.project=${STACK} | wc -l`).trim(),
        '0',
        'nothing runs on host3 again',
      );
      assert.ok(await serving(bed), 'the target still serves');
      assert.equal((await status(bed)).stage, 'moved');
      const dropped = await ferryRun(bed, ['rollback', STACK, '--yes', '--discard-target-writes']);
      assert.equal(dropped.code, 0, dropped.err);
      const warning = /warning target-writes-discarded: (.*)/.exec(dropped.err)?.[1] ?? '';
      assert.match(warning, /^host4 took writes since \S+; /);
      assert.match(warning, /app: public\.audit 2 on host4, missing on host3 \(at the move\)/);
      assert.match(warning, /app: public\.ferry_hits \d+ on host4, \d+ on host3 \(at the move\)/);
      assert.ok(await serving(bed));
      assert.deepEqual((await status(bed)).markers, []);
    });
  },
);

/** Brings the stack back to its source when a test before left it moved, so each test starts from the same place. */
async function backOnSource(bed: Bed): Promise<void> {
  if ((await status(bed)).stage !== 'moved') return;
  const back = await ferryRun(bed, ['rollback', STACK, '--yes', '--discard-target-writes']);
  assert.equal(back.code, 0, back.err);
}

/** One write through the source's nginx. */
const fetchHealth = (bed: Bed) => httpGet(bed.source.host, bed.domain, '/health');

/** Whether a write through the source's nginx is acknowledged within `ms`. */
async function answersWithin(bed: Bed, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500)))
    if ((await fetchHealth(bed)).status === 200) return true;
  return false;
}
