/**
 * `exposed-port` from what really runs: a datastore, broker or admin container whose
 * port Docker publishes on every interface, whatever ufw says (Docker's iptables rules
 * come before ufw's).
 */
import { finding, type Finding } from '../../core/finding.js';
import type { HostFacts } from '../../inventory/live/facts.js';
import { isAllInterfaces } from '../addresses.js';
import { privatePortLabel } from '../known-images.js';
import type { LiveRule } from './context.js';

function ufwSays(f: HostFacts, port: number): string {
  if (!f.ufw.installed) return 'ufw is not installed';
  if (!f.ufw.active) return 'ufw is inactive';
  const allowed = f.ufw.rules.some(
    (r) => r.action.startsWith('ALLOW') && new RegExp(`(^|[,:])${port}([,:/]|$)`).test(r.to),
  );
  return allowed ? `ufw allows ${port}` : `ufw does not allow ${port}, but Docker's rules come first`;
}

export const liveExposedPort: LiveRule = (_fleet, factsByServer) => {
  const out: Finding[] = [];
  for (const [server, f] of factsByServer) {
    for (const c of f.containers) {
      if (c.state !== 'running') continue;
      const seen = new Set<number>();
      for (const p of c.ports) {
        if (!isAllInterfaces(p.hostIp) || seen.has(p.hostPort)) continue;
        const label = privatePortLabel(c.image, p.containerPort, p.containerPort);
        if (!label) continue;
        seen.add(p.hostPort);
        out.push(
          finding(
            'exposed-port',
            'warning',
            `on ${server}, container ${c.name} (${label}) is published on all interfaces at port ${p.hostPort}/${p.protocol}; ${ufwSays(f, p.hostPort)}`,
            { host: server, path: `containers/${c.name}/ports/${p.hostPort}` },
            "Docker's published ports bypass ufw (Docker writes its own iptables rules), so this is reachable from the internet. Publish it on 127.0.0.1 only, or not at all and use the compose network.",
            { server, ...(c.service ? { service: c.service } : {}), ...(c.project ? { stack: c.project } : {}) },
          ),
        );
      }
    }
  }
  return out;
};
