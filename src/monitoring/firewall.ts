/**
 * The exporter ports of a server, open to the monitoring server only: what a hardened
 * server's firewall (ufw for the host, DOCKER-USER for published container ports) adds
 * when the fleet has `monitoring`. Without hardening nothing opens them to anyone else
 * either way; with it, every other host is refused.
 */
import type { ServerDef } from '../model/fleet.js';
import type { FirewallAllow } from '../model/harden.js';
import type { LoadedFleet } from '../model/loaded.js';
import { EXPORTER_PORTS, monitoringTargets } from './targets.js';

export function monitoringAllows(loaded: LoadedFleet, server: ServerDef): FirewallAllow[] {
  const m = loaded.fleet.monitoring;
  const mon = m ? loaded.fleet.servers[m.server] : undefined;
  if (!mon) return [];
  const from = mon.privateAddress ?? mon.host;
  const exporters = monitoringTargets(loaded).exporters.filter((e) => e.server === server.name);
  const ports = [
    EXPORTER_PORTS.node,
    ...(m!.cadvisor ? [EXPORTER_PORTS.cadvisor] : []),
    ...exporters.map((e) => Number(e.address.split(':').pop())),
  ];
  return ports.map((port) => ({ port: String(port), proto: 'tcp', from: [from], why: 'monitoring' }));
}
