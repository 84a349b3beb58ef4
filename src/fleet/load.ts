/**
 * Loads the fleet file `ferry.yml` into a `Fleet`: validates it against the schema,
 * checks that names it refers to exist, resolves compose and env files relative to
 * the fleet file and converts sizes to bytes. Never throws for bad input: every
 * problem comes back as a finding with a key path and a file position.
 */
import { InputError } from '../core/errors.js';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { finding, sortFindings, type Finding, type Where } from '../core/finding.js';
import { parseSize } from '../core/size.js';
import { suggest } from '../core/suggest.js';
import {
  DEFAULT_DEPLOY,
  type ConnectionPool,
  type DeployDef,
  type DnsDef,
  type Fleet,
  type ProxyDef,
  type RouteDef,
  type ServerDef,
  type StackDef,
} from '../model/fleet.js';
import { parseDuration } from '../compose/normalize/duration.js';
import { locate, pathString, readYamlFile, toPlain, type KeyPath, type SourceFile } from '../yaml/source.js';
import {
  FleetFileSchema,
  isExtensionKey,
  NAME_PATTERN,
  NAME_RULE,
  TARGET_PATTERN,
  type FleetFile,
  type StackEntry,
} from './schema.js';

export interface LoadFleetOptions {
  /** Directory relative paths (and the displayed file name) are taken from. Default: process.cwd(). */
  cwd?: string;
}

export interface FleetLoadResult {
  /**
   * Undefined when the file cannot be read or does not match the schema. When the only
   * errors are `unknown-reference` (a stack's server or a connection's stack or server
   * is not defined) the fleet is still returned, so that later checks can report more;
   * those findings are errors all the same, and the names they point at are missing
   * from `servers` / `stacks`.
   */
  fleet?: Fleet;
  /** Errors and warnings about ferry.yml, in file order (errors first). */
  findings: Finding[];
}

/** Reads, validates and resolves ferry.yml at `path` (relative to `opts.cwd`). */
export function loadFleetFile(path: string, opts: LoadFleetOptions = {}): FleetLoadResult {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const abs = resolve(cwd, path);
  const read = readYamlFile(abs, displayPath(cwd, abs));
  if (!read.file) return { findings: sortFindings(read.findings) };
  return fleetFromSource(read.file);
}

/** The same as `loadFleetFile`, for a fleet file already parsed by `readYamlFile` or `parseYamlText`. */
export function fleetFromSource(file: SourceFile): FleetLoadResult {
  let plain: Record<string, unknown>;
  try {
    plain = toPlain(file);
  } catch (e) {
    if (e instanceof InputError) return { findings: e.findings };
    throw e;
  }
  const input = withoutExtensions(plain);
  const findings: Finding[] = [];
  const parsed = FleetFileSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) findings.push(...issueFindings(issue, input, file));
  } else {
    findings.push(...sizeRangeErrors(parsed.data, file));
  }
  findings.push(...referenceFindings(input, file));
  findings.push(...unitlessSizeWarnings(input, file));
  const sorted = sortFindings(findings);
  if (!parsed.success || sorted.some((f) => f.severity === 'error' && f.code !== 'unknown-reference'))
    return { findings: sorted };
  return { fleet: buildFleet(parsed.data, file), findings: sorted };
}

// ---------------------------------------------------------------------------
// Building the model.

