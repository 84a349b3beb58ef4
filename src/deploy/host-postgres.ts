/**
 * A stack reaching the Postgres installed on its own server, outside Docker: its
 * containers connect to `host.docker.internal` (Compose's `host-gateway`, the address of
 * Docker's default bridge on the host), from the addresses of the stack's Docker networks.
 * Ferry writes exactly those networks into `pg_hba.conf`, in a block of its own per stack,
 * and makes Postgres listen on the gateway's address.
 */
import type { FirewallAllow } from '../model/harden.js';
import { FerryError } from '../core/errors.js';
import type { ComposeProject, Service } from '../model/compose.js';
import type { ConnectionPool, HostPostgresDef, ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { cmd, script, type Command } from '../shell/command.js';
import { DOCKER_POOLS } from './firewall.js';
import { privateAddress } from './placement.js';
import { databases } from '../migrate/postgres.js';

/** A Docker network of the stack that a service connecting to the host's Postgres is on. */
export interface StackNetwork {
  /** Its key in the compose file (`default` when none is named). */
  key: string;
  /** Its name on the server (`PROJECT_KEY`, or its `name:`). */
  name: string;
  external: boolean;
  driver?: string;
  internal: boolean;
}

/** Who may log in: a database and a role (`all` for any). */
export interface HbaPair {
  database: string;
  user: string;
}

export interface HostPostgresAccess {
  stack: string;
  /** Its block's name in pg_hba.conf: the stack and the server it runs on (`shop on app1`), so that a stack moving between servers is let in from both while it moves. */
  block: string;
  project: string;
  postgres: HostPostgresDef;
  /** The stack's networks (a stack on the same server); none for a stack on another server. */
  networks: StackNetwork[];
  pairs: HbaPair[];
  /** A stack on another server: the address it connects from, and the one Postgres listens on for it. */
  remote?: { from: string; listen: string };
}

/**
 * What the stack's connections to `server:PG` need, for the stack running on `home`;
 * undefined when none. From another server, it connects from `home`'s private address to PG's.
 */
export function hostPostgresAccess(stack: LoadedStack, pg: ServerDef, home: ServerDef): HostPostgresAccess | undefined {
  const project = stack.project;
  const pools = stack.def.connections.filter((c) => c.to === `server:${pg.name}`);
  const served = home.name === pg.name ? servedPools(stack) : { pools: [], pairs: [] };
  if (!project || !pg.postgres || pools.length + served.pools.length === 0) return undefined;
  const seen = new Map<string, HbaPair>();
  for (const pair of [...pools.map((p) => ({ database: p.database ?? 'all', user: p.user ?? 'all' })), ...served.pairs])
    seen.set(`${pair.database} ${pair.user}`, pair);
  const base = {
    stack: stack.def.name,
    block: `${stack.def.name} on ${home.name}`,
    project: project.name,
    postgres: pg.postgres,
    pairs: [...seen.values()],
  };
  if (home.name === pg.name) return { ...base, networks: stackNetworks(project, [...pools, ...served.pools]) };
  return { ...base, networks: [], remote: { from: addressOf(home, stack), listen: addressOf(pg, stack) } };
}

/**
 * The stack's Postgres services kept in its server's Postgres (`server_postgres`): each one's
 * database and role, and the services that could reach it (those sharing a network with it).
 */
function servedPools(stack: LoadedStack): { pools: Pick<ConnectionPool, 'service'>[]; pairs: HbaPair[] } {
  const project = stack.project;
  const names = new Set(stack.def.serverPostgres ?? []);
  if (!project || names.size === 0) return { pools: [], pairs: [] };
  const served = project.services.filter((s) => names.has(s.name));
  const theirs = new Set(served.flatMap(networkKeys));
  return {
    pools: project.services
      .filter((s) => !names.has(s.name) && networkKeys(s).some((n) => theirs.has(n)))
      .map((s) => ({ service: s.name })),
    pairs: databases(served).map((d) => ({ database: d.db, user: d.user })),
  };
}

/** The servers with a Postgres on the host that the stack, running on `home`, connects to (`home` first). */
export function hostPostgresServers(
  stack: LoadedStack,
  home: ServerDef,
  servers: Record<string, ServerDef>,
): ServerDef[] {
  const names = new Set(stack.def.connections.flatMap((c) => (c.to.startsWith('server:') ? [c.to.slice(7)] : [])));
  if ((stack.def.serverPostgres ?? []).length > 0) names.add(home.name);
  const all = { ...servers, [home.name]: home };
  return [...names]
    .sort((x, y) => (x === home.name ? -1 : y === home.name ? 1 : x.localeCompare(y)))
    .flatMap((n) => (all[n]?.postgres ? [all[n]!] : []));
}

function addressOf(s: ServerDef, stack: LoadedStack): string {
  const a = privateAddress(s);
  if (a === undefined)
    throw new FerryError(
      'host-postgres-no-address',
      `server ${s.name} has no private address (its host ${s.host} is not an IPv4 address), so ${stack.def.name} cannot be let into the Postgres of another server by it`,
      `servers/${s.name}`,
      `Set servers/${s.name}/private_address: the address the other servers reach it by.`,
      2,
    );
  return a;
}

/** The networks a service is on, by their keys in the compose file (`default` when it names none). */
const networkKeys = (s: Service): string[] => {
  const named = Object.keys(s.networks);
  return named.length > 0 ? named : ['default'];
};

/** The networks of the services that connect (`default` for one that names none), by their names on the server. */
function stackNetworks(project: ComposeProject, pools: Pick<ConnectionPool, 'service'>[]): StackNetwork[] {
  const keys = new Set<string>();
  for (const pool of pools) {
    const svc = project.services.find((s) => s.name === pool.service);
    if (!svc || svc.networkMode !== undefined) continue; // an unknown service is the check's; host networking needs no entry
    for (const k of networkKeys(svc)) keys.add(k);
  }
  return [...keys].sort().map((key): StackNetwork => {
    const r = project.networks[key];
    const raw = r?.raw ?? {};
    const named = typeof raw.name === 'string' ? raw.name : undefined;
    const external = r?.external ?? false;
    const net: StackNetwork = {
      key,
      name: named ?? (external ? key : `${project.name}_${key}`),
      external,
      internal: raw.internal === true,
    };
    if (r?.driver !== undefined) net.driver = r.driver;
    return net;
  });
}

const BEGIN = (stack: string) => `# BEGIN ferry ${stack} (written by Ferry; edits here are replaced)`;
const END = (stack: string) => `# END ferry ${stack}`;

/** The stack's block of `pg_hba.conf`: one line per pair and subnet ('' when there is none). */
export function hbaBlock(stack: string, pairs: HbaPair[], subnets: string[]): string {
  if (subnets.length === 0) return '';
  const lines = pairs.flatMap((p) => subnets.map((s) => `host    ${p.database}    ${p.user}    ${s}    scram-sha-256`));
  return [BEGIN(stack), ...lines, END(stack)].join('\n');
}

/** The stack's block in `text` as it stands ('' when there is none). */
export function blockIn(text: string, stack: string): string {
  const lines = text.split('\n');
  const from = lines.indexOf(BEGIN(stack));
  const to = lines.indexOf(END(stack), from);
  return from < 0 || to < 0 ? '' : lines.slice(from, to + 1).join('\n');
}

/** `text` with the stack's block replaced by `block` (appended when new; removed when `block` is ''). */
export function withBlock(text: string, stack: string, block: string): string {
  const old = blockIn(text, stack);
  if (old !== '') {
    const replaced = text.replace(old, block);
    return block === '' ? replaced.replace(/\n{3,}/g, '\n\n') : replaced;
  }
  if (block === '') return text;
  const body = text.endsWith('\n') || text === '' ? text : `${text}\n`;
  return `${body}\n${block}\n`;
}

/** `listen_addresses` with `address` in it, or undefined when Postgres already listens there. */
export function listenWith(current: string, address: string): string | undefined {
  const parts = current
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.some((p) => p === '*' || p === '0.0.0.0' || p === address)) return undefined;
  return [...parts, address].join(',');
}

