/**
 * The fleet: servers, and which stack runs where. Loaded from `ferry.yml` (or made up
 * on the spot from `--compose` files, with no server).
 */
import type { Locator } from './compose.js';
import type { HardenDef } from './harden.js';
import type { MonitoringDef } from './monitoring.js';
import type { BackupDef } from './backup.js';

export interface ServerDef {
  name: string;
  host: string;
  /** Default: the ~/.ssh/config alias's User, else root (resolved by the transport). */
  user?: string;
  /** Default: the alias's Port, else 22. */
  port?: number;
  /** Run root commands through `sudo -n`. */
  sudo?: boolean;
  /** Private key path (absolute, or starting with `~`). */
  identityFile?: string;
  /** Bytes. */
  memory?: number;
  cpus?: number;
  /** Bytes. */
  disk?: number;
  /** Monthly cost in the fleet's currency. */
  cost?: number;
  /** A Postgres installed on the host (outside Docker). */
  postgres?: HostPostgresDef;
  /** IPv4 address other servers of the fleet reach this one by; default `host` when it is one. */
  privateAddress?: string;
  /** `harden` (the fleet's, with the server's over it); undefined: not hardened by Ferry. */
  harden?: HardenDef;
}

/** A Postgres installed on a server, outside Docker (`servers.NAME.postgres`). */
export interface HostPostgresDef {
  /** Major version; undefined: the server's only cluster. */
  version?: number;
  cluster: string;
  port: number;
  /** The system user that is its superuser by peer authentication. */
  superuser: string;
  maxConnections: number;
  /** Ferry sets its memory settings and max_connections (host-postgres-tune.ts). */
  tune: boolean;
}

/** An application's pool of Postgres connections, for the connection budget. */
export interface ConnectionPool {
  /** Service in this stack that opens the pool. */
  service: string;
  /** Connections per replica. */
  pool: number;
  /** Replicas; default: the service's own replica count. */
  replicas?: number;
  /** Processes (workers) per replica that each open a pool; default 1. */
  processes?: number;
  /** `STACK/SERVICE` of a Postgres service, `SERVICE` in the same stack, or `server:NAME` for a Postgres on a host. */
  to: string;
  /** Index in the fleet file's `connections` list. */
  index: number;
  /** For `server:NAME`: the database and role its `pg_hba.conf` entry lets in (default: all). */
  database?: string;
  user?: string;
}

/** How a stack's images reach its server. */
export type ImageSource = 'push' | 'pull';

/** Where the images of services with `build:` are built. */
export type BuildWhere = 'server' | 'local';

/** How Ferry deploys a stack (`stacks.NAME.deploy`). */
export interface DeployDef {
  /** `push`: streamed from this machine over SSH (no registry); `pull`: the server pulls them. */
  images: ImageSource;
  /**
   * `server`: services with `build:` are built on the server from their context, sent by
   * Ferry; `local`: Ferry builds nothing, their `image:` (built here) reaches the server as `images` says.
   */
  build: BuildWhere;
  /** How long containers may take to become healthy, in ms. */
  healthTimeoutMs: number;
  /** Releases kept on the server, the current one included (at least 2, so that rollback works). */
  keepReleases: number;
  /** HTTP checks (`http://127.0.0.1:PORT/path` on the server, or through the proxy) that must answer 2xx/3xx. */
  httpChecks: HttpCheckDef[];
}

export const DEFAULT_DEPLOY: DeployDef = {
  images: 'push',
  build: 'server',
  healthTimeoutMs: 120_000,
  keepReleases: 5,
  httpChecks: [],
};

export interface HttpCheckDef {
  /** A service of the stack and its container port, checked on the container's address. */
  service: string;
  port: number;
  path: string;
}

/** One `location` of a proxied domain: a path prefix to a service's container port. */
export interface RouteDef {
  /** Starts with `/`. */
  path: string;
  service: string;
  /** The port the service listens on inside its container. */
  port: number;
  /** Upgrade connections (websockets). */
  websocket: boolean;
  /** Server-sent events: no buffering, long read timeout. */
  sse: boolean;
  /** nginx size, e.g. `10m` (client_max_body_size). */
  bodySize?: string;
  /** Read/send timeout in seconds. */
  timeoutSeconds?: number;
  /** Requests per second per client address, with a burst. */
  rateLimit?: { perSecond: number; burst: number };
  /** Cache static responses this long in clients (e.g. `7d`: Cache-Control and expires). */
  cache?: string;
  /** Response headers of this route, over the stack's. */
  headers?: Record<string, string>;
}

