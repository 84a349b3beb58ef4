/**
 * What `ferry watch` reads, from the names on its command line: a stack is watched on every
 * server it runs on (its own, and those its placed services run on), with the services that
 * should run there and its HTTP checks; a server, with every stack on it; no name, the
 * whole fleet.
 */
import { UsageError } from '../core/errors.js';
import type { LoadedFleet, LoadedStack } from '../model/loaded.js';
import type { WatchedServer, WatchedStack } from '../watch/collect.js';

function stackOn(s: LoadedStack, server: string): WatchedStack | undefined {
  if (!s.project || !s.def.server) return undefined;
  const placed = s.def.placement ?? {};
  const services = s.project.services
    .map((x) => x.name)
    .filter((name) => (placed[name]?.server ?? s.def.server) === server);
  if (services.length === 0) return undefined;
  return { stack: s.def.name, project: s.project.name, services, httpChecks: s.def.deploy.httpChecks };
}

const serversOf = (s: LoadedStack): string[] =>
  s.def.server ? [...new Set([s.def.server, ...Object.values(s.def.placement ?? {}).map((p) => p.server)])] : [];

export function watchTargets(loaded: LoadedFleet, names: readonly string[]): WatchedServer[] {
  const servers = loaded.fleet.servers;
  const stacks = new Map(loaded.stacks.map((s) => [s.def.name, s]));
  const wanted = new Map<string, Set<string> | 'all'>();
  const add = (server: string, stack: string | 'all'): void => {
    const had = wanted.get(server);
    if (had === 'all' || stack === 'all') wanted.set(server, 'all');
    else wanted.set(server, new Set([...(had ?? []), stack]));
  };
  for (const name of names.length > 0 ? names : Object.keys(servers)) {
    const stack = stacks.get(name);
    if (stack) for (const server of serversOf(stack)) add(server, name);
    else if (servers[name]) add(name, 'all');
    else
      throw new UsageError(
        `"${name}" is neither a stack nor a server of the fleet file`,
        `Name stacks or servers of ferry.yml: ${[...stacks.keys(), ...Object.keys(servers)].join(', ')}.`,
      );
  }
  return [...wanted].map(([server, which]) => ({
    server,
    sudo: servers[server]?.sudo === true,
    stacks: loaded.stacks
      .filter((s) => which === 'all' || which.has(s.def.name))
      .flatMap((s) => stackOn(s, server) ?? []),
  }));
}