/** ufw's rules for the stack to reach the port (when ufw is installed: it keeps them while inactive): Docker's address pools, or the stack's server. */
export const hostPostgresAllows = (a: Pick<HostPostgresAccess, 'stack' | 'postgres' | 'remote'>): FirewallAllow[] =>
  (a.remote ? [a.remote.from] : DOCKER_POOLS).map((from) => ({
    port: String(a.postgres.port),
    proto: 'tcp' as const,
    from: [from],
    why: `${a.stack}/host-postgres`,
  }));

/** psql as the cluster's superuser, by peer authentication; each SQL its own `-c`, tuples only. */
export function psqlAsSuperuser(pg: HostPostgresDef, sql: string[]): Command {
  return script(
    'su="$1"; port="$2"; shift 2; cd / && exec runuser -u "$su" -- psql -p "$port" -d postgres -XAtq -v ON_ERROR_STOP=1 "$@"',
    pg.superuser,
    String(pg.port),
    ...sql.flatMap((s) => ['-c', s]),
  );
}

/** The clusters on the server: `VERSION CLUSTER PORT STATUS OWNER DATA LOG` per line. */
export const clustersCommand = (): Command => cmd('pg_lsclusters', '--no-header');

export interface Cluster {
  version: number;
  name: string;
  port: number;
  online: boolean;
}

export function parseClusters(text: string): Cluster[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((w) => w.length >= 4 && /^\d+$/.test(w[0]!))
    .map((w) => ({ version: Number(w[0]), name: w[1]!, port: Number(w[2]), online: w[3] === 'online' }));
}

/** How long Postgres may take to accept connections after a restart. */
const READY_SECONDS = 30;

/** pg_isready on the port, for at most READY_SECONDS. */
export const waitReadyCommand = (port: number): Command =>
  script(
    'for i in $(seq 1 "$2"); do pg_isready -q -p "$1" && exit 0; sleep 1; done; echo "could not connect to server: not ready after $2 s" >&2; exit 1',
    String(port),
    String(READY_SECONDS),
  );

/** The systemd unit of a Debian cluster. */
export const clusterUnit = (c: Cluster): string => `postgresql@${c.version}-${c.name}.service`;

/** A drop-in that starts the clusters after Docker, whose bridge address they listen on. */
export const AFTER_DOCKER_PATH = '/etc/systemd/system/postgresql@.service.d/ferry-after-docker.conf';
export const AFTER_DOCKER_TEXT =
  "# Written by Ferry: Postgres listens on the address of Docker's bridge, which exists once Docker runs.\n[Unit]\nAfter=docker.service\n";
