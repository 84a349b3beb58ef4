/**
 * Collects a server's facts: every probe runs over the one connection the transport
 * holds, at once; outputs are applied in a fixed order. A probe that fails is noted in
 * `problems` and the others still count.
 */
import { TransportError, type Transport } from '../../transport/transport.js';
import { emptyFacts, type HostFacts } from './facts.js';
import type { Probe } from './probe.js';
import { dockerProbe, dockerStatsProbe } from './probes/docker.js';
import { networkProbe } from './probes/network.js';
import { scheduleProbe } from './probes/schedule.js';
import { securityProbe } from './probes/security.js';
import { backupsProbe } from './probes/backups.js';
import { systemProbe } from './probes/system.js';
import { webProbe } from './probes/web.js';

export const PROBES: readonly Probe[] = [
  systemProbe,
  dockerProbe,
  dockerStatsProbe,
  networkProbe,
  webProbe,
  scheduleProbe,
  securityProbe,
  backupsProbe,
];

export interface CollectOptions {
  /** The SSH user; root probes run as is for root. */
  user: string;
  /** Run root probes through sudo (non-root users). */
  sudo: boolean;
  now?: Date;
  probes?: readonly Probe[];
  timeoutMs?: number;
}

export async function collectFacts(
  server: string,
  host: string,
  transport: Transport,
  opts: CollectOptions,
): Promise<HostFacts> {
  const now = opts.now ?? new Date();
  const probes = opts.probes ?? PROBES;
  const facts = emptyFacts(server, host, now.toISOString());
  if (opts.user !== 'root' && !opts.sudo) {
    const names = probes
      .filter((p) => p.root)
      .map((p) => p.name)
      .join(', ');
    facts.problems.push({
      probe: names,
      message: `user ${opts.user} is not root and sudo is off: facts that need root (Docker, firewall, nginx, volume sizes) may be missing or read as absent; set \`sudo: true\` for this server`,
    });
  }
  const results = await Promise.allSettled(
    probes.map((p) => transport.exec(p.command, { sudo: p.root && opts.sudo, timeoutMs: opts.timeoutMs ?? 60_000 })),
  );
  results.forEach((r, i) => {
    const probe = probes[i]!;
    if (r.status === 'rejected') {
      // A probe that timed out is one missing fact; a lost connection fails the whole server.
      if (r.reason instanceof TransportError && r.reason.code === 'command-timeout') {
        facts.problems.push({ probe: probe.name, message: r.reason.message });
        return;
      }
      throw r.reason;
    }
    try {
      probe.apply(facts, r.value, { now });
    } catch (e) {
      facts.problems.push({
        probe: probe.name,
        message: `could not read its output: ${e instanceof Error ? e.message : String(e)}`,
      });
    }
  });
  return facts;
}