function buildFleet(data: FleetFile, file: SourceFile): Fleet {
  const baseDir = dirname(file.path);
  const servers: Record<string, ServerDef> = {};
  for (const [name, s] of Object.entries(data.servers)) {
    const def: ServerDef = { name, host: s.host };
    if (s.user !== undefined) def.user = s.user;
    if (s.port !== undefined) def.port = s.port;
    if (s.memory !== undefined) def.memory = parseSize(s.memory)!;
    if (s.cpus !== undefined) def.cpus = s.cpus;
    if (s.disk !== undefined) def.disk = parseSize(s.disk)!;
    if (s.cost !== undefined) def.cost = s.cost;
    if (s.sudo !== undefined) def.sudo = s.sudo;
    if (s.identity_file !== undefined)
      def.identityFile = s.identity_file.startsWith('~')
        ? s.identity_file
        : resolve(dirname(file.path), s.identity_file);
    if (s.postgres !== undefined) def.postgres = { maxConnections: s.postgres.max_connections };
    if (s.private_address !== undefined) def.privateAddress = s.private_address;
    servers[name] = def;
  }
  const stacks: Record<string, StackDef> = {};
  for (const [name, st] of Object.entries(data.stacks)) {
    const compose = (typeof st.compose === 'string' ? [st.compose] : st.compose).map((p) => resolve(baseDir, p));
    const connections: ConnectionPool[] = (st.connections ?? []).map((c, index) => {
      const pool: ConnectionPool = { service: c.service, pool: c.pool, to: c.to, index };
      if (c.replicas !== undefined) pool.replicas = c.replicas;
      if (c.processes !== undefined) pool.processes = c.processes;
      return pool;
    });
    const def: StackDef = { name, server: st.server, compose, connections, deploy: deployDef(st.deploy) };
    if (st.proxy !== undefined) def.proxy = proxyDef(st.proxy);
    if (st.env_file !== undefined) def.envFile = resolve(baseDir, st.env_file);
    if (st.profiles !== undefined) def.profiles = [...st.profiles];
    if (st.project !== undefined) def.project = st.project;
    if (st.services !== undefined)
      def.placement = Object.fromEntries(
        Object.entries(st.services).map(([svc, p]) => [
          svc,
          p.port === undefined ? { server: p.server } : { server: p.server, port: p.port },
        ]),
      );
    stacks[name] = def;
  }
  const fleet: Fleet = { file: file.path, display: file.display, servers, stacks, locate: (path) => at(file, path) };
  if (data.acme !== undefined) {
    fleet.acme = { email: data.acme.email };
    if (data.acme.directory !== undefined) fleet.acme.directory = data.acme.directory;
    if (data.acme.ca_bundle !== undefined) fleet.acme.caBundle = resolve(baseDir, data.acme.ca_bundle);
  }
  if (data.dns !== undefined) fleet.dns = dnsDef(data.dns, baseDir);
  return fleet;
}

function dnsDef(d: NonNullable<FleetFile['dns']>, baseDir: string): DnsDef {
  const def: DnsDef = {};
  if (d.resolvers !== undefined) def.resolvers = [...d.resolvers];
  if (d.hook !== undefined) def.hook = resolve(baseDir, d.hook);
  if (d.max_ttl !== undefined) def.maxTtlSeconds = Math.floor(ms(d.max_ttl) / 1000);
  if (d.wait !== undefined) def.waitMs = ms(d.wait);
  return def;
}

const ms = (d: string): number => parseDuration(d)!;

function deployDef(d: StackEntry['deploy']): DeployDef {
  return {
    images: d?.images ?? DEFAULT_DEPLOY.images,
    healthTimeoutMs: d?.health_timeout !== undefined ? ms(d.health_timeout) : DEFAULT_DEPLOY.healthTimeoutMs,
    keepReleases: d?.keep_releases ?? DEFAULT_DEPLOY.keepReleases,
    httpChecks: (d?.http_checks ?? []).map((c) => ({ service: c.service, port: c.port, path: c.path ?? '/' })),
  };
}

function proxyDef(p: NonNullable<StackEntry['proxy']>): ProxyDef {
  return {
    domains: [...p.domains],
    tls: p.tls ?? 'acme',
    hsts: p.hsts ?? true,
    securityHeaders: p.security_headers ?? true,
    routes: p.routes.map((r) => {
      const route: RouteDef = {
        path: r.path ?? '/',
        service: r.service,
        port: r.port,
        websocket: r.websocket ?? false,
        sse: r.sse ?? false,
      };
      if (r.body_size !== undefined) route.bodySize = r.body_size;
      if (r.timeout !== undefined) route.timeoutSeconds = Math.max(1, Math.round(ms(r.timeout) / 1000));
      if (r.rate_limit !== undefined)
        route.rateLimit = {
          perSecond: r.rate_limit.per_second,
          burst: r.rate_limit.burst ?? 2 * r.rate_limit.per_second,
        };
      if (r.cache !== undefined) route.cache = r.cache;
      return route;
    }),
  };
}

