/**
 * `connection-budget`: per Postgres (a service, or `server:NAME` for one installed on a
 * host), the connections every declared pool may open (pool × processes × replicas)
 * against max_connections minus a headroom:
 *
 *   headroom = superuser_reserved_connections + ceil(10 % × max_connections)
 *
 * kept free for admin sessions, migrations and backups. A pool to a Postgres service kept in
 * its server's installed Postgres (`server_postgres`) counts against that one. With
 * monitoring, a Postgres on a host also counts its exporter's connections. Pools whose `to`
 * or `service` names nothing are `unknown-reference`.
 */
import { finding, type Finding, type Where } from '../../core/finding.js';
import type { ConnectionPool } from '../../model/fleet.js';
import type { LoadedFleet } from '../../model/loaded.js';
import type { CheckContext } from '../context.js';
import { ids, loadedStacks, locSvc, plural, serviceNamed, type StackView } from '../common.js';
import { DEFAULT_SUPERUSER_RESERVED, postgresSettings, type PostgresSettings } from '../postgres-settings.js';
import { MONITOR_CONNECTIONS, MONITOR_ROLE } from '../../monitoring/host-postgres.js';

export const ADMIN_FRACTION = 0.1;

/** The connections a pool may open: pool × processes × replicas (its own count, else the service's). */
export const poolConnections = (pool: ConnectionPool, serviceReplicas: number): number =>
  pool.pool * (pool.processes ?? 1) * (pool.replicas ?? serviceReplicas);

export function headroom(max: number, superuserReserved: number): number {
  return superuserReserved + Math.ceil(max * ADMIN_FRACTION);
}

interface Target {
  label: string;
  settings: PostgresSettings;
  where: Where;
  extra: Pick<Finding, 'stack' | 'service' | 'server'>;
  demand: number;
  parts: string[];
}

type Resolved = { key: string; target: () => Omit<Target, 'demand' | 'parts'> } | { unknown: string } | 'skip';

function resolve(fleet: LoadedFleet, from: StackView, to: string, ctx: CheckContext): Resolved {
  if (to.startsWith('server:')) {
    const name = to.slice('server:'.length);
    const srv = fleet.fleet.servers[name];
    if (!srv) return { unknown: `there is no server ${name} in the fleet` };
    const pg = srv.postgres;
    if (!pg) return { unknown: `server ${name} declares no postgres` };
    const settings = {
      maxConnections: pg.maxConnections,
      superuserReserved: DEFAULT_SUPERUSER_RESERVED,
      source: 'the fleet file',
    };
    return {
      key: to,
      target: () => ({
        label: `Postgres on server ${name}`,
        settings,
        where: fleet.fleet.locate(['servers', name, 'postgres']),
        extra: { server: name },
      }),
    };
  }
  const [stackName, svcName] = to.includes('/') ? to.split('/', 2) : [from.name, to];
  const loaded = fleet.stacks.find((s) => s.def.name === stackName);
  if (!loaded) return { unknown: `there is no stack ${stackName}` };
  // A service kept in the Postgres installed on its stack's server: that Postgres takes the pools.
  if (loaded.def.serverPostgres?.includes(svcName!) && loaded.def.server)
    return resolve(fleet, from, `server:${loaded.def.server}`, ctx);
  const st = loadedStacks(fleet).find((s) => s.name === stackName);
  if (!st) return 'skip';
  const svc = serviceNamed(st.project, svcName!);
  if (!svc) return { unknown: `stack ${st.name} has no service ${svcName}` };
  return {
    key: `${st.name}/${svc.name}`,
    target: () => ({
      label: `Postgres ${st.name}/${svc.name}`,
      settings: postgresSettings(svc, ctx),
      where: locSvc(st, svc.name),
      extra: ids(st, svc.name),
    }),
  };
}

function unknownRef(
  fleet: LoadedFleet,
  st: StackView,
  pool: ConnectionPool,
  field: 'to' | 'service',
  why: string,
): Finding {
  return finding(
    'unknown-reference',
    'error',
    `stack ${st.name}: connections[${pool.index}].${field} "${field === 'to' ? pool.to : pool.service}" names nothing: ${why}`,
    fleet.fleet.locate(['stacks', st.name, 'connections', pool.index, field]),
    field === 'to'
      ? '`to` is STACK/SERVICE of a Postgres service, SERVICE in the same stack, or server:NAME of a server with `postgres:`.'
      : '`service` names the service of this stack that opens the pool.',
    ids(st),
  );
}

function budgetFinding(t: Target): Finding {
  const { maxConnections: max, superuserReserved: reserved, source } = t.settings;
  const free = headroom(max, reserved);
  const usable = max - free;
  const limits = `max_connections ${max} from ${source}; ${free} kept free: ${reserved} superuser_reserved_connections + 10 %`;
  if (t.demand > usable) {
    return finding(
      'connection-budget',
      'error',
      `${t.label}: connection pools may open ${t.demand} connections (${t.parts.join(', ')}), more than the ${usable} usable (${limits})`,
      t.where,
      'Lower pool sizes, processes or replicas, put a pooler such as PgBouncer in front, or raise max_connections (`-c max_connections=N`; each connection costs memory). Headroom = superuser_reserved_connections + 10 % of max_connections, for admin sessions, migrations and backups.',
      t.extra,
    );
  }
  return finding(
    'connection-budget',
    'info',
    `${t.label}: connection pools may open ${t.demand} of ${usable} usable connections (${t.parts.join(', ')}; ${limits})`,
    t.where,
    'Budget = max_connections − superuser_reserved_connections − 10 % of max_connections; each pool counts pool × processes × replicas.',
    t.extra,
  );
}

export function connectionBudget(fleet: LoadedFleet, ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const targets = new Map<string, Target>();
  for (const st of loadedStacks(fleet)) {
    for (const pool of st.def.connections) {
      const opener = serviceNamed(st.project, pool.service);
      if (!opener) out.push(unknownRef(fleet, st, pool, 'service', `stack ${st.name} has no service ${pool.service}`));
      const r = resolve(fleet, st, pool.to, ctx);
      if (r === 'skip') continue;
      if ('unknown' in r) {
        out.push(unknownRef(fleet, st, pool, 'to', r.unknown));
        continue;
      }
      if (!opener) continue;
      const t = targets.get(r.key) ?? { ...r.target(), demand: 0, parts: [] };
      const replicas = pool.replicas ?? opener.replicas;
      const processes = pool.processes ?? 1;
      const n = poolConnections(pool, opener.replicas);
      t.demand += n;
      t.parts.push(
        `${st.name}/${opener.name}: ${plural(replicas, 'replica')} × ${plural(processes, 'process', 'processes')} × pool ${pool.pool} = ${n}`,
      );
      targets.set(r.key, t);
    }
  }
  // With monitoring, the exporter of a Postgres on a host logs in too (monitoring/host-postgres.ts).
  if (fleet.fleet.monitoring)
    for (const [key, t] of targets)
      if (key.startsWith('server:')) {
        t.demand += MONITOR_CONNECTIONS;
        t.parts.push(`its exporter (${MONITOR_ROLE}): ${MONITOR_CONNECTIONS}`);
      }
  for (const t of targets.values()) out.push(budgetFinding(t));
  return out;
}
