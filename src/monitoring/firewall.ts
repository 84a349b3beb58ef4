/**
 * The exporter ports of a server, open to the monitoring server only. Every server's
 * exporters stack guards each port with its own drop rule (deploy/firewall.ts): INPUT for
 * node_exporter on the host's network, DOCKER-USER for the published ones; on the
 * monitoring server its own containers (Prometheus, on a Docker bridge) get in too. A
 * hardened server's ufw also allows the monitoring server to them, so `ufw status` says so.
 * Every port Prometheus scrapes is guarded, also those of exporters Ferry does not run
 * (a Postgres or nginx on the host): the one the user runs there is covered as well.
 */
import { DOCKER_POOLS, ufwSources, type Guard } from '../deploy/firewall.js';
import type { ServerDef } from '../model/fleet.js';
import type { FirewallAllow } from '../model/harden.js';
import type { LoadedFleet } from '../model/loaded.js';
import { exporterName } from './render/compose.js';
import { EXPORTER_PORTS, monitoringTargets } from './targets.js';

/** The exporters on a server and who may reach them; none without `monitoring`. */
export function exporterGuards(loaded: LoadedFleet, server: string): Guard[] {
  const m = loaded.fleet.monitoring;
  const mon = m ? loaded.fleet.servers[m.server] : undefined;
  const self = loaded.fleet.servers[server];
  if (!m || !mon || !self) return [];
  const allowFrom = mon.privateAddress ?? mon.host;
  const address = self.privateAddress ?? self.host;
  const local = server === m.server ? { localBridges: true } : {};
  const exporters = monitoringTargets(loaded).exporters.filter((e) => e.server === server);
  return [
    { service: 'node-exporter', address, port: EXPORTER_PORTS.node, allowFrom, onHost: true, ...local },
    ...(m.cadvisor ? [{ service: 'cadvisor', address, port: EXPORTER_PORTS.cadvisor, allowFrom, ...local }] : []),
    ...exporters.map((e) => ({
      service: e.stack ? exporterName(e) : e.kind,
      address,
      port: Number(e.address.split(':').pop()),
      allowFrom,
      ...(e.stack ? {} : { onHost: true }),
      ...local,
    })),
  ];
}

/**
 * Addresses that connect to a server's SSH port without logging in: Prometheus' banner
 * probe (HostUnreachable) from the monitoring server, and on the monitoring server itself
 * from its Docker bridges; and every other server of the fleet, whose installed watch
 * opens the port of the server it watches in turn (`ferry watch --install`). A hardened
 * server's fail2ban must not count them: its sshd jail (mode aggressive) bans an address
 * after a few connections that close before logging in, and the ban (every port,
 * DOCKER-USER too) would cut the monitoring, or the watch, off from the server.
 */
export function sshProbers(loaded: LoadedFleet, server: string): string[] {
  const { servers, monitoring: m } = loaded.fleet;
  if (!servers[server]) return [];
  const addresses = (s: ServerDef | undefined): string[] =>
    s ? [s.privateAddress, s.host].filter((a): a is string => a !== undefined) : [];
  const mon = m ? servers[m.server] : undefined;
  const others = Object.values(servers).filter((s) => s.name !== server);
  return [
    ...new Set([...addresses(mon), ...(mon && server === mon.name ? DOCKER_POOLS : []), ...others.flatMap(addresses)]),
  ];
}

/**
 * On the monitoring server, Prometheus reaches every exporter of its own server from its
 * bridge address, through INPUT (see DOCKER_POOLS): ufw must let Docker's pools in there.
 * Nothing else from these ranges gets that far: the exporter's own drop rule lets in only
 * the monitoring server and the Docker bridges.
 */
export function monitoringAllows(loaded: LoadedFleet, server: ServerDef): FirewallAllow[] {
  return exporterGuards(loaded, server.name).map((g) => ({
    port: String(g.port),
    proto: 'tcp',
    from: ufwSources(g),
    why: 'monitoring',
  }));
}
