/**
 * The model (`Fleet`, src/model/fleet.ts) built from a fleet file the schema accepted:
 * paths resolved relative to the fleet file, sizes in bytes, durations in milliseconds,
 * defaults filled in.
 */
import { dirname, resolve } from 'node:path';
import { parseSize } from '../core/size.js';
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
import type { SourceFile } from '../yaml/source.js';
import { at } from './plain.js';
import type { FleetFile, ServerEntry, StackEntry } from './schema.js';
import { hardenDef } from './harden-build.js';
import { monitoringDef } from './monitoring-build.js';
import { backupDef } from './backup-build.js';

export function buildFleet(data: FleetFile, file: SourceFile): Fleet {
  const baseDir = dirname(file.path);
  const servers: Record<string, ServerDef> = {};
  for (const [name, s] of Object.entries(data.servers)) servers[name] = serverDef(name, s, baseDir);
  const addressOf = (server: string) => {
    const s = servers[server];
    return s ? (s.privateAddress ?? s.host) : undefined;
  };
  for (const [name, s] of Object.entries(data.servers)) {
    const harden = hardenDef(data.harden, s.harden, addressOf);
    if (harden) servers[name]!.harden = harden;
    // Once hardened, Ferry logs in as the admin user, who reaches root through sudo.
    if (harden?.admin) servers[name]!.sudo = true;
  }
  const stacks: Record<string, StackDef> = {};
  for (const [name, st] of Object.entries(data.stacks)) {
    stacks[name] = stackDef(name, st, baseDir);
    const backups = backupDef(data.backups, st.backups, baseDir);
    if (backups) stacks[name]!.backups = backups;
  }
  const fleet: Fleet = { file: file.path, display: file.display, servers, stacks, locate: (path) => at(file, path) };
  if (data.acme !== undefined) {
    fleet.acme = { email: data.acme.email };
    if (data.acme.directory !== undefined) fleet.acme.directory = data.acme.directory;
    if (data.acme.ca_bundle !== undefined) fleet.acme.caBundle = resolve(baseDir, data.acme.ca_bundle);
  }
  if (data.dns !== undefined) fleet.dns = dnsDef(data.dns, baseDir);
  if (data.monitoring !== undefined) fleet.monitoring = monitoringDef(data.monitoring, baseDir);
  return fleet;
}

function serverDef(name: string, s: ServerEntry, baseDir: string): ServerDef {
  const def: ServerDef = { name, host: s.host };
  if (s.user !== undefined) def.user = s.user;
  if (s.port !== undefined) def.port = s.port;
  if (s.memory !== undefined) def.memory = parseSize(s.memory)!;
  if (s.cpus !== undefined) def.cpus = s.cpus;
  if (s.disk !== undefined) def.disk = parseSize(s.disk)!;
  if (s.cost !== undefined) def.cost = s.cost;
  if (s.sudo !== undefined) def.sudo = s.sudo;
  if (s.identity_file !== undefined)
    def.identityFile = s.identity_file.startsWith('~') ? s.identity_file : resolve(baseDir, s.identity_file);
  if (s.postgres !== undefined) {
    const pg = s.postgres;
    def.postgres = {
      cluster: pg.cluster ?? 'main',
      port: pg.port ?? 5432,
      superuser: pg.superuser ?? 'postgres',
      maxConnections: pg.max_connections,
      tune: pg.tune ?? false,
    };
    if (pg.version !== undefined) def.postgres.version = pg.version;
  }
  if (s.private_address !== undefined) def.privateAddress = s.private_address;
  return def;
}

function stackDef(name: string, st: StackEntry, baseDir: string): StackDef {
  const compose = (typeof st.compose === 'string' ? [st.compose] : st.compose).map((p) => resolve(baseDir, p));
  const connections: ConnectionPool[] = (st.connections ?? []).map((c, index) => {
    const pool: ConnectionPool = { service: c.service, pool: c.pool, to: c.to, index };
    if (c.replicas !== undefined) pool.replicas = c.replicas;
    if (c.processes !== undefined) pool.processes = c.processes;
    if (c.database !== undefined) pool.database = c.database;
    if (c.user !== undefined) pool.user = c.user;
    return pool;
  });
  const def: StackDef = { name, server: st.server, compose, connections, deploy: deployDef(st.deploy) };
  if (st.proxy !== undefined) def.proxy = proxyDef(st.proxy);
  if (st.env_file !== undefined) def.envFile = resolve(baseDir, st.env_file);
  if (st.profiles !== undefined) def.profiles = [...st.profiles];
  if (st.project !== undefined) def.project = st.project;
  if (st.migrate?.max_pause !== undefined) def.maxPauseMs = ms(st.migrate.max_pause);
  const services = Object.entries(st.services ?? {});
  const placed = services.flatMap(([svc, p]) =>
    p.server === undefined
      ? []
      : [[svc, p.port === undefined ? { server: p.server } : { server: p.server, port: p.port }]],
  );
  if (placed.length > 0) def.placement = Object.fromEntries(placed);
  const status = services.flatMap(([svc, p]) =>
    p.nginx_status ? [[svc, { port: p.nginx_status.port, path: p.nginx_status.path ?? '/stub_status' }]] : [],
  );
  if (status.length > 0) def.nginxStatus = Object.fromEntries(status);
  const tuned = services.flatMap(([svc, p]) => (p.tune ? [[svc, true] as const] : []));
  if (tuned.length > 0) def.tune = Object.fromEntries(tuned);
  const onServer = services.flatMap(([svc, p]) => (p.server_postgres ? [svc] : []));
  if (onServer.length > 0) def.serverPostgres = onServer;
  return def;
}

function dnsDef(d: NonNullable<FleetFile['dns']>, baseDir: string): DnsDef {
  const def: DnsDef = {};
  if (d.resolvers !== undefined) def.resolvers = [...d.resolvers];
  if (d.hook !== undefined) def.hook = resolve(baseDir, d.hook);
  if (d.max_ttl !== undefined) def.maxTtlSeconds = Math.floor(ms(d.max_ttl) / 1000);
  if (d.wait !== undefined) def.waitMs = ms(d.wait);
  return def;
}

/** A duration the schema accepted, in milliseconds. */
const ms = (d: string): number => parseDuration(d)!;

function deployDef(d: StackEntry['deploy']): DeployDef {
  return {
    images: d?.images ?? DEFAULT_DEPLOY.images,
    build: d?.build ?? DEFAULT_DEPLOY.build,
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
    ...(p.headers ? { headers: { ...p.headers } } : {}),
    routes: p.routes.map(routeDef),
  };
}

function routeDef(r: NonNullable<StackEntry['proxy']>['routes'][number]): RouteDef {
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
  if (r.headers !== undefined) route.headers = { ...r.headers };
  return route;
}
