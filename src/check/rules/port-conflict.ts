/**
 * `port-conflict`: two services that would publish the same host port on the same
 * server, or a replicated service whose fixed host port only one replica can bind.
 */
import { PortBindings } from '../port-tree.js';
import { finding, type Finding, type Where } from '../../core/finding.js';
import type { LoadedFleet } from '../../model/loaded.js';
import type { PortMapping, Service } from '../../model/compose.js';
import { ids, loadedStacks, locSvc, place, type StackView } from '../common.js';

interface Published {
  st: StackView;
  svc: Service;
  port: PortMapping & { published: number };
  where: Where;
}

function end(p: PortMapping & { published: number }): number {
  return p.publishedEnd ?? p.published;
}

export function describePort(p: PortMapping): string {
  const host =
    p.published === undefined
      ? ''
      : p.publishedEnd !== undefined && p.publishedEnd !== p.published
        ? `${p.published}-${p.publishedEnd}`
        : `${p.published}`;
  return `${p.hostIp ? `${p.hostIp}:` : ''}${host}/${p.protocol}`;
}

/** Published ports grouped by server; stacks with no server only collide with themselves. */
function groups(fleet: LoadedFleet): Map<string, Published[]> {
  const out = new Map<string, Published[]>();
  for (const st of loadedStacks(fleet)) {
    const key = st.server !== undefined ? `server:${st.server}` : `stack:${st.name}`;
    const list = out.get(key) ?? [];
    for (const svc of st.project.services) {
      if (svc.networkMode === 'host') continue; // Compose ignores `ports:` with host networking
      for (const port of svc.ports) {
        if (port.published === undefined) continue;
        list.push({
          st,
          svc,
          port: { ...port, published: port.published },
          where: locSvc(st, svc.name, 'ports', port.index),
        });
      }
    }
    out.set(key, list);
  }
  return out;
}

function pairFinding(first: Published, second: Published): Finding {
  const where = second.st.server !== undefined ? ` on server ${second.st.server}` : '';
  return finding(
    'port-conflict',
    'error',
    `${second.st.name}/${second.svc.name} publishes host port ${describePort(second.port)}${where}, already published by ${first.st.name}/${first.svc.name} (${describePort(first.port)}) at ${place(first.where)}`,
    second.where,
    'Only one container can bind a host port: publish one of them on another host port, bind them to different addresses, or move one stack to another server.',
    ids(second.st, second.svc.name),
  );
}

/** How many containers can publish this mapping at once: a host range for one container port is a pool. */
function slots(p: PortMapping & { published: number }): number {
  return p.target === p.targetEnd ? end(p) - p.published + 1 : 1;
}

function replicaFinding(e: Published): Finding | undefined {
  if (e.svc.replicas <= slots(e.port)) return undefined;
  return finding(
    'port-conflict',
    'error',
    `${e.st.name}/${e.svc.name} runs ${e.svc.replicas} replicas but publishes fixed host port ${describePort(e.port)}: the replicas conflict with themselves and only ${slots(e.port)} can bind it`,
    e.where,
    'Publish only the container port (`"80"`) behind a reverse proxy, use a host port range at least as wide as the replica count, or run one replica.',
    ids(e.st, e.svc.name),
  );
}

/** Each published port that collides with an earlier one, reported once, with the first it collides with. */
export function portConflict(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const list of groups(fleet).values()) {
    const bound = new PortBindings();
    list.forEach((e, i) => {
      const self = replicaFinding(e);
      if (self) out.push(self);
      const { protocol, hostIp } = e.port;
      const prev = bound.firstOverlap(protocol, hostIp, e.port.published, end(e.port));
      if (prev !== undefined) out.push(pairFinding(list[prev]!, e));
      bound.add(protocol, hostIp, e.port.published, end(e.port), i);
    });
  }
  return out;
}
