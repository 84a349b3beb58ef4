/**
 * The watch installed on the servers, so that it runs while this machine is off:
 * `ferry watch [NAMES] --install` (a plan, journaled: jq and curl, the runner, its
 * configuration and receivers, a systemd timer per server), `--status` (what each server's
 * watch saw), `--remove` (taken away; what it saw is kept on the server).
 */
import { FerryError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { makePlan } from '../engine/plan.js';
import { openJournal } from '../journal/journal.js';
import { stateDir } from '../state/dir.js';
import { DEFAULT_THRESHOLDS } from '../fleet/monitoring-build.js';
import { watchCanSend } from '../watch/notify.js';
import {
  renderWatchConfig,
  renderWatchReceivers,
  sameWatch,
  watchConfigPath,
  watchName,
  watchPeers,
  type WatchInstall,
} from '../watch/agent/files.js';
import { serverTarget } from '../monitoring/targets.js';
import { watchInstallSteps, watchRemoveStep } from '../watch/agent/steps.js';
import { parseWatchStatus, watchStatusCommand, type InstalledWatch } from '../watch/agent/status.js';
import { cmd } from '../shell/command.js';
import type { CliIo } from './io.js';
import type { Step } from '../engine/step.js';
import type { ErrorCode } from '../core/codes.js';
import { execute, runFailure, withSession } from './run-plan.js';
import type { Session } from './session.js';
import { watchTargets } from './watch-targets.js';
import { receiverSecrets, type WatchFlags } from './watch-input.js';

export interface InstalledFlags extends WatchFlags {
  name?: string;
}

/**
 * When the watch on the server began: kept when the same watch is installed there and not
 * over yet (installing again changes nothing), else now.
 */
async function startOf(s: Session, w: WatchInstall, wanted: string, now: Date): Promise<Date> {
  const r = await s.transports(w.target.server).exec(cmd('cat', watchConfigPath(w.name)), { sudo: w.target.sudo });
  if (r.code !== 0) return now;
  try {
    const had = JSON.parse(r.stdout) as { started?: string; until_epoch?: number };
    if (had.started && (had.until_epoch ?? 0) * 1000 > now.getTime() && sameWatch(r.stdout) === sameWatch(wanted))
      return new Date(had.started);
  } catch {
    // Unreadable: written again.
  }
  return now;
}

export function watchInstallCommand(
  names: string[],
  flags: InstalledFlags,
  io: CliIo,
  timing: { forMs: number; everyMs: number },
): Promise<number> {
  return withSession(flags, io, async (s) => {
    const name = flags.name ?? watchName(names);
    const mon = s.loaded.fleet.monitoring;
    const receivers = (mon?.receivers ?? []).filter(watchCanSend);
    const secrets = receiverSecrets(receivers, io);
    const receiversFile = new Secret(renderWatchReceivers(receivers, secrets));
    if (receivers.length === 0)
      io.err('warning: no receiver in `monitoring.receivers`: alerts are kept on the servers only\n');
    const now = new Date();
    const steps: Step[] = [];
    const until: string[] = [];
    const targets = watchTargets(s.loaded, names);
    const peers = watchPeers(targets, (server) => {
      const t = serverTarget(s.loaded.fleet.servers[server]!);
      return { server, address: t.address, port: t.sshPort };
    });
    for (const target of targets) {
      const peer = peers.get(target.server);
      const w: WatchInstall = {
        name,
        target,
        thresholds: mon?.thresholds ?? DEFAULT_THRESHOLDS,
        everyS: Math.round(timing.everyMs / 1000),
        forS: Math.round(timing.forMs / 1000),
        ...(peer ? { peer } : {}),
      };
      const started = await startOf(s, w, renderWatchConfig(w, now), now);
      until.push(`${target.server} until ${new Date(started.getTime() + w.forS * 1000).toISOString()}`);
      steps.push(...watchInstallSteps(w, started, receiversFile));
    }
    await runSteps(s, steps, flags, {
      command: `watch --install ${name}`,
      code: 'install-failed',
      failed: 'installed',
    });
    if (!flags.json) {
      const again = (flag: string) => `ferry watch ${[...names, flag].join(' ')}${flags.name ? ` --name ${name}` : ''}`;
      io.out(
        `watch ${name} (every ${Math.round(timing.everyMs / 1000)} s): ${until.join(', ')}\nsee it: ${again('--status')}; take it away: ${again('--remove')}\n`,
      );
    }
    return 0;
  });
}

export function watchRemoveCommand(names: string[], flags: InstalledFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const name = flags.name ?? watchName(names);
    const steps = watchTargets(s.loaded, names).map((t) => watchRemoveStep(name, t.server, t.sudo));
    await runSteps(s, steps, flags, {
      command: `watch --remove ${name}`,
      code: 'systemctl-failed',
      failed: 'taken away',
    });
    return 0;
  });
}