// ---------------------------------------------------------------------------
// Schema issues -> findings.

type Issue = z.core.$ZodIssue;

function issueFindings(issue: Issue, input: Record<string, unknown>, file: SourceFile): Finding[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const here = inPlace(path);
  const extra = subject(path);

  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(path);
    const parent = valueAt(input, path);
    const present = isRecord(parent) ? Object.keys(parent) : [];
    return issue.keys.map((key) => {
      const guess = suggest(
        key,
        known.filter((k) => !present.includes(k)),
      );
      const allowed = `Keys allowed ${here}: ${known.join(', ')}.`;
      return finding(
        'schema',
        'error',
        `unknown key "${key}" ${here}${guess ? `; did you mean "${guess}"?` : ''}`,
        at(file, [...path, key]),
        guess ? `Rename "${key}" to "${guess}". ${allowed}` : `Remove it. ${allowed}`,
        extra,
      );
    });
  }

  if (issue.code === 'invalid_key') {
    const key = String(path[path.length - 1]);
    const parentPath = path.slice(0, -1);
    const kind = parentPath[0] === 'servers' ? 'server' : 'stack';
    const fixed = key
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '');
    const valid = new RegExp(NAME_PATTERN).test(fixed);
    return [
      finding(
        'schema',
        'error',
        `invalid ${kind} name "${key}" in ${pathString(parentPath)}: names must be ${NAME_RULE}`,
        at(file, path),
        `${valid ? `Rename it, for example to "${fixed}".` : 'Rename it.'} ${kind === 'server' ? 'Server' : 'Stack'} names follow the rule of Compose project names.`,
        extra,
      ),
    ];
  }

  if (issue.code === 'invalid_union') {
    // When the value has the shape of exactly one option (a list for `compose`), report
    // what is wrong inside it rather than "must be a path or a list".
    const near = issue.errors.filter(
      (branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0),
    );
    if (near.length === 1)
      return near[0]!.flatMap((i) => issueFindings({ ...i, path: [...issue.path, ...i.path] } as Issue, input, file));
  }

  const value = valueAt(input, path);
  const hint = descriptionAt(path) ?? 'docs/fleet-file.md describes every key of ferry.yml.';
  if (value === undefined && issue.code === 'invalid_type' && path.length > 0) {
    const parentPath = path.slice(0, -1);
    return [
      finding(
        'schema',
        'error',
        `missing required key "${String(path[path.length - 1])}" ${inPlace(parentPath)}`,
        at(file, parentPath),
        hint,
        extra,
      ),
    ];
  }
  const predicate = /^must /.test(issue.message) ? issue.message : `is not valid: ${issue.message}`;
  return [
    finding(
      'schema',
      'error',
      `${path.length > 0 ? pathString(path) : 'the fleet file'} ${predicate}, got ${describeValue(value)}`,
      at(file, path),
      hint,
      extra,
    ),
  ];
}

/** `in servers/app`, or `at the top level`. */
function inPlace(path: KeyPath): string {
  return path.length > 0 ? `in ${pathString(path)}` : 'at the top level';
}

/** The server or stack a key path is about. */
function subject(path: KeyPath): Pick<Finding, 'server' | 'stack'> {
  const name = path[1];
  if (typeof name !== 'string') return {};
  if (path[0] === 'servers') return { server: name };
  if (path[0] === 'stacks') return { stack: name };
  return {};
}

/** Sizes that match the pattern but do not fit in a number of bytes. */
function sizeRangeErrors(data: FleetFile, file: SourceFile): Finding[] {
  const out: Finding[] = [];
  for (const [name, s] of Object.entries(data.servers)) {
    for (const key of ['memory', 'disk'] as const) {
      const v = s[key];
      if (v !== undefined && parseSize(v) === undefined) {
        const path = ['servers', name, key];
        out.push(
          finding(
            'schema',
            'error',
            `${pathString(path)} is too large, got ${describeValue(v)}`,
            at(file, path),
            descriptionAt(path) ?? '',
            { server: name },
          ),
        );
      }
    }
  }
  return out;
}

