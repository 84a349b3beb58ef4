/**
 * The crash matrix, the part CI runs: a stack shaped like our users' (front end and API
 * behind nginx, a worker and a scheduler writing on their own, Redis with a password and
 * AOF, Postgres) moved from host3 to host4 while a probe writes through host3's nginx, the
 * migration killed with SIGKILL right after a chosen event of a chosen step (every step that
 * drops, truncates or overwrites data, in each mode), resumed, then rolled back. Each time:
 * every acknowledged write is in the database that serves, the site answers, nothing is
 * left behind, no secret is printed. `npm run crash-matrix` runs every step boundary.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImages, testbedHosts, testbedIsUp } from './helpers.js';
import { cleanStack } from './migrate-stack.js';
import { crashCycle, ferryRun, type Bed, type KillPoint, type Run } from './crash/cycle.js';
import { CRASH_CANARY, writeCrashStack } from './crash/stack.js';

const STACK = 'tbcrash';

/** Every step that drops, truncates or overwrites data, and the kills the field reported. */
export const CI_POINTS: KillPoint[] = [
  { mode: 'dump', step: 'migrate/final-copy', event: 'applied' },
  { mode: 'dump', step: 'migrate/dump/db', event: 'applied' },
  { mode: 'dump', step: 'migrate/live', event: 'verified' },
  { mode: 'dump', step: 'migrate/mark', event: 'verified' },
  { mode: 'replicate', step: 'migrate/subscribe/db', event: 'applied' },
  { mode: 'replicate', step: 'migrate/cutover/db', event: 'applied' },
  { mode: 'replicate', step: 'migrate/unhold', event: 'verified' },
  { mode: 'replicate', step: 'migrate/proof', event: 'start' },
  { mode: 'service', step: 'migrate/dump/db', event: 'applied' },
  { mode: 'service', step: 'up', event: 'verified' },
  { mode: 'dump', step: 'unmigrate/write-back', event: 'applied', during: 'rollback' },
  // A killed rollback of a service move, rolled back again: it must take over the killed one's locks.
  { mode: 'service', step: 'db/freeze', event: 'end', during: 'rollback' },
  // ...and once it switched the stack back: the next one finishes it (not one release further),
  // and carries nothing back again over the writes the stack's own database took since.
  { mode: 'service', step: 'rollback', event: 'end', during: 'rollback' },
  // A rollback killed once it removed the markers: the next one must still find it, in the journal.
  { mode: 'replicate', step: 'unmigrate/marker', event: 'end', during: 'rollback' },
];

/**
 * `CRASH_POINTS=MODE:STEP:EVENT[:rollback],...` runs those instead (e.g. to go after one that
 * failed); `:rollback` kills the rollback (implied for `unmigrate/` steps).
 */
const points = (): KillPoint[] =>
  process.env.CRASH_POINTS
    ? process.env.CRASH_POINTS.split(',').map((p) => {
        const [mode, step, event, during] = p.split(':') as [KillPoint['mode'], string, KillPoint['event'], string?];
        const inRollback = during === 'rollback' || step.startsWith('unmigrate/');
        return { mode, step, event, ...(inRollback ? { during: 'rollback' as const } : {}) };
      })
    : CI_POINTS;

function makeBed(): Bed {
  const [source, target] = testbedHosts('debian-13').slice(2, 4) as [Bed['source'], Bed['target']];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-crash-'));
  return { dir, state: join(dir, 'state'), stack: STACK, domain: 'tbcrash.ferry.test', source, target };
}

const tail = (r: Run): string => `exit ${r.code}\n${r.err.split('\n').slice(-40).join('\n')}`;

const clean = (bed: Bed) => {
  for (const h of [bed.source, bed.target]) cleanStack(h, STACK, ['db-data', 'cache-data']);
};

describe('the crash matrix (CI part) on the test bed', { skip: testbedIsUp() ? false : 'test bed not up' }, () => {
  const bed = makeBed();
  const deployed = async () => {
    clean(bed);
    rmSync(bed.state, { recursive: true, force: true });
    const t = await ferryRun(bed, ['apply', '--yes']);
    assert.equal(t.code, 0, t.err);
    assert.equal(`${t.out}${t.err}`.includes(CRASH_CANARY), false);
  };
  /** A case that failed leaves the stack as it stopped: the next one starts from a fresh deploy. */
  let dirty = false;
  before(async () => {
    writeCrashStack(bed.dir, bed);
    loadImages(bed.source, ['ferry-tb-postgres:1', 'ferry-tb-app:1', 'ferry-tb-worker:1', 'ferry-tb-redis:1']);
    await deployed();
  });
  after(() => {
    if (!process.env.FERRY_KEEP_HOSTS) clean(bed);
  });

  for (const point of points())
    test(`${point.mode}: killed after ${point.event} of ${point.step}, ${point.during === 'rollback' ? 'rolled back again' : 'resumed, rolled back'}: nothing lost or left`, async () => {
      if (dirty) await deployed();
      dirty = true;
      const r = await crashCycle(bed, point);
      console.log(
        `crash ${point.mode} ${point.step}:${point.event}: ${r.acked} acknowledged writes, ${r.failed} failed requests, longest gap ${r.gapMs} ms, written back: ${r.wroteBack}`,
      );
      // What each run printed, for a failure to be read from CI's log.
      const said = `\n--- resume:\n${tail(r.resumed)}\n--- rollback:\n${tail(r.rolledBack)}`;
      assert.ok(r.killed, `the run did not reach ${point.step}:${point.event}`);
      assert.ok(r.acked > 0, 'the probe had writes acknowledged');
      // (A rollback killed right after the write-back applied never says it changed: the rows say it.)
      if (point.during !== 'rollback')
        assert.ok(r.wroteBack, `the rollback carried the writes the target took back to the source${said}`);
      assert.equal(r.resumed.code, 0, r.resumed.err);
      assert.deepEqual(r.missingAfterResume, [], 'acknowledged writes missing on the target after the resume');
      assert.ok(r.servedAfterResume, `the site answers after the resume${said}`);
      assert.deepEqual([r.statusAfterResume.locks, r.statusAfterResume.left], [[], []]);
      assert.equal(r.rolledBack.code, 0, r.rolledBack.err);
      assert.deepEqual(r.missingAfterRollback, [], 'acknowledged writes missing on the source after the rollback');
      assert.ok(r.servedAfterRollback, `the site answers after the rollback${said}${r.unservedAfterRollback}`);
      assert.deepEqual(
        [
          r.statusAfterRollback.stage,
          r.statusAfterRollback.locks,
          r.statusAfterRollback.left,
          r.statusAfterRollback.markers,
        ],
        ['none', [], [], []],
      );
      assert.equal(r.leaked, false, 'a canary secret was printed');
      dirty = false;
    });
});
