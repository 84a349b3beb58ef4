/**
 * `proxy-route`: a route of `stacks.NAME.proxy` names a service the stack's compose
 * project does not run (missing, or left out by an inactive profile): nginx would answer
 * 502 there forever. `proxy-published-port`: a routed service also publishes the routed
 * port on every host interface, so clients can go around nginx (its TLS, headers and
 * rate limits), and Docker's published ports bypass ufw.
 */
import { finding, type Finding } from '../../core/finding.js';
import { suggest } from '../../core/suggest.js';
import type { PortMapping, Service } from '../../model/compose.js';
import type { RouteDef } from '../../model/fleet.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { isAllInterfaces } from '../addresses.js';
import type { CheckContext } from '../context.js';
import { ids, loadedStacks, locSvc, serviceNamed, type StackView } from '../common.js';
import { SourceText } from '../source-text.js';
import { declaredProfiles } from './unknown-reference.js';

function missingService(fleet: LoadedFleet, st: StackView, r: RouteDef, i: number, src: SourceText): Finding {
  const where = fleet.fleet.locate(['stacks', st.name, 'proxy', 'routes', i, 'service']);
  const names = st.project.services.map((s) => s.name);
  if (st.project.disabledServices.includes(r.service)) {
    const profiles = declaredProfiles(st, r.service, src);
    const which = profiles.length > 0 ? `profile ${profiles.join(' or ')}` : 'a profile that is not active';
    return finding(
      'proxy-route',
      'error',
      `${st.name}: route ${r.path} goes to service ${r.service}, which is disabled: only ${which} enables it`,
      where,
      `Activate the profile for this stack (\`profiles:\` in ferry.yml), drop the profile from ${r.service}, or route ${r.path} to a service that runs.`,
      ids(st, r.service),
    );
  }
  const guess = suggest(r.service, names);
  const known = names.length > 0 ? `Services of ${st.name}: ${names.join(', ')}.` : `Stack ${st.name} has no services.`;
  return finding(
    'proxy-route',
    'error',
    `${st.name}: route ${r.path} goes to service ${r.service}, which is not in the compose project`,
    where,
    `${guess ? `Did you mean ${guess}? ` : ''}${known}`,
    ids(st, r.service),
  );
}

/** The entry of `ports:` that publishes container port `port` on every host interface. */
const publishedEverywhere = (svc: Service, port: number): PortMapping | undefined =>
  svc.networkMode === 'host'
    ? undefined
    : svc.ports.find(
        (p) => p.protocol === 'tcp' && isAllInterfaces(p.hostIp) && port >= p.target && port <= p.targetEnd,
      );

function publishedPort(st: StackView, svc: Service, r: RouteDef, p: PortMapping): Finding {
  const host = p.published === undefined ? 'an ephemeral host port' : `host port ${p.published + (r.port - p.target)}`;
  const loopback =
    p.published === undefined ? `"127.0.0.1::${r.port}"` : `"127.0.0.1:${p.published + (r.port - p.target)}:${r.port}"`;
  return finding(
    'proxy-published-port',
    'warning',
    `${st.name}/${svc.name} is behind nginx for ${r.path} but also publishes port ${r.port} on all host interfaces as ${host}: clients can go around nginx`,
    locSvc(st, svc.name, 'ports', p.index),
    `nginx reaches the containers on their own addresses and needs no published port: remove this \`ports:\` entry, or bind it to loopback (${loopback}) if something on the server needs it. Docker's published ports bypass ufw.`,
    ids(st, svc.name),
  );
}

export function proxyRoute(fleet: LoadedFleet, ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    const routes = st.def.proxy?.routes ?? [];
    const src = new SourceText(ctx, st.project);
    const warned = new Set<string>();
    routes.forEach((r, i) => {
      const svc = serviceNamed(st.project, r.service);
      if (!svc) return void out.push(missingService(fleet, st, r, i, src));
      const p = publishedEverywhere(svc, r.port);
      if (!p || warned.has(`${svc.name}/${p.index}`)) return;
      warned.add(`${svc.name}/${p.index}`);
      out.push(publishedPort(st, svc, r, p));
    });
  }
  return out;
}
