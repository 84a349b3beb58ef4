/**
 * The Postgres on a server tuned from the server's size (`servers.NAME.postgres.tune`):
 * each setting that differs is written with `ALTER SYSTEM` (postgresql.auto.conf), then
 * the cluster is reloaded, or restarted when one of them takes effect only so
 * (shared_buffers, max_connections): the plan says which. Rollback writes back the values
 * it found, the same way.
 */
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { parseMeminfo } from '../../inventory/live/probes/system.js';
import type { HostPostgresDef, ServerDef } from '../../model/fleet.js';
import { cmd, render } from '../../shell/command.js';
import { runTool } from '../../tools/run.js';
import { clusterUnit, psqlAsSuperuser, waitReadyCommand, type Cluster } from '../host-postgres.js';
import {
  parseTuned,
  sqlValue,
  TUNED,
  TUNED_QUERY,
  tuning,
  tuningChanges,
  type Tuned,
  type Tuning,
} from '../host-postgres-tune.js';
import { findCluster, pgWhere } from './host-postgres-read.js';

export interface TuneSeen {
  cluster: Cluster;
  want: Tuning;
  /** The values found, for the settings that change (kB, or a count). */
  before: Partial<Record<Tuned, number>>;
  restart: boolean;
}

export const tuneId = (server: string): string => `postgres/${server}/tune`;

const alter = (values: Partial<Record<Tuned, number>>): string[] =>
  TUNED.filter((n) => values[n] !== undefined).map((n) => `ALTER SYSTEM SET ${n} = '${sqlValue(n, values[n]!)}'`);

export function hostPostgresTuneStep(o: {
  server: ServerDef;
  postgres: HostPostgresDef;
  sudo: boolean;
  dependsOn: string[];
}): Step<TuneSeen> {
  const { server, postgres: pg, sudo } = o;
  const host = server.name;
  const where = pgWhere(host, pg);
  const sql = (ctx: StepContext, what: string, ...q: string[]) =>
    runTool(ctx, 'psql', psqlAsSuperuser(pg, q), { what, sudo });

  async function memoryKb(ctx: StepContext): Promise<number> {
    if (server.memory !== undefined) return Math.floor(server.memory / 1024);
    const text = await runTool(ctx, 'systemctl', cmd('cat', '/proc/meminfo'), { what: 'reading the memory', sudo });
    const mem = parseMeminfo(text);
    if (!mem)
      throw new StepError(
        'unexpected-output',
        `${host}: /proc/meminfo has no MemTotal, so ${where} cannot be tuned from the server's memory`,
        `Give the server its size in ferry.yml (servers.${host}.memory).`,
      );
    return Math.floor(mem.total / 1024);
  }

  async function write(ctx: StepContext, c: Cluster, values: Partial<Record<Tuned, number>>, restart: boolean) {
    await sql(ctx, `setting ${where}'s settings`, ...alter(values));
    if (!restart) {
      await sql(ctx, `reloading ${where}`, 'SELECT pg_reload_conf()');
      return;
    }
    await runTool(ctx, 'systemctl', cmd('systemctl', 'restart', clusterUnit(c)), { what: `restarting ${where}`, sudo });
    await runTool(ctx, 'psql', waitReadyCommand(pg.port), { what: `waiting for ${where} to accept connections`, sudo });
  }

  async function observe(ctx: StepContext) {
    const cluster = await findCluster(ctx, host, pg, sudo);
    const want = tuning(await memoryKb(ctx), pg.maxConnections);
    const now = parseTuned(await sql(ctx, `reading ${where}'s settings`, TUNED_QUERY));
    return { cluster, want, now, changes: tuningChanges(want, now) };
  }

  return {
    id: tuneId(host),
    host,
    phase: 'prepare',
    title: `tune ${where} from the server's size`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Set ${where}'s memory settings from the server's memory (shared_buffers a quarter, effective_cache_size three quarters, maintenance_work_mem a sixteenth up to 2 GB, work_mem what is left shared by 3 × max_connections) and max_connections to ${pg.maxConnections}, with ALTER SYSTEM; reloaded, or restarted when shared_buffers or max_connections change.`,
      commands: [render(psqlAsSuperuser(pg, [TUNED_QUERY])), 'ALTER SYSTEM SET NAME = VALUE (each that differs)'],
      verify: `pg_settings shows every value as set.`,
      undo: 'The values found before are written back the same way (reloaded, or restarted).',
    }),
    async check(ctx) {
      const { cluster, want, now, changes } = await observe(ctx);
      const before: Partial<Record<Tuned, number>> = {};
      for (const c of changes) if (now[c.name]) before[c.name] = now[c.name]!.value;
      const restart = changes.some((c) => c.restart);
      const observed: TuneSeen = { cluster, want, before, restart };
      if (changes.length === 0) return { needed: false, observed };
      const summary = `${changes.map((c) => c.line).join(', ')}${restart ? ' (restarts Postgres)' : ''}`;
      return { needed: true, observed, change: { summary } };
    },
    async apply(ctx, seen) {
      const { now, changes } = await observe(ctx);
      if (changes.length === 0) return;
      const values: Partial<Record<Tuned, number>> = {};
      for (const c of changes) values[c.name] = seen.want[c.name];
      await write(
        ctx,
        seen.cluster,
        values,
        changes.some((c) => now[c.name]?.restart ?? true),
      );
    },
    async verify(ctx, seen) {
      const now = parseTuned(await sql(ctx, `reading ${where}'s settings`, TUNED_QUERY));
      const left = tuningChanges(seen.want, now);
      return left.length === 0
        ? { ok: true }
        : { ok: false, message: `${where}: ${left.map((c) => c.line).join(', ')}` };
    },
    async rollback(ctx, seen) {
      if (Object.keys(seen.before).length === 0) return;
      await write(ctx, seen.cluster, seen.before, seen.restart);
    },
  };
}
