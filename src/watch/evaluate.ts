/**
 * From samples to alerts, purely: each sample gives the conditions that hold now; an alert
 * fires once its condition has held for as many samples in a row as it needs (CPU: 3, a
 * second's reading being noisy; the rest: 1), and resolves at the first sample of its
 * server without it. A server that cannot be read keeps its other alerts as they were:
 * nothing is known of them; so does a stack whose containers cannot be read.
 */
import type { Severity, Thresholds } from '../model/monitoring.js';
import type { ContainerSample, ServerSample } from './sample.js';

export type WatchThresholds = Pick<Thresholds, 'cpuPercent' | 'memoryPercent' | 'diskPercent'>;

export interface Condition {
  /** Stable identity: alert, server, stack and subject. */
  key: string;
  alert: string;
  severity: Severity;
  server: string;
  stack?: string;
  /** What it is about: a mount, a container, a check. */
  subject: string;
  summary: string;
  /** Samples in a row it must hold before it fires. */
  samples: number;
}

export interface Alert extends Omit<Condition, 'samples'> {
  firedAt: string;
  resolvedAt?: string;
}

export interface Transition {
  status: 'firing' | 'resolved';
  alert: Alert;
}

const CPU_SAMPLES = 3;

function condition(c: Omit<Condition, 'key' | 'samples'>, samples = 1): Condition {
  return { ...c, key: [c.alert, c.server, c.stack ?? '', c.subject].join('|'), samples };
}

/** The conditions a sample shows. */
export function conditions(s: ServerSample, t: WatchThresholds): Condition[] {
  const server = s.server;
  if (s.unreachable !== undefined)
    return [
      condition({
        alert: 'HostUnreachable',
        severity: 'critical',
        server,
        subject: server,
        summary: `${server} cannot be read over SSH: ${s.unreachable}`,
      }),
    ];
  const out: Condition[] = [];
  if (s.cpuPercent !== undefined && s.cpuPercent > t.cpuPercent)
    out.push(
      condition(
        {
          alert: 'HostHighCpu',
          severity: 'warning',
          server,
          subject: 'cpu',
          summary: `${server}: CPU ${s.cpuPercent} % busy (threshold ${t.cpuPercent} %)`,
        },
        CPU_SAMPLES,
      ),
    );
  if (s.memoryPercent !== undefined && s.memoryPercent > t.memoryPercent)
    out.push(
      condition({
        alert: 'HostHighMemory',
        severity: 'warning',
        server,
        subject: 'memory',
        summary: `${server}: memory ${s.memoryPercent} % used (threshold ${t.memoryPercent} %)`,
      }),
    );
  for (const d of s.disks.filter((x) => x.usePercent > t.diskPercent))
    out.push(
      condition({
        alert: 'HostDiskFull',
        severity: 'warning',
        server,
        subject: d.mount,
        summary: `${server}: ${d.mount} is ${d.usePercent} % full (threshold ${t.diskPercent} %)`,
      }),
    );
  for (const c of s.containers) {
    const stopped = c.status !== 'running' && !oneShotDone(c);
    if (stopped || c.health === 'unhealthy')
      out.push(
        condition({
          alert: stopped ? 'ContainerDown' : 'ContainerUnhealthy',
          severity: 'critical',
          server,
          stack: c.stack,
          subject: c.service,
          summary: stopped
            ? `${c.stack}/${c.service} on ${server}: ${c.status === 'missing' ? 'no container' : `${c.name} is ${c.status}${c.exitCode ? ` (exit ${c.exitCode})` : ''}`}`
            : `${c.stack}/${c.service} on ${server}: ${c.name} is unhealthy`,
        }),
      );
  }
  for (const h of s.httpProblems)
    out.push(
      condition({
        alert: 'HttpCheckFailing',
        severity: 'critical',
        server,
        stack: h.stack,
        subject: h.check,
        summary: `${h.stack} on ${server}: ${h.check}: ${h.problem}`,
      }),
    );
  for (const p of s.stackProblems)
    out.push(
      condition({
        alert: 'StackUnreadable',
        severity: 'critical',
        server,
        stack: p.stack,
        subject: p.stack,
        summary: `${p.stack} on ${server}: its containers cannot be read: ${p.problem}`,
      }),
    );
  for (const l of s.logErrors.filter((x) => x.lines > 0))
    out.push(
      condition({
        alert: 'LogErrors',
        severity: 'warning',
        server,
        stack: l.stack,
        subject: l.container,
        summary: `${l.stack} on ${server}: ${l.container} logged ${l.lines} error line${l.lines === 1 ? '' : 's'}, the last: ${l.last}`,
      }),
    );
  return out;
}

/**
 * A container that ran to completion: exited 0 without a policy that restarts it (a
 * migration, a one-off task). One with `always` or `unless-stopped` that exited was stopped.
 */
function oneShotDone(c: ContainerSample): boolean {
  return c.status === 'exited' && c.exitCode === 0 && !['always', 'unless-stopped'].includes(c.restart ?? 'no');
}

/** What the watch remembers between samples. */
export interface WatchState {
  /** Conditions seen in a row, by key, not yet firing. */
  pending: Map<string, number>;
  firing: Map<string, Alert>;
}

export const newState = (): WatchState => ({ pending: new Map(), firing: new Map() });

/** Applies one round of samples (one per server) to the state; returns what fired and what resolved. */
export function step(state: WatchState, samples: readonly ServerSample[], t: WatchThresholds): Transition[] {
  const out: Transition[] = [];
  for (const s of samples) {
    const now = conditions(s, t);
    const keys = new Set(now.map((c) => c.key));
    for (const c of now) {
      if (state.firing.has(c.key)) continue;
      const seen = (state.pending.get(c.key) ?? 0) + 1;
      if (seen < c.samples) {
        state.pending.set(c.key, seen);
        continue;
      }
      state.pending.delete(c.key);
      const { samples: _n, ...rest } = c;
      const alert: Alert = { ...rest, firedAt: s.at };
      state.firing.set(c.key, alert);
      out.push({ status: 'firing', alert });
    }
    // What could not be read keeps its alerts as they were: the whole server's when it
    // could not be reached, a stack's own when its containers could not be read.
    const unread = new Set(s.stackProblems.map((p) => p.stack));
    const known = (alert: string, stack: string | undefined): boolean =>
      s.unreachable === undefined
        ? alert === 'StackUnreadable' || stack === undefined || !unread.has(stack)
        : alert === 'HostUnreachable';
    for (const [key, a] of state.firing)
      if (a.server === s.server && known(a.alert, a.stack) && !keys.has(key)) {
        state.firing.delete(key);
        out.push({ status: 'resolved', alert: { ...a, resolvedAt: s.at } });
      }
    for (const key of state.pending.keys()) {
      const [alert, server, stack] = key.split('|');
      if (server === s.server && !keys.has(key) && known(alert!, stack || undefined)) state.pending.delete(key);
    }
  }
  return out;
}
