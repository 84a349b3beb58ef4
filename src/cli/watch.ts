/**
 * `ferry watch [STACK|SERVER...] --for 72h`: samples the servers over SSH every `--every`
 * (CPU, memory, disks, the stacks' containers, HTTP checks and error lines in their logs),
 * fires and resolves alerts against the fleet's thresholds, sends them to its receivers,
 * and writes a report. It changes nothing on any server and takes no lock.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FerryError, UsageError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { DEFAULT_THRESHOLDS } from '../fleet/monitoring-build.js';
import type { ReceiverDef } from '../model/monitoring.js';
import { stateDir } from '../state/dir.js';
import { sampleServer, SETUP_FAILURES } from '../watch/collect.js';
import { newState, step, type Alert, type Transition } from '../watch/evaluate.js';
import { deliver, deliveries, line, watchCanSend } from '../watch/notify.js';
import { addPeaks, type Peaks } from '../watch/report.js';
import type { CliIo } from './io.js';
import { openSession } from './session.js';
import { watchTargets } from './watch-targets.js';
import { watchInstallCommand, watchRemoveCommand, watchStatusCommandLine } from './watch-installed.js';
import { duration, receiverSecrets, type WatchFlags } from './watch-input.js';

const MIN_EVERY_MS = 5_000;

/** Exit codes: 0 nothing fired, 1 an alert fired during the watch, 2 bad input. */
export async function watchCommand(names: string[], flags: WatchFlags, io: CliIo): Promise<number> {
  const forMs = duration(flags.for, 72 * 3_600_000, '--for');
  const everyMs = duration(flags.every, 60_000, '--every');
  if (everyMs < MIN_EVERY_MS || everyMs > forMs)
    throw new UsageError(
      `--every ${flags.every} must be at least 5s and no longer than --for`,
      'Sample every 30s to 5m.',
      '--every',
    );
  const modes = (['install', 'status', 'remove'] as const).filter((m) => flags[m]);
  if (modes.length > 1)
    throw new UsageError(
      `--${modes.join(' and --')} cannot go together`,
      'Install a watch, read its status, or take it away: one at a time.',
    );
  if (flags.name !== undefined && (modes.length === 0 || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/.test(flags.name)))
    throw new UsageError(
      modes.length === 0
        ? '--name names a watch installed on the servers: it goes with --install, --status or --remove'
        : `--name ${flags.name} is not a watch name`,
      'A name of letters, digits, - and _ (at most 80).',
      '--name',
    );
  if (flags.install) return watchInstallCommand(names, flags, io, { forMs, everyMs });
  if (flags.status) return watchStatusCommandLine(names, flags, io);
  if (flags.remove) return watchRemoveCommand(names, flags, io);
  const session = openSession(flags, io);
  const stop = stopSignal();
  try {
    const servers = watchTargets(session.loaded, names);
    const mon = session.loaded.fleet.monitoring;
    const receivers = (mon?.receivers ?? []).filter(watchCanSend);
    const secrets = receiverSecrets(receivers, io);
    for (const r of mon?.receivers ?? [])
      if (!watchCanSend(r))
        io.err(`warning: receiver ${r.name} (${r.type}) gets Alertmanager's alerts only, not the watch's\n`);
    if (receivers.length === 0)
      io.err('warning: no receiver in `monitoring.receivers`: alerts are printed here and in the report only\n');
    const thresholds = mon?.thresholds ?? DEFAULT_THRESHOLDS;
    const started = new Date();
    io.err(
      `watching ${servers.map((s) => (s.stacks.length > 0 ? `${s.server} (${s.stacks.map((x) => x.stack).join(', ')})` : s.server)).join(', ')} every ${everyMs / 1000} s for ${flags.for ?? '72h'}\n`,
    );
    const state = newState();
    const alerts: Alert[] = [];
    const failedDeliveries: { receiver: string; alert: string; error: string }[] = [];
    const peaks: Peaks = {};
    let round = 0;
    // Written after every round, so that a watch cut short still leaves what it saw.
    const report = () => ({
      started: started.toISOString(),
      ended: new Date().toISOString(),
      stopped_early: stop.stopped,
      every_s: everyMs / 1000,
      servers: servers.map((s) => ({ server: s.server, stacks: s.stacks.map((x) => x.stack) })),
      rounds: round,
      alerts,
      still_firing: [...state.firing.values()].map((a) => a.key),
      failed_deliveries: failedDeliveries,
      peaks,
    });
    while (!stop.stopped) {
      const sampled = await Promise.all(
        servers.map((w) =>
          sampleServer(session.transports(w.server), w, {
            logSeconds: everyMs / 1000 + 5,
            redact: (s) => io.redactor.redact(s),
          }),
        ),
      );
      const setup = round === 0 ? sampled.find((x) => x.failure && SETUP_FAILURES.has(x.failure.code)) : undefined;
      if (setup?.failure) throw setup.failure;
      const taken = sampled.map((x) => x.sample);
      addPeaks(peaks, taken);
      for (const t of step(state, taken, thresholds)) {
        if (t.status === 'firing') alerts.push(t.alert);
        else Object.assign(alerts.find((a) => a.key === t.alert.key && !a.resolvedAt) ?? {}, t.alert);
        io.out(
          flags.json
            ? `${JSON.stringify({ event: t.status, ...t.alert })}\n`
            : `${t.alert.resolvedAt ?? t.alert.firedAt} ${line(t)}\n`,
        );
        failedDeliveries.push(...(await send(t, receivers, secrets, io)));
      }
      round++;
      const next = started.getTime() + round * everyMs;
      if (next >= started.getTime() + forMs) break;
      writeReport(report(), flags.report, io);
      await stop.sleep(next - Date.now());
    }
    const final = report();
    const file = writeReport(final, flags.report, io);
    if (flags.json) io.out(`${JSON.stringify({ ...final, report: file })}\n`);
    else io.out(summary(final, file));
    return alerts.length > 0 ? 1 : 0;
  } finally {
    stop.dispose();
    await session.close();
  }
}

