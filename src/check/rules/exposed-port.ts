/**
 * `exposed-port`: a datastore, broker or admin UI published on every host interface.
 * Docker's published ports bypass ufw, so these are open to the internet.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { PortMapping } from '../../model/compose.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { ids, loadedStacks, locSvc } from '../common.js';
import { isAllInterfaces } from '../addresses.js';
import { privatePortLabel } from '../known-images.js';

export function onAllInterfaces(p: PortMapping): boolean {
  return isAllInterfaces(p.hostIp);
}

function range(a: number, b: number | undefined): string {
  return b !== undefined && b !== a ? `${a}-${b}` : `${a}`;
}

/** The `ports:` entry bound to loopback, for the hint. */
function loopbackExample(p: PortMapping): string {
  const target = range(p.target, p.targetEnd);
  const host = p.published === undefined ? '' : range(p.published, p.publishedEnd);
  return `"127.0.0.1:${host}:${target}"`;
}

export function exposedPort(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    for (const svc of st.project.services) {
      if (svc.networkMode === 'host') continue;
      for (const p of svc.ports) {
        if (!onAllInterfaces(p)) continue;
        const label = privatePortLabel(svc.image, p.target, p.targetEnd);
        if (!label) continue;
        const host =
          p.published === undefined ? 'an ephemeral host port' : `host port ${range(p.published, p.publishedEnd)}`;
        out.push(
          finding(
            'exposed-port',
            'warning',
            `${st.name}/${svc.name} (${label}) publishes container port ${range(p.target, p.targetEnd)}/${p.protocol} on all host interfaces as ${host}`,
            locSvc(st, svc.name, 'ports', p.index),
            `Docker's published ports bypass ufw (Docker writes its own iptables rules), so this is reachable from the internet even when the firewall denies it. Bind it to loopback (${loopbackExample(p)}) or remove \`ports:\` and let other services reach it over the compose network.`,
            ids(st, svc.name),
          ),
        );
      }
    }
  }
  return out;
}