/** `stacks.NAME.proxy`: nginx on the stack's server in front of its web services. */
export interface ProxyDef {
  domains: string[];
  /** `acme`: a certificate from the fleet's ACME CA (certbot, webroot), HTTP redirected to HTTPS once it exists. */
  tls: 'acme' | 'none';
  hsts: boolean;
  securityHeaders: boolean;
  /** Response headers added on every response, besides the security headers. */
  headers?: Record<string, string>;
  routes: RouteDef[];
}

/** `acme`: where certificates come from. */
export interface AcmeDef {
  email: string;
  /** ACME directory URL; default Let's Encrypt's production directory. */
  directory?: string;
  /** A CA bundle on this machine that the servers must trust for the directory (e.g. a test CA); absolute. */
  caBundle?: string;
}

/** `dns`: how migrations read and change the records of stacks' domains. */
export interface DnsDef {
  /** Name servers asked instead of this machine's (`ADDRESS` or `ADDRESS:PORT`, `[IPv6]:PORT`). */
  resolvers?: string[];
  /** Absolute path of an executable on this machine that changes a record at the DNS provider. */
  hook?: string;
  /** A record whose TTL is longer refuses a migration, in seconds. */
  maxTtlSeconds?: number;
  /** How long a migration waits for the resolvers to answer the new address after the hook, in ms. */
  waitMs?: number;
}

export interface StackDef {
  name: string;
  /** Server name; undefined only for stacks made from `--compose` with no fleet file. */
  server?: string;
  /** Compose files, absolute paths, in override order. */
  compose: string[];
  envFile?: string;
  profiles?: string[];
  /** Compose project name override. */
  project?: string;
  connections: ConnectionPool[];
  deploy: DeployDef;
  proxy?: ProxyDef;
  /** Services that run on another server than the stack's, by service name. */
  placement?: Record<string, PlacementDef>;
  /** `services.NAME.nginx_status`: where a service's nginx shows its counters, by service. */
  nginxStatus?: Record<string, NginxStatusDef>;
  /** Postgres services tuned from their size (`services.NAME.tune`), by name. */
  tune?: Record<string, boolean>;
  /** Postgres services whose database is kept in the Postgres installed on the stack's server (`services.NAME.server_postgres`). */
  serverPostgres?: string[];
  /** `backups` (the fleet's, with the stack's over it); undefined: not backed up by Ferry. */
  backups?: BackupDef;
  /** `migrate.max_pause`, in ms; undefined: DEFAULT_MAX_PAUSE_MS. */
  maxPauseMs?: number;
}

/** How long any wait inside a migration's write pause may last, unless `migrate.max_pause` says. */
export const DEFAULT_MAX_PAUSE_MS = 60_000;

export const maxPauseOf = (stack: Pick<StackDef, 'maxPauseMs'>): number => stack.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;

/** How long a stack started inside a migration's write pause may take to become healthy: `health_timeout`, at most `migrate.max_pause`. */
export const healthInPauseMs = (stack: Pick<StackDef, 'maxPauseMs' | 'deploy'>): number =>
  Math.min(stack.deploy.healthTimeoutMs, maxPauseOf(stack));

/** `stacks.NAME.services.SERVICE`: a service run on another server. */
/** nginx's `stub_status` inside a service's container: http://SERVICE:PORT/PATH. */
export interface NginxStatusDef {
  port: number;
  path: string;
}

export interface PlacementDef {
  server: string;
  /** The port the others reach it on; default: the image's well-known one. */
  port?: number;
}

export interface Fleet {
  /** Absolute path of ferry.yml, or undefined for `--compose`. */
  file?: string;
  /** ferry.yml as displayed to the user. */
  display?: string;
  servers: Record<string, ServerDef>;
  stacks: Record<string, StackDef>;
  acme?: AcmeDef;
  dns?: DnsDef;
  /** `monitoring`: the monitoring server, receivers, thresholds and images. */
  monitoring?: MonitoringDef;
  /** Positions of fleet file keys (`stacks/web/server`). */
  locate: Locator;
}
