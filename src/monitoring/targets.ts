/**
 * What the monitoring stack watches, read off the fleet: every server (node_exporter,
 * cAdvisor, its SSH port), the exporter fitting each stateful service (Postgres, Redis,
 * MySQL, nginx) and a blackbox probe of every proxied domain and HTTP check. Pure: the
 * renderers take this, never the fleet.
 */
import { knownImage } from '../check/known-images.js';
import { parseImage } from '../check/image-ref.js';
import type { Service } from '../model/compose.js';
import { databases, isRedisImage, MYSQL_IMAGE } from '../migrate/postgres.js';
import {
  mysqlConnect,
  nginxConnect,
  postgresConnect,
  redisConnect,
  type MysqlConnect,
  type NginxConnect,
  type PostgresConnect,
  type RedisConnect,
} from './connect.js';
import type { HostPostgresDef, ServerDef, StackDef } from '../model/fleet.js';
import type { ComposeProject } from '../model/compose.js';
import { FerryError } from '../core/errors.js';
import { suggest } from '../core/suggest.js';
import type { LoadedFleet } from '../model/loaded.js';

export type ExporterKind = 'postgres' | 'redis' | 'mysql' | 'nginx';

/** The port each exporter listens on, from its upstream default; a second of a kind on a server takes the next. */
export const EXPORTER_PORTS: Record<ExporterKind | 'node' | 'cadvisor', number> = {
  node: 9100,
  cadvisor: 9338,
  postgres: 9187,
  redis: 9121,
  mysql: 9104,
  nginx: 9113,
};

export interface ServerTarget {
  name: string;
  /** The address Prometheus reaches it at: `private_address`, else `host`. */
  address: string;
  sshPort: number;
}

export interface ExporterTarget {
  kind: ExporterKind;
  server: string;
  /** `ADDRESS:PORT` of the exporter. */
  address: string;
  /** The stack and service it watches; undefined for what runs on the host (a Postgres outside Docker, Ferry's nginx). */
  stack?: string;
  service?: string;
  /** How a Postgres exporter container reaches its service: on the stack's network, by service name. */
  connect?: PostgresConnect;
  /** How a Redis exporter container reaches its service, the same way. */
  redis?: RedisConnect;
  /** How a MySQL exporter container reaches its service, the same way. */
  mysql?: MysqlConnect;
  /** How an nginx exporter container reads an nginx service's `stub_status`, the same way. */
  nginx?: NginxConnect;
  /** A Postgres installed on the server: the exporter, on the host's network, logs in on loopback. */
  hostPostgres?: HostPostgresDef;
}

export interface ProbeTarget {
  url: string;
  stack: string;
  /** `domain`: a proxied domain's root; `http_check`: a stack's `http_checks` path. */
  kind: 'domain' | 'http_check';
}

/** An HTTP check that no probe can reach from the monitoring server (no route, no published port). */
export interface UnprobedCheck {
  stack: string;
  service: string;
  port: number;
  path: string;
}

/**
 * A stateful service whose exporter Ferry does not deploy, and why: it is not scraped (an
 * exporter that is not there would only fire ExporterDown), and `ferry monitoring render`
 * says so.
 */
export interface UnwatchedService {
  kind: ExporterKind;
  server: string;
  stack?: string;
  service?: string;
  why: string;
}

export interface MonitoringTargets {
  servers: ServerTarget[];
  /** The exporters Ferry deploys, each scraped. */
  exporters: ExporterTarget[];
  unwatched: UnwatchedService[];
  probes: ProbeTarget[];
  unprobed: UnprobedCheck[];
  /** Stacks backed up by `ferry backup run` (their runs write metrics for node_exporter). */
  backedUp: string[];
}

export function monitoringTargets(loaded: LoadedFleet): MonitoringTargets {
  const { fleet } = loaded;
  const servers = Object.values(fleet.servers).map(serverTarget);
  const addressOf = new Map(servers.map((s) => [s.name, s.address]));
  const exporters: Omit<ExporterTarget, 'address'>[] = [];
  const unwatched: UnwatchedService[] = [];
  for (const server of Object.values(fleet.servers))
    if (server.postgres) exporters.push({ kind: 'postgres', server: server.name, hostPostgres: server.postgres });
  const proxied = new Set<string>();
  const probes: ProbeTarget[] = [];
  const unprobed: UnprobedCheck[] = [];
  for (const { def, project } of loaded.stacks) {
    if (!def.server) continue;
    if (def.proxy) proxied.add(def.server);
    if (project) unknownStatusServices(def, project);
    for (const s of project?.services ?? []) {
      const status = def.nginxStatus?.[s.name];
      const kind = status ? 'nginx' : exporterKind(s);
      // Kept in the Postgres installed on the server: that one's exporter watches it.
      if (!kind || !project || def.serverPostgres?.includes(s.name)) continue;
      const placed = def.placement?.[s.name]?.server;
      const at = { kind, server: placed ?? def.server, stack: def.name, service: s.name };
      // A placed service runs in the same project on its server: its network has the same name there.
      const connect = kind === 'postgres' ? postgresConnect(s, project) : undefined;
      const redis = kind === 'redis' ? redisConnect(s, project) : undefined;
      const mysql = kind === 'mysql' ? mysqlConnect(s, project) : undefined;
      const nginx = status ? nginxConnect(s, project, status) : undefined;
      if (connect || redis || mysql || nginx)
        exporters.push({
          ...at,
          ...(connect ? { connect } : {}),
          ...(redis ? { redis } : {}),
          ...(mysql ? { mysql } : {}),
          ...(nginx ? { nginx } : {}),
        });
      else unwatched.push({ ...at, why: unwatchedWhy(kind, def.name, s.name, status !== undefined) });
    }
    probes.push(...domainProbes(def));
    for (const c of def.deploy.httpChecks) {
      const url = checkUrl(
        def,
        project?.services.find((s) => s.name === c.service),
        c,
        addressOf.get(def.server),
      );
      if (url) probes.push({ url, stack: def.name, kind: 'http_check' });
      else unprobed.push({ stack: def.name, service: c.service, port: c.port, path: c.path });
    }
  }
  for (const server of [...proxied].sort()) exporters.push({ kind: 'nginx', server });
  const backedUp = loaded.stacks.filter((s) => s.def.backups !== undefined).map((s) => s.def.name);
  return {
    servers,
    exporters: withPorts(exporters, addressOf),
    unwatched,
    probes: unique(probes),
    unprobed,
    backedUp,
  };
}

