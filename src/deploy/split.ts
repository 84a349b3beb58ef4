/**
 * A stack spread over servers: some of its services placed on another server than the
 * stack's (`stacks.NAME.services.SERVICE.server`), e.g. its Postgres on a database server.
 *
 * From the project's merged and interpolated Compose document this makes one document
 * per server, each a whole compose file that both Compose flavors read:
 *
 * - the stack's server: every service but the placed ones; `depends_on` and `links` to
 *   them dropped; in every environment value that names a placed service as a host
 *   (`postgresql://u:p@db:5432/app`, `DB_HOST=db`) the name replaced by the address it
 *   is published on; and the name mapped to that address (`extra_hosts`), so that
 *   references Ferry cannot see (a mounted config file, a command argument) still reach it;
 * - each placed service's server: that service alone, its port published on that
 *   server's private address only (any other published port dropped), with the volumes,
 *   networks, secrets and configs it names.
 *
 * Pure: no I/O. Values are already interpolated, so every `$` is written `$$`.
 */
import { stringify } from 'yaml';
import type { Dict } from '../compose/compose-file.js';

export interface Placed {
  service: string;
  /** Server name it runs on. */
  server: string;
  /** The placed server's private address: its port is published there only. */
  address: string;
  /** The stack's server's private address: the only one its firewall lets in. */
  allowFrom: string;
  port: number;
  /** Kept in the Postgres installed on the stack's own server (`address` is `host-gateway`): no document of its own, no value rewritten. */
  onHost?: true;
}

/** One environment value of a service that named a placed service as its host. */
export interface Rewrite {
  service: string;
  key: string;
  host: string;
  address: string;
}

export interface Split {
  main: Dict;
  parts: Record<string, Dict>;
  rewrites: Rewrite[];
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `name` where it stands as a host: after `@`, `//`, `,` or the start, before `:`, `/`, `,`, `?` or the end. */
function hostPattern(name: string): RegExp {
  return new RegExp(`(^|@|//|,)${escapeRe(name)}(?=$|[:/,?])`, 'g');
}

export function rewriteHosts(value: string, placed: Placed[]): { value: string; hosts: Placed[] } {
  let out = value;
  const hosts: Placed[] = [];
  for (const p of placed) {
    const next = out.replace(hostPattern(p.service), `$1${p.address}`);
    if (next !== out) hosts.push(p);
    out = next;
  }
  return { value: out, hosts };
}

/** Names a service's `depends_on` / `links` entry refers to. */
const linkTarget = (l: string): string => l.split(':')[0]!;

function withoutNames(v: unknown, drop: Set<string>, key: (s: string) => string): unknown {
  if (Array.isArray(v)) return v.filter((x) => typeof x !== 'string' || !drop.has(key(x)));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v as Dict).filter(([k]) => !drop.has(k)));
  return v;
}

const isEmpty = (v: unknown): boolean =>
  Array.isArray(v) ? v.length === 0 : v !== null && typeof v === 'object' && Object.keys(v).length === 0;

/** Named volumes a service mounts (short `src:dst` or long `{type: volume, source}` syntax). */
export function namedVolumes(svc: Dict): string[] {
  const out: string[] = [];
  for (const v of Array.isArray(svc.volumes) ? svc.volumes : []) {
    if (typeof v === 'string') {
      const src = v.split(':')[0]!;
      if (v.includes(':') && src !== '' && !src.startsWith('.') && !src.startsWith('/') && !src.startsWith('~'))
        out.push(src);
    } else if (v && typeof v === 'object' && (v as Dict).type === 'volume' && typeof (v as Dict).source === 'string')
      out.push(String((v as Dict).source));
  }
  return out;
}

/** Keys of a service's list-or-mapping reference (networks, secrets, configs). */
function referenced(v: unknown): string[] {
  if (Array.isArray(v))
    return v.map((x) => (typeof x === 'string' ? x : String((x as Dict).source ?? ''))).filter(Boolean);
  if (v && typeof v === 'object') return Object.keys(v as Dict);
  return [];
}

function pick(top: unknown, names: string[]): Dict | undefined {
  if (!top || typeof top !== 'object') return undefined;
  const out: Dict = {};
  for (const n of names) if (n in (top as Dict)) out[n] = (top as Dict)[n];
  return Object.keys(out).length > 0 ? out : undefined;
}

