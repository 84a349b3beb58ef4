/**
 * What a watch installed on a server saw, read back: its configuration, its state (samples
 * taken, peaks, what fires now), its events since it last started (alerts fired and
 * resolved, deliveries refused, samples that failed, its end) and its timer. The command
 * and the pure reading of its output.
 */
import { cmd, type Command } from '../../shell/command.js';
import { sectioned } from '../../inventory/live/probes/sectioned.js';
import { sections } from '../../inventory/live/probe.js';
import type { Alert } from '../evaluate.js';
import { watchConfigPath, watchStateDir, watchUnit } from './files.js';

export const watchStatusCommand = (name: string): Command =>
  sectioned({
    config: cmd('cat', watchConfigPath(name)),
    state: cmd('cat', `${watchStateDir(name)}/state.json`),
    events: cmd('cat', `${watchStateDir(name)}/events.jsonl`),
    timer: cmd('systemctl', 'is-active', watchUnit(name, 'timer')),
    result: cmd('systemctl', 'show', '-p', 'Result', '--value', watchUnit(name, 'service')),
  });

export interface InstalledWatch {
  server: string;
  /** Its configuration is on the server (false once taken away). */
  installed: boolean;
  /** The timer runs: the watch goes on. */
  running: boolean;
  started?: string;
  until?: string;
  everyS?: number;
  stacks: string[];
  samples: number;
  lastSample?: string;
  peaks: { cpuPercent?: number; memoryPercent?: number; diskPercent?: number };
  alerts: Alert[];
  stillFiring: string[];
  failedDeliveries: { at: string; receiver: string; alert: string; error: string }[];
  failedSamples: string[];
  /** When it ended by itself. */
  ended?: string;
  /** systemd's result of the last run (`success`, `exit-code`, ...). */
  lastResult?: string;
}

interface Event {
  event: string;
  at: string;
  [k: string]: unknown;
}

const json = (text: string | undefined): unknown => {
  try {
    return text?.trim() ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
};

/** The events of the watch's last start (an unreadable line is skipped). */
function lastRun(text: string): Event[] {
  const all = text
    .split('\n')
    .map((l) => json(l) as Event | undefined)
    .filter((e): e is Event => typeof e?.event === 'string');
  const from = all.map((e) => e.event).lastIndexOf('started');
  return from < 0 ? all : all.slice(from);
}

export function parseWatchStatus(server: string, stdout: string): InstalledWatch {
  const s = sections(stdout);
  const config = json(s.get('config')) as
    { started?: string; until?: string; every_s?: number; stacks?: { stack: string }[] } | undefined;
  const state = json(s.get('state')) as
    | { samples?: number; last_epoch?: number; peaks?: InstalledWatch['peaks']; firing?: Record<string, Alert> }
    | undefined;
  const events = lastRun(s.get('events') ?? '');
  const started = events.find((e) => e.event === 'started');
  const alerts: Alert[] = [];
  const out: InstalledWatch = {
    server,
    installed: config !== undefined,
    running: (s.get('timer') ?? '').trim() === 'active',
    stacks: config?.stacks?.map((x) => x.stack) ?? (started?.stacks as string[] | undefined) ?? [],
    samples: state?.samples ?? 0,
    peaks: state?.peaks ?? {},
    alerts,
    stillFiring: Object.keys(state?.firing ?? {}),
    failedDeliveries: [],
    failedSamples: [],
  };
  const startedAt = config?.started ?? (started?.started as string | undefined);
  const until = config?.until ?? (started?.until as string | undefined);
  if (startedAt) out.started = startedAt;
  if (until) out.until = until;
  const every = config?.every_s ?? (started?.every_s as number | undefined);
  if (every !== undefined) out.everyS = every;
  if (state?.last_epoch) out.lastSample = new Date(state.last_epoch * 1000).toISOString();
  const result = (s.get('result') ?? '').trim();
  if (result) out.lastResult = result;
  for (const e of events) {
    const { event, at, ...rest } = e;
    if (event === 'firing') alerts.push(rest as unknown as Alert);
    else if (event === 'resolved') {
      const a = rest as unknown as Alert;
      const open = [...alerts].reverse().find((x) => x.key === a.key && !x.resolvedAt);
      if (open && a.resolvedAt) open.resolvedAt = a.resolvedAt;
    } else if (event === 'delivery-failed')
      out.failedDeliveries.push({
        at,
        receiver: String(rest.receiver),
        alert: String(rest.alert),
        error: String(rest.error),
      });
    else if (event === 'sample-failed') out.failedSamples.push(at);
    else if (event === 'ended') out.ended = at;
  }
  return out;
}