async function send(
  t: Transition,
  receivers: readonly ReceiverDef[],
  secrets: Map<string, Secret>,
  io: CliIo,
): Promise<{ receiver: string; alert: string; error: string }[]> {
  const failed: { receiver: string; alert: string; error: string }[] = [];
  for (const d of deliveries(receivers, secrets, t)) {
    const error = await deliver(d);
    if (error === undefined) continue;
    const redacted = io.redactor.redact(error);
    io.err(`warning: receiver ${d.receiver} did not take ${t.alert.alert}: ${redacted}\n`);
    failed.push({ receiver: d.receiver, alert: t.alert.alert, error: redacted });
  }
  return failed;
}

/** Ctrl-C ends the watch at once, with its report written. */
function stopSignal() {
  const ac = new AbortController();
  const onInt = (): void => ac.abort();
  process.once('SIGINT', onInt);
  return {
    get stopped() {
      return ac.signal.aborted;
    },
    sleep: (ms: number) => sleep(Math.max(0, ms), undefined, { signal: ac.signal }).catch(() => undefined),
    dispose: () => process.removeListener('SIGINT', onInt),
  };
}

function writeReport(report: object, out: string | undefined, io: CliIo): string {
  const file = out
    ? resolve(io.cwd, out)
    : join(stateDir(io.env), 'watch', `${(report as { started: string }).started.replace(/[:.]/g, '-')}.json`);
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${io.redactor.redact(JSON.stringify(report, null, 2))}\n`);
  } catch (e) {
    throw new FerryError(
      'file-unwritable',
      `cannot write the watch's report ${file}: ${(e as Error).message}`,
      out ? `--report ${out}` : 'the state directory',
      'Name a file you can write with --report.',
      1,
    );
  }
  return file;
}

function summary(r: { rounds: number; alerts: Alert[]; still_firing: string[]; peaks: Peaks }, file: string): string {
  const lines = [
    `${r.rounds} samples, ${r.alerts.length} alert${r.alerts.length === 1 ? '' : 's'} fired, ${r.still_firing.length} still firing`,
  ];
  for (const [server, p] of Object.entries(r.peaks))
    lines.push(
      `  ${server}: peak CPU ${p.cpuPercent ?? '-'} %, memory ${p.memoryPercent ?? '-'} %, disk ${p.diskPercent ?? '-'} %${p.unreachable > 0 ? `, unreachable in ${p.unreachable} samples` : ''}`,
    );
  lines.push(`report: ${file}`);
  return `${lines.join('\n')}\n`;
}
