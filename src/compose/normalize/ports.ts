/**
 * `ports:` in short syntax (`[[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, numbers) and
 * long syntax. The short syntax follows docker/go-connections `nat.ParsePortSpec`, which
 * compose-go's `types.ParsePortConfig` calls:
 * - the spec is split on `:`; with more than three parts everything before the last two is
 *   the host IP, so `::1:8080:80` binds `::1`, and `[::1]:8080:80` has its brackets stripped;
 * - the protocol after `/` is lower-cased and must be tcp, udp or sctp (default tcp);
 * - a port or range is `N` or `N-M` with 0 <= N <= M <= 65535 (`nat.ParsePortRange`);
 * - host and container ranges must have the same length, except that a host range with a
 *   single container port is the range Docker picks a free host port from;
 * - an empty host port (`127.0.0.1::80`) leaves the host port to Docker.
 * compose-go expands a short-syntax range into one entry per port; here it stays one
 * mapping so that findings point at the line the user wrote.
 */
import { isIP } from 'node:net';
import type { PortMapping, Protocol } from '../../model/compose.js';
import { asInt, describe, isMap, quote, schemaError, shape, type Ctx } from './common.js';

/** A port mapping plus what the model has no field for. */
export interface NormalizedPort extends PortMapping {
  /** Long syntax `app_protocol` (`http`, `grpc`, ...). */
  appProtocol?: string;
}

export type PortSpec = Omit<PortMapping, 'index'>;
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];
const SHORT_HINT =
  'Write a port as [[HOST_IP:]HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. "127.0.0.1:8080:80" or "8000-8010:8000-8010/udp"; ports are 0-65535 and the protocol is tcp, udp or sctp.';
const LONG_HINT =
  'A long-syntax port needs `target` (a container port, 0-65535); `published` is a host port or range ("8080-8081"), `host_ip` an IP address, `protocol` tcp, udp or sctp.';

/** `8000` or `8000-8010` as [first, last]; undefined when malformed. */
export function parsePortRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] === undefined ? start : Number(m[2]);
  if (start > 65535 || end > 65535 || end < start) return undefined;
  return [start, end];
}

function splitParts(spec: string): [ip: string, host: string, container: string] {
  const parts = spec.split(':');
  const n = parts.length;
  if (n === 1) return ['', '', parts[0]!];
  if (n === 2) return ['', parts[0]!, parts[1]!];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, parts[n - 1]!];
}

function parseHostIp(raw: string): Parsed<string | undefined> {
  let ip = raw;
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) return { ok: false, reason: `host IP ${quote(raw)} has an unclosed bracket` };
    ip = ip.slice(1, -1);
  }
  if (ip === '') return { ok: true, value: undefined };
  return isIP(ip) ? { ok: true, value: ip } : { ok: false, reason: `host IP ${quote(raw)} is not an IP address` };
}

function parseProtocol(raw: string): Parsed<Protocol> {
  const p = raw.toLowerCase();
  return PROTOCOLS.includes(p)
    ? { ok: true, value: p as Protocol }
    : { ok: false, reason: `protocol ${quote(raw)} is not tcp, udp or sctp` };
}

/** Parses one short-syntax port string. */
export function parsePortSpec(spec: string): Parsed<PortSpec> {
  const [ipPart, hostPart, containerPart] = splitParts(spec);
  const slash = containerPart.indexOf('/');
  const containerPort = slash < 0 ? containerPart : containerPart.slice(0, slash);
  if (containerPort === '') return { ok: false, reason: 'no container port' };
  const protocol = parseProtocol(slash < 0 ? 'tcp' : containerPart.slice(slash + 1) || 'tcp');
  if (!protocol.ok) return protocol;
  const hostIp = parseHostIp(ipPart);
  if (!hostIp.ok) return hostIp;
  const target = parsePortRange(containerPort);
  if (!target) return { ok: false, reason: `container port ${quote(containerPort)} is not a port or range in 0-65535` };
  const value: PortSpec = { target: target[0], targetEnd: target[1], protocol: protocol.value };
  if (hostIp.value !== undefined) value.hostIp = hostIp.value;
  if (hostPart === '') return { ok: true, value };
  const published = parsePortRange(hostPart);
  if (!published) return { ok: false, reason: `host port ${quote(hostPart)} is not a port or range in 0-65535` };
  if (published[1] - published[0] !== target[1] - target[0] && target[0] !== target[1]) {
    return { ok: false, reason: `host range ${hostPart} and container range ${containerPort} differ in length` };
  }
  return { ok: true, value: { ...value, published: published[0], publishedEnd: published[1] } };
}

