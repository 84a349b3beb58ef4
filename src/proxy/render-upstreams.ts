/**
 * The upstreams file of a stack: one `upstream` per distinct (service, port) of its
 * routes, listing the containers' addresses. Pure: the deploy rewrites this file (through
 * `writeNginxFile`) to swap containers without dropping requests. An upstream with no
 * container yet lists a server marked `down`, so that nginx accepts the configuration
 * and answers 502 until the first deploy.
 */
import type { RouteDef } from '../model/fleet.js';
import { upstreamName } from './names.js';

export const KEEPALIVE = 16;

/** The server of a no-container upstream: nothing listens on port 1, and `down` keeps nginx from trying. */
export const PLACEHOLDER_SERVER = '127.0.0.1:1 down';

export interface Upstream {
  name: string;
  service: string;
  port: number;
}

/** The distinct (service, port) pairs of the routes, in route order. */
export function upstreamsOf(stack: string, routes: RouteDef[]): Upstream[] {
  const out = new Map<string, Upstream>();
  for (const r of routes) {
    const name = upstreamName(stack, r.service, r.port);
    if (!out.has(name)) out.set(name, { name, service: r.service, port: r.port });
  }
  return [...out.values()];
}

const ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/**
 * `host:port` for nginx's `server`: an address without a port gets the route's port; a
 * bare IPv6 address is bracketed. Anything that is not an address is refused, since it
 * would be pasted into nginx's configuration.
 */
export function serverAddress(address: string, port: number): string {
  const text = address.includes(':') && !address.startsWith('[') && /:.*:/.test(address) ? `[${address}]` : address;
  const m = ADDRESS.exec(text);
  if (!m) throw new Error(`not an address for an nginx upstream: "${address}"`);
  return m[2] ? text : `${text}:${port}`;
}

/**
 * `tries`: each server listed that many times, never marked down (`max_fails=0`), so
 * that nginx tries a request up to that many times (one connect timeout apart) before
 * it fails: how the source's nginx keeps requests waiting while a migration holds them.
 */
export function renderUpstreams(
  stack: string,
  routes: RouteDef[],
  addresses: Record<string, string[]>,
  tries = 1,
): string {
  const blocks = upstreamsOf(stack, routes).map((u) => {
    const servers = [...new Set((addresses[u.name] ?? []).map((a) => serverAddress(a, u.port)))];
    const listed = tries > 1 ? servers.flatMap((s) => Array<string>(tries).fill(`${s} max_fails=0`)) : servers;
    const lines =
      servers.length > 0
        ? listed.map((s) => `    server ${s};`)
        : [`    # no container of ${u.service} yet: 502 until the first deploy`, `    server ${PLACEHOLDER_SERVER};`];
    return [`upstream ${u.name} {`, ...lines, `    keepalive ${KEEPALIVE};`, '}'].join('\n');
  });
  return `# Ferry: upstreams of stack ${stack}, rewritten at every deploy. Do not edit.\n\n${blocks.join('\n\n')}\n`;
}
