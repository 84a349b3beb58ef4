/**
 * `host-gateway-missing`: a service that connects to the Postgres installed on its own
 * server (`connections: [{ to: server:NAME }]`) reaches it at `host.docker.internal`,
 * which a Linux container resolves only when the service maps it to Docker's
 * `host-gateway` (`extra_hosts`). Services on the host's network need nothing.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { LoadedFleet } from '../../model/loaded.js';
import type { Service } from '../../model/compose.js';
import { ids, loadedStacks, locSvc } from '../common.js';

/** Whether `extra_hosts` maps some name to `host-gateway` (a list of NAME:IP / NAME=IP, or a mapping). */
export function mapsHostGateway(svc: Service): boolean {
  const raw = svc.raw.extra_hosts;
  const values = Array.isArray(raw)
    ? raw.map((e) => String(e).split(/[:=]/).slice(1).join(':'))
    : raw !== null && typeof raw === 'object'
      ? Object.values(raw).flatMap((v) => (Array.isArray(v) ? v.map(String) : [String(v)]))
      : [];
  return values.some((v) => v.trim() === 'host-gateway');
}

export function hostGateway(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    if (!st.server || !fleet.fleet.servers[st.server]?.postgres) continue;
    const names = new Set(st.def.connections.filter((c) => c.to === `server:${st.server}`).map((c) => c.service));
    for (const svc of st.project.services) {
      if (!names.has(svc.name) || svc.networkMode === 'host' || mapsHostGateway(svc)) continue;
      out.push(
        finding(
          'host-gateway-missing',
          'warning',
          `${st.name}/${svc.name} connects to the Postgres on ${st.server}, but host.docker.internal does not resolve in its containers`,
          locSvc(st, svc.name),
          'Add `extra_hosts: ["host.docker.internal:host-gateway"]` to the service, and connect to host.docker.internal.',
          ids(st, svc.name),
        ),
      );
    }
  }
  return out;
}
