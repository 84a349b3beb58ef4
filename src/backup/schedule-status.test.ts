import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sections } from '../inventory/live/probe.js';
import { overdueAfterMs, scheduleProblem, scheduleStateOf } from './schedule-status.js';

/** A timer's sections as the backups probe prints them (without its `.JOB.STACK` suffixes). */
function parseScheduleState(stdout: string) {
  const s = sections(stdout);
  return scheduleStateOf(s.get('timer') ?? '', s.get('service') ?? '', s.get('calendar') ?? '');
}

/** What the command printed on a Debian 13 host (systemd 257) for a daily timer after a failed run. */
const FAILED = `@@timer
NextElapseUSecRealtime=Fri 2026-12-04 03:00:00 UTC
LastTriggerUSec=Thu 2026-12-03 03:00:04 UTC
ActiveState=active
@@service
Result=exit-code
ExecMainExitTimestamp=Thu 2026-12-03 03:00:09 UTC
@@calendar
  Original form: *-*-* 03:00
Normalized form: *-*-* 03:00:00
    Next elapse: Fri 2026-12-04 03:00:00 UTC
       From now: 19h left
   Iteration #2: Sat 2026-12-05 03:00:00 UTC
       From now: 1 day 19h left
`;

const NEVER_RAN = `@@timer
NextElapseUSecRealtime=Fri 2026-12-04 03:00:00 UTC
LastTriggerUSec=
ActiveState=active
@@service
Result=success
ExecMainExitTimestamp=
@@calendar
    Next elapse: Thu 2026-12-03 09:00:00 UTC
       Iter. #2: Thu 2026-12-03 10:00:00 UTC
`;

const DAY = 24 * 3600_000;
const NOW = Date.parse('2026-12-03T08:00:00Z');

test('parsed: the timer, its next run, the last run and how it ended, and the interval between two runs', () => {
  assert.deepEqual(parseScheduleState(FAILED), {
    timer: 'active',
    next: '2026-12-04T03:00:00Z',
    lastTrigger: '2026-12-03T03:00:04Z',
    lastResult: 'exit-code',
    lastExit: '2026-12-03T03:00:09Z',
    intervalMs: DAY,
  });
  const never = parseScheduleState(NEVER_RAN);
  assert.equal(never.lastResult, undefined, 'a service that never ran has no result');
  assert.equal(never.intervalMs, 3600_000, "older systemd's `Iter. #2` too");
  assert.equal(parseScheduleState('').timer, 'inactive');
});

test('problems: a stopped timer, a failed run no good backup followed, a last good backup older than the interval allows', () => {
  const failed = parseScheduleState(FAILED);
  assert.match(scheduleProblem(failed, '2026-12-02T03:00:05Z', NOW) ?? '', /last scheduled run failed \(exit-code/);
  assert.equal(scheduleProblem(failed, '2026-12-03T07:00:00Z', NOW), undefined, 'a good run by hand since');
  const ok = { ...failed, lastResult: 'success' };
  assert.equal(scheduleProblem(ok, new Date(NOW - DAY).toISOString(), NOW), undefined);
  assert.match(
    scheduleProblem(ok, new Date(NOW - 27 * 3600_000).toISOString(), NOW) ?? '',
    /^overdue: the last good backup is 27 h old, more than the schedule allows \(26 h\)$/,
  );
  assert.equal(overdueAfterMs(DAY), 26 * 3600_000);
  assert.match(scheduleProblem({ ...ok, timer: 'inactive' }, undefined, NOW) ?? '', /timer is inactive/);
  assert.equal(
    scheduleProblem({ ...ok, timer: 'inactive' }, undefined, NOW, 'drill'),
    'the drill timer is inactive: no scheduled drill will run',
  );
  assert.equal(
    scheduleProblem(failed, undefined, NOW, 'drill'),
    'the last scheduled drill failed (exit-code, 2026-12-03T03:00Z)',
  );
});