/** `services.NAME.nginx_status` names a service of the project, or the fleet file is wrong. */
function unknownStatusServices(def: StackDef, project: ComposeProject): void {
  const names = project.services.map((s) => s.name);
  const unknown = Object.keys(def.nginxStatus ?? {}).find((n) => !names.includes(n));
  if (unknown === undefined) return;
  const near = suggest(unknown, names);
  throw new FerryError(
    'unknown-service',
    `stacks/${def.name}/services names ${unknown}, which is not a service of the stack${near ? `; did you mean "${near}"?` : ''}`,
    `stacks/${def.name}/services/${unknown}/nginx_status`,
    `Services: ${names.join(', ')}.`,
    2,
  );
}

function unwatchedWhy(kind: ExporterKind, stack: string, service: string, declared: boolean): string {
  if (kind === 'postgres')
    return 'its password is neither in its environment (POSTGRES_PASSWORD) nor in a Compose secret Ferry can read: it cannot hand it to the exporter';
  if (kind === 'redis' || declared) return 'on no network an exporter can join';
  if (kind === 'nginx')
    return `an nginx container whose stub_status page Ferry does not know: turn it on in its configuration and name it in stacks/${stack}/services/${service}/nginx_status`;
  return 'no root or user password in its environment (MARIADB_ROOT_PASSWORD, MYSQL_PASSWORD, ...) or in a Compose secret Ferry can read: it cannot hand one to the exporter';
}

/** A server as others reach it: its address and SSH port (hardening's when it moves it). */
export function serverTarget(s: ServerDef): ServerTarget {
  return { name: s.name, address: s.privateAddress ?? s.host, sshPort: s.harden?.ssh?.port ?? s.port ?? 22 };
}

/** The exporter fitting a service's image, if any. */
export function exporterKind(s: Service): ExporterKind | undefined {
  const label = knownImage(s.image)?.label;
  // A Postgres as migrations and backups find one (an image named like postgres, not a tool of it).
  if (label === 'PostgreSQL' || databases([s]).length > 0) return 'postgres';
  if (isRedisImage(s.image)) return 'redis';
  if (label === 'MySQL' || (s.image !== undefined && MYSQL_IMAGE.test(s.image))) return 'mysql';
  if (s.image && ['nginx', 'nginx-unprivileged', 'openresty'].includes(parseImage(s.image).name)) return 'nginx';
  return undefined;
}

/**
 * Each exporter's address: the kind's port on its server, the next one for a second of the
 * same kind there. What runs on the host (Ferry's nginx) is counted first, so that its port
 * stays when a stack's service of the same kind comes or goes.
 */
function withPorts(list: Omit<ExporterTarget, 'address'>[], addressOf: Map<string, string>): ExporterTarget[] {
  const used = new Map<string, number>();
  const address = new Map<Omit<ExporterTarget, 'address'>, string>();
  for (const e of [...list.filter((x) => !x.stack), ...list.filter((x) => x.stack)]) {
    const key = `${e.server}/${e.kind}`;
    const n = used.get(key) ?? 0;
    used.set(key, n + 1);
    address.set(e, `${addressOf.get(e.server) ?? e.server}:${EXPORTER_PORTS[e.kind] + n}`);
  }
  return list.map((e) => ({ ...e, address: address.get(e)! }));
}

function scheme(def: StackDef): string {
  return def.proxy?.tls === 'none' ? 'http' : 'https';
}

function domainProbes(def: StackDef): ProbeTarget[] {
  return (def.proxy?.domains ?? []).map((d) => ({ url: `${scheme(def)}://${d}/`, stack: def.name, kind: 'domain' }));
}

/** Through the proxy when a route of the service covers the path, else on the service's published port. */
function checkUrl(
  def: StackDef,
  service: Service | undefined,
  c: { service: string; port: number; path: string },
  address: string | undefined,
): string | undefined {
  const route = def.proxy?.routes.find(
    (r) => r.service === c.service && r.port === c.port && c.path.startsWith(r.path),
  );
  if (route && def.proxy) return `${scheme(def)}://${def.proxy.domains[0]}${c.path}`;
  const published = service?.ports.find(
    (p) => p.published !== undefined && c.port >= p.target && c.port <= p.targetEnd,
  );
  if (!published || address === undefined || (published.hostIp && published.hostIp.startsWith('127.')))
    return undefined;
  return `http://${address}:${published.published! + (c.port - published.target)}${c.path}`;
}

function unique(probes: ProbeTarget[]): ProbeTarget[] {
  const seen = new Set<string>();
  return probes.filter((p) => (seen.has(p.url) ? false : (seen.add(p.url), true)));
}
