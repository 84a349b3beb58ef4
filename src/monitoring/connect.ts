/**
 * How an exporter container reaches a stack's service: on the service's network, by its
 * name, with what Compose says of its credentials. Pure: read off the compose project.
 */
import type { ComposeProject, Service } from '../model/compose.js';
import type { NginxStatusDef } from '../model/fleet.js';
import { redisPassword, type RedisConfig } from '../migrate/steps/redis.js';

export interface PostgresConnect {
  /** The Docker network of the service (its project's, as Compose names it). */
  network: string;
  user: string;
  db: string;
  /** The service's variable holding the password (POSTGRES_PASSWORD), or naming its file (POSTGRES_PASSWORD_FILE). */
  passwordVar: string;
  /** The Compose secret that file is, when the password is read from one. */
  passwordSecret?: string;
}

export interface RedisConnect {
  network: string;
  /** The port Redis listens on in its container (`--port`, else 6379). */
  port: number;
  /** Redis requires a password (`--requirepass`, REDIS_ARGS, REDIS_PASSWORD): handed over in a secret file. */
  auth: boolean;
}

export interface NginxConnect {
  network: string;
  /** Its `stub_status` page, by service name on that network. */
  url: string;
}

export interface MysqlConnect {
  network: string;
  /** `root` when its password is set, else the application user the image creates. */
  user: string;
  /** The service's variable holding that user's password, or naming its file. */
  passwordVar: string;
  /** The Compose secret that file is, when the password is read from one. */
  passwordSecret?: string;
  /** The port MySQL listens on in its container (`--port`, else 3306). */
  port: number;
}

/** The Docker network of a service (its first, as Compose names it); none for a service on another's network or the host's. */
function serviceNetwork(s: Service, project: ComposeProject): string | undefined {
  if (s.networkMode !== undefined) return undefined;
  const key = Object.keys(s.networks)[0] ?? 'default';
  const net = project.networks[key];
  const named = net?.external || typeof net?.raw.name === 'string';
  return named ? net!.name : `${project.name}_${key}`;
}

/**
 * Where a service's password is, among `names` (each `X` also as `X_FILE`, as the
 * official images read them): the first variable set, or the first naming the file of a
 * Compose secret of the service that Ferry can read (from a file or a variable); undefined
 * when none is.
 */
function passwordOf(
  s: Service,
  project: ComposeProject,
  names: readonly string[],
): { passwordVar: string; passwordSecret?: string } | undefined {
  const set = names.find((n) => s.environment[n]);
  if (set) return { passwordVar: set };
  for (const n of names.map((x) => `${x}_FILE`)) {
    const path = s.environment[n];
    const mount = path ? s.secrets.find((x) => x.target === path) : undefined;
    const def = mount ? project.secrets[mount.source] : undefined;
    if (mount && def && !def.external && (def.file || def.environment))
      return { passwordVar: n, passwordSecret: mount.source };
  }
  return undefined;
}

/**
 * A Postgres service an exporter container can reach: by its password in the environment
 * (POSTGRES_PASSWORD) or in a Compose secret (POSTGRES_PASSWORD_FILE), on the first
 * network it is on.
 */
export function postgresConnect(s: Service, project: ComposeProject): PostgresConnect | undefined {
  const network = serviceNetwork(s, project);
  const password = passwordOf(s, project, ['POSTGRES_PASSWORD']);
  if (!password || !network) return undefined;
  const user = s.environment.POSTGRES_USER || 'postgres';
  return { network, user, db: s.environment.POSTGRES_DB || user, ...password };
}

const words = (v: string[] | string | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The service as `docker inspect` would show it to redisPassword: its entrypoint, command and environment. */
function redisConfig(s: Service): RedisConfig {
  return {
    Entrypoint: words(s.entrypoint),
    Cmd: words(s.command),
    Env: Object.entries(s.environment).flatMap(([k, v]) => (v === null ? [] : [`${k}=${v}`])),
  };
}

/** The password a Redis service requires, as its compose file says; undefined when none is seen. */
export const redisServicePassword = (s: Service): string | undefined => redisPassword(redisConfig(s));

/** A Redis service an exporter container can reach, on its first network. */
export function redisConnect(s: Service, project: ComposeProject): RedisConnect | undefined {
  const network = serviceNetwork(s, project);
  if (!network) return undefined;
  const text = [...words(s.entrypoint), ...words(s.command)].join(' ');
  const port = /--port(?:\s+|=)(\d+)/.exec(text)?.[1];
  return { network, port: port ? Number(port) : 6379, auth: redisServicePassword(s) !== undefined };
}

/**
 * A MySQL or MariaDB service an exporter container can reach, as the official images take
 * their credentials: root with MARIADB_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD, else the user
 * of MARIADB_USER/MYSQL_USER with its password (each also from a Compose secret, `_FILE`).
 */
export function mysqlConnect(s: Service, project: ComposeProject): MysqlConnect | undefined {
  const network = serviceNetwork(s, project);
  if (!network) return undefined;
  const env = s.environment;
  const set = (...names: string[]) => names.find((n) => env[n]);
  const text = [...words(s.entrypoint), ...words(s.command)].join(' ');
  const port = Number(/--port(?:\s+|=)(\d+)/.exec(text)?.[1] ?? 3306);
  const root = passwordOf(s, project, ['MARIADB_ROOT_PASSWORD', 'MYSQL_ROOT_PASSWORD']);
  if (root) return { network, user: 'root', ...root, port };
  const user = set('MARIADB_USER', 'MYSQL_USER');
  const password = passwordOf(s, project, ['MARIADB_PASSWORD', 'MYSQL_PASSWORD']);
  return user && password ? { network, user: env[user]!, ...password, port } : undefined;
}

/** An nginx service whose `stub_status` an exporter container reads on its first network. */
export function nginxConnect(s: Service, project: ComposeProject, status: NginxStatusDef): NginxConnect | undefined {
  const network = serviceNetwork(s, project);
  return network ? { network, url: `http://${s.name}:${status.port}${status.path}` } : undefined;
}
