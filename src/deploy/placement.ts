/**
 * Where the placed services of a stack run (`stacks.NAME.services.SERVICE.server`), checked
 * against its compose project and the fleet: the service exists, nothing routes to it
 * through the proxy, its port is known, both servers have a private address, and it
 * shares no volume with a service left behind. Then the compose document of each server.
 */
import { relative } from 'node:path';
import { InputError } from '../core/errors.js';
import type { FindingCode } from '../core/codes.js';
import { finding, type Finding } from '../core/finding.js';
import { suggest } from '../core/suggest.js';
import type { Dict } from '../compose/compose-file.js';
import { loadRaw } from '../compose/load.js';
import type { Fleet, PlacementDef, ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import type { Service } from '../model/compose.js';
import { sharedVolumes, splitDocument, type Placed, type Split } from './split.js';

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

const WELL_KNOWN: [RegExp, number][] = [
  [/(^|\/)(postgres|postgis|timescaledb|[a-z0-9-]*postgres[a-z0-9-]*)(:|$)/i, 5432],
  [/(^|\/)[a-z0-9-]*(redis|valkey|keydb)[a-z0-9-]*(:|$)/i, 6379],
  [/(^|\/)(mysql|mariadb)(:|$)/i, 3306],
  [/(^|\/)mongo(:|$)/i, 27017],
];

/** The port a placed service is reached on: the one declared, the image's well-known one, or its only `expose`d port. */
export function placedPort(svc: Service, def: PlacementDef): number | undefined {
  if (def.port !== undefined) return def.port;
  const known = WELL_KNOWN.find(([re]) => svc.image !== undefined && re.test(svc.image));
  if (known) return known[1];
  const exposed = [...new Set(svc.expose.map((e) => Number.parseInt(e, 10)).filter((n) => Number.isInteger(n)))];
  return exposed.length === 1 ? exposed[0] : undefined;
}

/** The address other servers reach `s` by: `private_address`, else `host` when it is an IPv4 address. */
export const privateAddress = (s: ServerDef): string | undefined =>
  s.privateAddress ?? (IPV4.test(s.host) ? s.host : undefined);

/** The stack's placed services, resolved; an `InputError` naming every problem at its key in ferry.yml. */
export function placementOf(stack: LoadedStack, fleet: Pick<Fleet, 'servers' | 'locate'>): Placed[] {
  const def = stack.def;
  const project = stack.project;
  if (!def.placement || !project || Object.keys(def.placement).length === 0) return [];
  const problems: Finding[] = [];
  const out: Placed[] = [];
  const home = def.server ? fleet.servers[def.server] : undefined;
  for (const [service, p] of Object.entries(def.placement)) {
    const path = ['stacks', def.name, 'services', service];
    const where = fleet.locate(path);
    const bad = (code: FindingCode, message: string, hint: string) =>
      problems.push(finding(code, 'error', `stack ${def.name}: ${message}`, where, hint, { stack: def.name, service }));
    const svc = project.services.find((s) => s.name === service);
    const server = fleet.servers[p.server];
    if (!svc) {
      const near = suggest(
        service,
        project.services.map((s) => s.name),
      );
      bad(
        'unknown-service',
        `stacks/${def.name}/services names ${service}, which is not a service of the stack${near ? `; did you mean "${near}"?` : ''}`,
        `Services: ${project.services.map((s) => s.name).join(', ')}.`,
      );
      continue;
    }
    if (!server || !home) continue; // an unknown server is reported by the fleet file's own check
    if (def.proxy?.routes.some((r) => r.service === service)) {
      bad(
        'placement-routed',
        `${service} is routed by the proxy (stacks/${def.name}/proxy/routes) and cannot run on another server than the stack's`,
        "Place only services the others reach over the network (a database, a cache); nginx runs on the stack's server.",
      );
    }
    const port = placedPort(svc, p);
    if (port === undefined)
      bad(
        'placement-port-unknown',
        `the port the others reach ${service} on is not known`,
        `Give it: stacks/${def.name}/services/${service}/port.`,
      );
    const address = privateAddress(server);
    const allowFrom = privateAddress(home);
    for (const [s, a] of [
      [server, address],
      [home, allowFrom],
    ] as const) {
      if (a === undefined)
        bad(
          'placement-no-address',
          `server ${s.name} has no private address (its host ${s.host} is not an IPv4 address)`,
          `Set servers/${s.name}/private_address: the address the other servers reach it by.`,
        );
    }
    if (port !== undefined && address !== undefined && allowFrom !== undefined)
      out.push({ service, server: server.name, address, allowFrom, port });
  }
  if (problems.length === 0 && out.length > 0) {
    for (const s of sharedVolumes(mergedDocument(stack), out)) {
      problems.push(
        finding(
          'placement-shared-volume',
          'error',
          `stack ${def.name}: volume ${s.volume} is mounted by ${s.service}, placed on another server, and by ${s.with}`,
          fleet.locate(['stacks', def.name, 'services', s.service]),
          'A volume lives on one server: give each service its own, or keep both services together.',
          { stack: def.name, service: s.service },
        ),
      );
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  return out;
}

/** Local absolute paths (from an `extends` or `include` in a subdirectory) made relative to the project directory again. */
function relativize(v: unknown, base: string): unknown {
  if (typeof v === 'string')
    return v === base || v.startsWith(`${base}/`) ? `./${relative(base, v)}`.replace(/\/$/, '') : v;
  if (Array.isArray(v)) return v.map((x) => relativize(x, base));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v as Dict).map(([k, x]) => [k, relativize(x, base)]));
  return v;
}

const merged = new WeakMap<object, Dict>();

/** The project's merged and interpolated document, as Compose reads it (extends and includes applied); read once per loaded project. */
export function mergedDocument(stack: LoadedStack): Dict {
  const project = stack.project!;
  let doc = merged.get(project);
  if (!doc) {
    doc = relativize(
      loadRaw(stack.def.compose, project.interpolation ?? {}, (p) => p).data,
      project.workingDir,
    ) as Dict;
    merged.set(project, doc);
  }
  return doc;
}

export function splitStack(stack: LoadedStack, placed: Placed[]): Split {
  return splitDocument(mergedDocument(stack), placed);
}