function rewriteEnvironment(svcName: string, env: unknown, placed: Placed[], rewrites: Rewrite[]): unknown {
  const one = (key: string, value: string): string => {
    const r = rewriteHosts(value, placed);
    for (const p of r.hosts) rewrites.push({ service: svcName, key, host: p.service, address: p.address });
    return r.value;
  };
  if (Array.isArray(env)) {
    return env.map((e) => {
      if (typeof e !== 'string' || !e.includes('=')) return e;
      const i = e.indexOf('=');
      return `${e.slice(0, i)}=${one(e.slice(0, i), e.slice(i + 1))}`;
    });
  }
  if (env && typeof env === 'object') {
    return Object.fromEntries(Object.entries(env as Dict).map(([k, v]) => [k, typeof v === 'string' ? one(k, v) : v]));
  }
  return env;
}

function addExtraHosts(existing: unknown, placed: Placed[]): unknown {
  const entries = placed.map((p) => `${p.service}:${p.address}`);
  if (existing && typeof existing === 'object' && !Array.isArray(existing)) {
    return { ...(existing as Dict), ...Object.fromEntries(placed.map((p) => [p.service, p.address])) };
  }
  const list = Array.isArray(existing)
    ? existing.filter((e) => typeof e !== 'string' || !placed.some((p) => e.split(/[:=]/)[0] === p.service))
    : [];
  return [...list, ...entries];
}

/** The documents for each server; `data` is the project's merged, interpolated document. */
export function splitDocument(data: Dict, placed: Placed[]): Split {
  const services = (data.services ?? {}) as Dict;
  const moved = new Set(placed.map((p) => p.service));
  const rewrites: Rewrite[] = [];

  const main = clone(data);
  const mainServices: Dict = {};
  for (const [name, raw] of Object.entries(services)) {
    if (moved.has(name)) continue;
    const svc = clone((raw ?? {}) as Dict);
    for (const key of ['depends_on', 'links'] as const) {
      if (svc[key] === undefined) continue;
      svc[key] = withoutNames(svc[key], moved, linkTarget);
      if (isEmpty(svc[key])) delete svc[key];
    }
    if (svc.environment !== undefined)
      svc.environment = rewriteEnvironment(
        name,
        svc.environment,
        placed.filter((p) => !p.onHost),
        rewrites,
      );
    svc.extra_hosts = addExtraHosts(svc.extra_hosts, placed);
    mainServices[name] = svc;
  }
  main.services = mainServices;
  const usedHere = new Set(Object.values(mainServices).flatMap((s) => namedVolumes(s as Dict)));
  if (main.volumes && typeof main.volumes === 'object') {
    const keep = Object.fromEntries(
      Object.entries(main.volumes as Dict).filter(
        ([v]) => usedHere.has(v) || !placed.some((p) => namedVolumes((services[p.service] ?? {}) as Dict).includes(v)),
      ),
    );
    if (Object.keys(keep).length > 0) main.volumes = keep;
    else delete main.volumes;
  }

  const parts: Record<string, Dict> = {};
  for (const p of placed.filter((x) => !x.onHost)) {
    const svc = clone((services[p.service] ?? {}) as Dict);
    delete svc.depends_on;
    delete svc.links;
    delete svc.extends;
    svc.ports = [`${p.address}:${p.port}:${p.port}`];
    const doc: Dict = { services: { [p.service]: svc } };
    if (typeof data.name === 'string') doc.name = data.name;
    const volumes = pick(data.volumes, namedVolumes(svc));
    if (volumes) doc.volumes = volumes;
    const networks = pick(data.networks, referenced(svc.networks));
    if (networks) doc.networks = networks;
    for (const kind of ['secrets', 'configs'] as const) {
      const refs = pick(data[kind], referenced(svc[kind]));
      if (refs) doc[kind] = refs;
    }
    parts[p.service] = doc;
  }
  return { main, parts, rewrites };
}

/** Volumes a placed service shares with a service left on the stack's server: they cannot be on two servers. */
export function sharedVolumes(data: Dict, placed: Placed[]): { service: string; volume: string; with: string }[] {
  const services = (data.services ?? {}) as Dict;
  const moved = new Set(placed.map((p) => p.service));
  const out: { service: string; volume: string; with: string }[] = [];
  for (const p of placed) {
    const mine = namedVolumes((services[p.service] ?? {}) as Dict);
    for (const [name, s] of Object.entries(services)) {
      if (moved.has(name)) continue;
      for (const v of namedVolumes((s ?? {}) as Dict))
        if (mine.includes(v)) out.push({ service: p.service, volume: v, with: name });
    }
  }
  return out;
}

function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replace(/\$/g, '$$$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v as Dict).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}

/** The compose file text: a header saying where it comes from, then the document with `$` escaped. */
export function renderComposeDocument(doc: Dict, header: string): string {
  const body = stringify(escapeDollars(doc), {
    lineWidth: 0,
    defaultStringType: 'QUOTE_DOUBLE',
    defaultKeyType: 'PLAIN',
  });
  return `${header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n')}\n${body}`;
}
