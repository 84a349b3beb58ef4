/**
 * `port-in-use`: a port a stack publishes is already taken on its server by something
 * else: a process outside Docker (nginx, a host Postgres) or another project's container.
 * The stack's own running containers holding their ports is no conflict.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { HostFacts, Listener } from '../../inventory/live/facts.js';
import type { PortMapping } from '../../model/compose.js';
import { addressesOverlap } from '../addresses.js';
import { ids, loadedStacks, locSvc } from '../common.js';
import type { LiveRule } from './context.js';

function holder(facts: HostFacts, p: PortMapping, port: number): { what: string; project?: string } | undefined {
  for (const c of facts.containers) {
    if (c.state !== 'running') continue;
    if (c.ports.some((q) => q.hostPort === port && q.protocol === p.protocol && addressesOverlap(p.hostIp, q.hostIp)))
      return {
        what: `container ${c.name}${c.project ? ` (project ${c.project})` : ''}`,
        ...(c.project ? { project: c.project } : {}),
      };
  }
  const l: Listener | undefined = facts.listening.find(
    (x) =>
      x.port === port &&
      x.protocol === p.protocol &&
      addressesOverlap(p.hostIp, x.address) &&
      x.process !== 'docker-proxy',
  );
  return l ? { what: `${l.process ?? 'a process'} listening on ${l.address}:${l.port}` } : undefined;
}

export const portInUse: LiveRule = (fleet, factsByServer) => {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    const facts = st.server ? factsByServer.get(st.server) : undefined;
    if (!facts) continue;
    for (const svc of st.project.services) {
      for (const p of svc.ports) {
        if (p.published === undefined) continue;
        for (let port = p.published; port <= (p.publishedEnd ?? p.published); port++) {
          const h = holder(facts, p, port);
          if (!h || h.project === st.project.name) continue;
          out.push(
            finding(
              'port-in-use',
              'error',
              `${st.name}/${svc.name} publishes ${port}/${p.protocol}, but on server ${st.server} it is already used by ${h.what}`,
              locSvc(st, svc.name, 'ports', p.index),
              'Choose another host port, stop what holds it, or bind to an address that does not overlap (e.g. 127.0.0.1).',
              ids(st, svc.name),
            ),
          );
          break;
        }
      }
    }
  }
  return out;
};