/** Runs the steps as a plan, journaled, without a stack's lock; a failed step is the command's error. */
async function runSteps(
  s: Session,
  steps: Step[],
  flags: InstalledFlags,
  o: { command: string; code: ErrorCode; failed: string },
): Promise<void> {
  const journal = openJournal(stateDir(s.io.env), s.redactor);
  try {
    const summary = await execute(
      s,
      { plan: makePlan(steps), targets: [] },
      o.command,
      flags.json ? { json: true } : {},
      journal,
    );
    if (summary.failed > 0)
      throw runFailure(
        summary,
        o.code,
        'the watch',
        (why) => `${o.command}: the watch could not be ${o.failed}: ${why ?? 'a step failed'}`,
        `\`ferry runs show ${summary.runId}\` has the whole run.`,
      );
  } finally {
    journal.close();
  }
}

/** Exit codes: 0 no alert fired, 1 one did, on any server. */
export function watchStatusCommandLine(names: string[], flags: InstalledFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const name = flags.name ?? watchName(names);
    const mon = s.loaded.fleet.monitoring;
    receiverSecrets((mon?.receivers ?? []).filter(watchCanSend), io);
    const seen = await Promise.all(
      watchTargets(s.loaded, names).map(async (t) => {
        const r = await s.transports(t.server).exec(watchStatusCommand(name), { sudo: t.sudo });
        return parseWatchStatus(t.server, r.stdout);
      }),
    );
    if (seen.every((w) => !w.installed && !w.started))
      throw new FerryError(
        'watch-not-installed',
        `no watch ${name} on ${seen.map((w) => w.server).join(', ')}`,
        'the servers',
        `Install it with \`ferry watch ${[...names, '--install'].join(' ')}\`, or name the watch with --name.`,
      );
    if (flags.json) io.out(`${io.redactor.redact(JSON.stringify({ watch: name, servers: seen }))}\n`);
    else io.out(io.redactor.redact(statusText(name, seen)));
    return seen.some((w) => w.alerts.length > 0) ? 1 : 0;
  });
}

function statusText(name: string, seen: InstalledWatch[]): string {
  const out: string[] = [];
  for (const w of seen) {
    if (!w.installed && !w.started) {
      out.push(`${w.server}: no watch ${name}`);
      continue;
    }
    const state = w.running
      ? `runs until ${w.until}`
      : w.ended
        ? `ended ${w.ended}`
        : w.installed
          ? `stopped (its timer is not active${w.lastResult ? `, last run: ${w.lastResult}` : ''})`
          : 'taken away';
    const p = w.peaks;
    out.push(
      `${w.server}: watch ${name} (${w.stacks.join(', ') || 'the server'}) ${state}; ${w.samples} samples${w.lastSample ? `, the last ${w.lastSample}` : ''}; peak CPU ${p.cpuPercent ?? '-'} %, memory ${p.memoryPercent ?? '-'} %, disk ${p.diskPercent ?? '-'} %`,
    );
    for (const a of w.alerts)
      out.push(
        `  ${a.firedAt} ${a.severity} ${a.alert}: ${a.summary} (${a.resolvedAt ? `over ${a.resolvedAt}` : 'firing'})`,
      );
    for (const d of w.failedDeliveries)
      out.push(`  ${d.at} receiver ${d.receiver} did not take ${d.alert}: ${d.error}`);
    if (w.failedSamples.length > 0)
      out.push(`  ${w.failedSamples.length} samples could not be taken, the last ${w.failedSamples.at(-1)}`);
  }
  const fired = seen.reduce((n, w) => n + w.alerts.length, 0);
  const firing = seen.reduce((n, w) => n + w.stillFiring.length, 0);
  out.push(`${fired} alert${fired === 1 ? '' : 's'} fired, ${firing} still firing`);
  return `${out.join('\n')}\n`;
}
