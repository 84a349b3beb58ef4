/**
 * How a stack's backup and drill timers stand on its server, as the backups probe reads
 * them (inventory/live/probes/backups.ts), for `ferry backup status` and `check --live`:
 * whether a timer runs, when it next fires, how its last run ended, and how far apart two
 * runs are (systemd-analyze's next two elapses): a last good backup older than that
 * interval and a twelfth is overdue (a daily schedule: 26 h, the BackupTooOld default). Pure.
 */
import type { Job } from './schedule.js';

export interface ScheduleState {
  /** The timer's ActiveState: `active` when it will fire. */
  timer: string;
  /** ISO times. */
  next?: string;
  lastTrigger?: string;
  /** The service's Result of its last run (`success`, `exit-code`, ...); undefined before any. */
  lastResult?: string;
  /** When that run ended (ISO). */
  lastExit?: string;
  /** Milliseconds between two runs. */
  intervalMs?: number;
}

/** `Thu 2026-12-03 20:49:33 UTC` as ISO; undefined when empty or not a UTC time. */
function utc(text: string | undefined): string | undefined {
  const m = /(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC/.exec(text ?? '');
  return m ? `${m[1]}T${m[2]}Z` : undefined;
}

const props = (text: string): Map<string, string> =>
  new Map(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]),
  );

/** From what `systemctl show` printed of the timer and the service, and `systemd-analyze calendar` of the schedule. */
export function scheduleStateOf(timerText: string, serviceText: string, calendar: string): ScheduleState {
  const timer = props(timerText);
  const service = props(serviceText);
  const first = utc(/Next elapse: (.*)/.exec(calendar)?.[1]);
  const second = utc(/Iter(?:ation|\.) #2: (.*)/.exec(calendar)?.[1]);
  const next = utc(timer.get('NextElapseUSecRealtime'));
  const lastTrigger = utc(timer.get('LastTriggerUSec'));
  // Result is `success` for a service that never ran: only a run that ended tells.
  const lastExit = utc(service.get('ExecMainExitTimestamp'));
  return {
    timer: timer.get('ActiveState') || 'inactive',
    ...(next ? { next } : {}),
    ...(lastTrigger ? { lastTrigger } : {}),
    ...(lastExit && service.get('Result') ? { lastResult: service.get('Result')!, lastExit } : {}),
    ...(first && second ? { intervalMs: Date.parse(second) - Date.parse(first) } : {}),
  };
}

/** A duration in minutes, or in hours from two hours. */
export const span = (ms: number): string =>
  ms >= 2 * 3600_000 ? `${Math.round(ms / 3600_000)} h` : `${Math.round(ms / 60_000)} min`;

/** The age past which the last good backup is overdue: one interval and a twelfth. */
export const overdueAfterMs = (intervalMs: number): number => Math.round((intervalMs * 13) / 12);

/**
 * What is wrong with a job's timer, in words; undefined when nothing is. `lastGood`: the
 * newest complete backup's time (ISO) in any repository; a failed scheduled run that a
 * good backup followed is no longer a problem. A drill or a check has no `lastGood`: its
 * last scheduled run failing is a problem until one passes.
 */
export function scheduleProblem(
  s: ScheduleState,
  lastGood: string | undefined,
  now: number,
  job: Job = 'backup',
): string | undefined {
  if (s.timer !== 'active')
    return `the ${job === 'backup' ? '' : `${job} `}timer is ${s.timer}: no scheduled ${job} will run`;
  if (s.lastResult !== undefined && s.lastResult !== 'success' && (!lastGood || lastGood < s.lastExit!))
    return `the last scheduled ${job === 'backup' ? 'run' : job} failed (${s.lastResult}, ${s.lastExit!.slice(0, 16)}Z)`;
  const lastGoodAgeMs = lastGood ? now - Date.parse(lastGood) : undefined;
  if (s.intervalMs !== undefined && lastGoodAgeMs !== undefined && lastGoodAgeMs > overdueAfterMs(s.intervalMs))
    return `overdue: the last good backup is ${span(lastGoodAgeMs)} old, more than the schedule allows (${span(overdueAfterMs(s.intervalMs))})`;
  return undefined;
}