const MIB = 1024 * 1024;

/** `memory: 16` is 16 bytes: almost certainly meant as 16 GiB. */
function unitlessSizeWarnings(input: Record<string, unknown>, file: SourceFile): Finding[] {
  const out: Finding[] = [];
  const servers = input['servers'];
  if (!isRecord(servers)) return out;
  for (const [name, s] of Object.entries(servers)) {
    if (!isRecord(s)) continue;
    for (const key of ['memory', 'disk'] as const) {
      const v = s[key];
      if (typeof v !== 'number' && typeof v !== 'string') continue;
      const bytes = parseSize(v);
      if (bytes === undefined || bytes >= MIB) continue;
      const path = ['servers', name, key];
      const example = /^\d+$/.test(String(v).trim()) ? `${String(v).trim()}GiB` : '16GiB';
      out.push(
        finding(
          'schema',
          'warning',
          `${pathString(path)} is ${bytes} ${bytes === 1 ? 'byte' : 'bytes'}; a size without a unit is a number of bytes`,
          at(file, path),
          `Write the unit, for example \`${key}: ${example}\`.`,
          { server: name },
        ),
      );
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Names that must exist. Works on the raw input so that these errors are reported
// together with schema errors; values of the wrong shape are left to the schema.

function referenceFindings(input: Record<string, unknown>, file: SourceFile): Finding[] {
  const out: Finding[] = [];
  const servers = isRecord(input['servers']) ? input['servers'] : undefined;
  const stacks = isRecord(input['stacks']) ? input['stacks'] : {};
  const serverNames = servers ? Object.keys(servers) : [];
  const stackNames = Object.keys(stacks);
  const nameRe = new RegExp(NAME_PATTERN);
  const targetRe = new RegExp(TARGET_PATTERN);
  const serverList =
    serverNames.length > 0
      ? `Servers defined under servers: ${serverNames.join(', ')}.`
      : 'No servers are defined yet: add it under servers:.';

  for (const [stackName, stack] of Object.entries(stacks)) {
    if (!isRecord(stack)) continue;
    const server = stack['server'];
    if (servers && typeof server === 'string' && nameRe.test(server) && !hasOwn(servers, server)) {
      const guess = suggest(server, serverNames);
      const path = ['stacks', stackName, 'server'];
      out.push(
        finding(
          'unknown-reference',
          'error',
          `unknown server "${server}" in ${pathString(path)}${guess ? `; did you mean "${guess}"?` : ''}`,
          at(file, path),
          serverList,
          { stack: stackName },
        ),
      );
    }
    const placed = stack['services'];
    if (isRecord(placed)) {
      for (const [svc, pl] of Object.entries(placed)) {
        const there = isRecord(pl) ? pl['server'] : undefined;
        if (typeof there !== 'string' || !nameRe.test(there)) continue;
        const path = ['stacks', stackName, 'services', svc, 'server'];
        if (servers && !hasOwn(servers, there)) {
          const guess = suggest(there, serverNames);
          out.push(
            finding(
              'unknown-reference',
              'error',
              `unknown server "${there}" in ${pathString(path)}${guess ? `; did you mean "${guess}"?` : ''}`,
              at(file, path),
              serverList,
              { stack: stackName, service: svc },
            ),
          );
        } else if (there === server) {
          out.push(
            finding(
              'placement-same-server',
              'error',
              `${pathString(path)} places ${svc} on ${there}, the stack's own server`,
              at(file, path),
              `Remove stacks/${stackName}/services/${svc}: a service runs on the stack's server unless placed on another one.`,
              { stack: stackName, service: svc },
            ),
          );
        }
      }
    }
    const connections = stack['connections'];
    if (!Array.isArray(connections)) continue;
    connections.forEach((c: unknown, i) => {
      if (!isRecord(c)) return;
      const to = c['to'];
      if (typeof to !== 'string' || !targetRe.test(to)) return;
      const path = ['stacks', stackName, 'connections', i, 'to'];
      const service = typeof c['service'] === 'string' ? { service: c['service'] } : {};
      if (to.startsWith('server:')) {
        const target = to.slice('server:'.length);
        if (!servers || hasOwn(servers, target)) return;
        const guess = suggest(target, serverNames);
        out.push(
          finding(
            'unknown-reference',
            'error',
            `unknown server "${target}" in ${pathString(path)}${guess ? `; did you mean "server:${guess}"?` : ''}`,
            at(file, path),
            `server:NAME names a server with a Postgres installed on the host. ${serverList}`,
            { stack: stackName, ...service },
          ),
        );
        return;
      }
      const slash = to.indexOf('/');
      if (slash < 0) return; // a service of this stack: checked against the compose files later
      const target = to.slice(0, slash);
      if (hasOwn(stacks, target)) return;
      const guess = suggest(target, stackNames);
      out.push(
        finding(
          'unknown-reference',
          'error',
          `unknown stack "${target}" in ${pathString(path)}${guess ? `; did you mean "${guess}${to.slice(slash)}"?` : ''}`,
          at(file, path),
          `STACK/SERVICE names a Postgres service of another stack; stacks defined: ${stackNames.join(', ')}. Write SERVICE alone for a service of this stack, or server:NAME for a Postgres installed on a server.`,
          { stack: stackName, ...service },
        ),
      );
    });
  }
  return out;
}

// ---------------------------------------------------------------------------
// Helpers.

function at(file: SourceFile, path: KeyPath): Where {
  const { exact: _exact, ...where } = locate(file, path);
  return where;
}

function displayPath(cwd: string, abs: string): string {
  const rel = relative(cwd, abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return abs;
  return rel;
}

function withoutExtensions(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc))
    if (!isExtensionKey(k))
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isRecord(v) && hasOwn(v, String(seg))) v = v[String(seg)];
    else return undefined;
  }
  return v;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (isRecord(v)) return Object.keys(v).length === 0 ? 'an empty mapping' : 'a mapping';
  return 'a tagged value';
}

