/**
 * A stack reaching the Postgres installed on its own server, outside Docker: its
 * containers connect to `host.docker.internal` (Compose's `host-gateway`, the address of
 * Docker's default bridge on the host), from the addresses of the stack's Docker networks.
 * Ferry writes exactly those networks into `pg_hba.conf`, in a block of its own per stack,
 * and makes Postgres listen on the gateway's address.
 */
import type { FirewallAllow } from '../model/harden.js';
import type { HostPostgresDef, ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { cmd, script, type Command } from '../shell/command.js';
import { DOCKER_POOLS } from './firewall.js';

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
  project: string;
  postgres: HostPostgresDef;
  networks: StackNetwork[];
  pairs: HbaPair[];
}

/** What the stack's connections to `server:THIS` (its own server) need; undefined when none. */
export function hostPostgresAccess(stack: LoadedStack, server: ServerDef): HostPostgresAccess | undefined {
  const project = stack.project;
  const pools = stack.def.connections.filter((c) => c.to === `server:${server.name}`);
  if (!project || !server.postgres || pools.length === 0 || stack.def.server !== server.name) return undefined;
  const keys = new Set<string>();
  for (const pool of pools) {
    const svc = project.services.find((s) => s.name === pool.service);
    if (!svc || svc.networkMode !== undefined) continue; // an unknown service is the check's; host networking needs no entry
    const named = Object.keys(svc.networks);
    for (const k of named.length > 0 ? named : ['default']) keys.add(k);
  }
  const networks = [...keys].sort().map((key): StackNetwork => {
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
  const seen = new Map<string, HbaPair>();
  for (const p of pools) {
    const pair = { database: p.database ?? 'all', user: p.user ?? 'all' };
    seen.set(`${pair.database} ${pair.user}`, pair);
  }
  return {
    stack: stack.def.name,
    project: project.name,
    postgres: server.postgres,
    networks,
    pairs: [...seen.values()],
  };
}

const BEGIN = (stack: string) => `# BEGIN ferry ${stack}: its Docker networks (written by Ferry; edits are replaced)`;
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

/** ufw's rules for the stack's containers to reach the port (when ufw is active): Docker's address pools. */
export const hostPostgresAllows = (stack: string, port: number): FirewallAllow[] =>
  DOCKER_POOLS.map((from) => ({
    port: String(port),
    proto: 'tcp' as const,
    from: [from],
    why: `${stack}/host-postgres`,
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