function shortPort(spec: string, index: number, ctx: Ctx): NormalizedPort | undefined {
  const parsed = parsePortSpec(spec);
  if (parsed.ok) return { ...parsed.value, index };
  schemaError(ctx, ['ports', index], `port ${quote(spec)} is malformed: ${parsed.reason}`, SHORT_HINT);
  return undefined;
}

function numberPort(n: number, index: number, ctx: Ctx): NormalizedPort | undefined {
  if (Number.isInteger(n) && n >= 0 && n <= 65535) return { target: n, targetEnd: n, protocol: 'tcp', index };
  schemaError(ctx, ['ports', index], `port ${n} is not a container port in 0-65535`, SHORT_HINT);
  return undefined;
}

function longPublished(v: unknown): Parsed<[number, number] | undefined> {
  if (v === undefined || v === null || v === '') return { ok: true, value: undefined };
  const range = typeof v === 'number' || typeof v === 'string' ? parsePortRange(String(v)) : undefined;
  if (range) return { ok: true, value: range };
  return { ok: false, reason: `published ${describe(v)} is not a host port or range in 0-65535` };
}

function optionalString(m: Record<string, unknown>, key: string): string | undefined {
  return typeof m[key] === 'string' ? (m[key] as string) : undefined;
}

function longFields(m: Record<string, unknown>): Parsed<PortSpec> {
  const target = asInt(m.target);
  if (target === undefined || target > 65535) {
    const what = m.target === undefined ? 'is missing' : `${describe(m.target)} is not a port in 0-65535`;
    return { ok: false, reason: `target ${what}` };
  }
  const protocol = parseProtocol(typeof m.protocol === 'string' ? m.protocol : 'tcp');
  if (!protocol.ok) return protocol;
  const hostIp = parseHostIp(typeof m.host_ip === 'string' ? m.host_ip : '');
  if (!hostIp.ok) return hostIp;
  const published = longPublished(m.published);
  if (!published.ok) return published;
  const value: PortSpec = { target, targetEnd: target, protocol: protocol.value };
  if (hostIp.value !== undefined) value.hostIp = hostIp.value;
  if (published.value) [value.published, value.publishedEnd] = published.value;
  return { ok: true, value };
}

function longPort(m: Record<string, unknown>, index: number, ctx: Ctx): NormalizedPort | undefined {
  const parsed = longFields(m);
  if (!parsed.ok) {
    schemaError(ctx, ['ports', index], `long-syntax port is malformed: ${parsed.reason}`, LONG_HINT);
    return undefined;
  }
  const port: NormalizedPort = { ...parsed.value, index };
  const mode = optionalString(m, 'mode');
  const name = optionalString(m, 'name');
  const appProtocol = optionalString(m, 'app_protocol');
  if (mode !== undefined) port.mode = mode;
  if (name !== undefined) port.name = name;
  if (appProtocol !== undefined) port.appProtocol = appProtocol;
  return port;
}

/** Normalizes a service's `ports` list; malformed entries become findings and are left out. */
export function normalizePorts(raw: unknown, ctx: Ctx): NormalizedPort[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    schemaError(ctx, ['ports'], `ports is ${shape(raw)}, not a list`, SHORT_HINT);
    return [];
  }
  const out: NormalizedPort[] = [];
  raw.forEach((entry, i) => {
    let port: NormalizedPort | undefined;
    if (typeof entry === 'string') port = shortPort(entry, i, ctx);
    else if (typeof entry === 'number') port = numberPort(entry, i, ctx);
    else if (isMap(entry)) port = longPort(entry, i, ctx);
    else schemaError(ctx, ['ports', i], `port is ${shape(entry)}, not a string, number or mapping`, SHORT_HINT);
    if (port) out.push(port);
  });
  return out;
}