// Walking the zod schema along a key path, for the keys allowed somewhere and the help
// text of a key.

type Schema = z.ZodType;

function unwrapOnce(s: Schema): Schema | undefined {
  if (s instanceof z.ZodOptional || s instanceof z.ZodDefault) return s.unwrap() as Schema;
  return undefined;
}

function unwrap(s: Schema): Schema {
  let cur = s;
  for (let next = unwrapOnce(cur); next; next = unwrapOnce(cur)) cur = next;
  return cur;
}

function step(s: Schema, seg: string | number): Schema | undefined {
  const u = unwrap(s);
  if (u instanceof z.ZodObject) return hasOwn(u.shape, String(seg)) ? (u.shape[String(seg)] as Schema) : undefined;
  if (u instanceof z.ZodRecord) return u.valueType as Schema;
  if (u instanceof z.ZodArray) return typeof seg === 'number' ? (u.element as Schema) : undefined;
  if (u instanceof z.ZodUnion) {
    for (const option of u.options as readonly Schema[]) {
      const hit = step(option, seg);
      if (hit) return hit;
    }
  }
  return undefined;
}

function descriptionOf(s: Schema): string | undefined {
  for (let cur: Schema | undefined = s; cur; cur = unwrapOnce(cur)) if (cur.description) return cur.description;
  return undefined;
}

/** Help text of the deepest key on `path` that has one. */
function descriptionAt(path: readonly (string | number)[]): string | undefined {
  let s: Schema | undefined = FleetFileSchema;
  let text: string | undefined;
  for (const seg of path) {
    s = step(s, seg);
    if (!s) break;
    text = descriptionOf(s) ?? text;
  }
  return text;
}

function knownKeys(path: readonly (string | number)[]): string[] {
  let s: Schema | undefined = FleetFileSchema;
  for (const seg of path) {
    s = s && step(s, seg);
  }
  const u = s && unwrap(s);
  return u instanceof z.ZodObject ? Object.keys(u.shape) : [];
}
