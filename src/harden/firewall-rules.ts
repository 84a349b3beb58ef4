/**
 * The ports a hardened server opens besides sshd's: the fleet file's, 80/443 for a proxy,
 * placed services from their stack's server, exporters from the monitoring server.
 */
import { hostPostgresAccess, hostPostgresAllows } from '../deploy/host-postgres.js';
import { placementOf } from '../deploy/placement.js';
import type { ServerDef } from '../model/fleet.js';
import type { FirewallAllow } from '../model/harden.js';
import type { LoadedFleet } from '../model/loaded.js';
import { monitoringAllows, sshProbers } from '../monitoring/firewall.js';

export interface OpenPorts {
  /** ufw's rules (on the host). */
  host: FirewallAllow[];
  /** The published container ports that stay reachable (DOCKER-USER). */
  containers: FirewallAllow[];
  /** Addresses that probe sshd without logging in (the monitoring): fail2ban ignores them. */
  sshProbers: string[];
}

export function openPorts(loaded: LoadedFleet, server: ServerDef): OpenPorts {
  const fleetRules = server.harden?.firewall?.allow ?? [];
  const stacks = loaded.stacks.filter((s) => s.def.server === server.name);
  const proxied = stacks.filter((s) => s.def.proxy).map((s) => s.def.name);
  const web: FirewallAllow[] =
    proxied.length > 0 ? ['80', '443'].map((port) => ({ port, proto: 'tcp' as const, from: [], why: 'proxy' })) : [];
  const placed: FirewallAllow[] = loaded.stacks.flatMap((s) => {
    if (!s.project || !s.def.placement) return [];
    let all: ReturnType<typeof placementOf> = [];
    try {
      all = placementOf(s, loaded.fleet);
    } catch {
      return []; // the deploy plan reports a placement it cannot make
    }
    return all
      .filter((p) => p.server === server.name)
      .map((p) => ({
        port: String(p.port),
        proto: 'tcp' as const,
        from: [p.allowFrom],
        why: `${s.def.name}/${p.service}`,
      }));
  });
  const monitored = monitoringAllows(loaded, server);
  // A Postgres on the host: its stacks' containers reach it through INPUT.
  const hostPg = loaded.stacks.flatMap((s) => {
    try {
      const home = s.def.server === undefined ? undefined : loaded.fleet.servers[s.def.server];
      const a = home && hostPostgresAccess(s, server, home);
      return a ? hostPostgresAllows(a) : [];
    } catch {
      return []; // the deploy plan reports a server without an address
    }
  });
  return {
    host: [...web, ...fleetRules, ...placed, ...monitored, ...hostPg],
    containers: [...fleetRules, ...placed, ...monitored],
    sshProbers: sshProbers(loaded, server.name),
  };
}
