/**
 * Postgres settings from the server's size (`servers.NAME.postgres.tune: true`), as the
 * common rules of thumb for a server that runs Postgres beside other work:
 *
 *   shared_buffers       = memory / 4
 *   effective_cache_size = memory × 3 / 4
 *   maintenance_work_mem = memory / 16, at most 2 GiB
 *   work_mem             = (memory − shared_buffers) / (3 × max_connections), from 4 MiB to 1 GiB
 *   max_connections      = the fleet file's (which the connection-budget check holds the pools to)
 *
 * Sizes are in kB, the unit Postgres reads a bare number of these settings in (`pg_settings`
 * counts shared_buffers and effective_cache_size in 8 kB pages: `settingKb` converts).
 */

const MIB = 1024;
const GIB = 1024 * MIB;

/** The settings Ferry sets, in the order shown. */
export const TUNED = [
  'max_connections',
  'shared_buffers',
  'effective_cache_size',
  'maintenance_work_mem',
  'work_mem',
] as const;
export type Tuned = (typeof TUNED)[number];

/** Desired values: kB for sizes, a count for max_connections. */
export type Tuning = Record<Tuned, number>;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
/** Whole MiB, in kB (Postgres shows sizes rounded so). */
const mib = (kb: number) => Math.floor(kb / MIB) * MIB;

export function tuning(memoryKb: number, maxConnections: number): Tuning {
  const shared = mib(memoryKb / 4);
  return {
    max_connections: maxConnections,
    shared_buffers: shared,
    effective_cache_size: mib((memoryKb * 3) / 4),
    maintenance_work_mem: mib(Math.min(memoryKb / 16, 2 * GIB)),
    work_mem: mib(clamp((memoryKb - shared) / (3 * maxConnections), 4 * MIB, GIB)),
  };
}

/** A value as ALTER SYSTEM takes it: `524288kB`, or a count. */
export const sqlValue = (name: Tuned, v: number): string => (name === 'max_connections' ? String(v) : `${v}kB`);

/** A value as a person reads it. */
export const shown = (name: Tuned, v: number): string =>
  name === 'max_connections'
    ? String(v)
    : v >= GIB && v % GIB === 0
      ? `${v / GIB} GB`
      : v % MIB === 0
        ? `${v / MIB} MB`
        : `${v} kB`;

/** `pg_settings`' setting in its unit, in kB (or as is, without a unit). */
export function settingKb(setting: string, unit: string): number {
  const n = Number(setting);
  const m = /^(\d+)?(kB|MB|GB)$/.exec(unit);
  if (!m) return n;
  const per = { kB: 1, MB: MIB, GB: GIB }[m[2] as 'kB' | 'MB' | 'GB'];
  return n * Number(m[1] ?? 1) * per;
}

/** `pg_settings` rows `name|setting|unit|context` for the tuned settings. */
export const TUNED_QUERY = `SELECT name || '|' || setting || '|' || coalesce(unit, '') || '|' || context FROM pg_settings WHERE name IN (${TUNED.map((t) => `'${t}'`).join(', ')}) ORDER BY name`;

export interface Current {
  value: number;
  /** Takes effect only after a restart (`postmaster`). */
  restart: boolean;
}

export function parseTuned(text: string): Partial<Record<Tuned, Current>> {
  const out: Partial<Record<Tuned, Current>> = {};
  for (const line of text.split('\n')) {
    const [name, setting, unit, context] = line.trim().split('|');
    if (!(TUNED as readonly string[]).includes(name ?? '') || setting === undefined) continue;
    const value = settingKb(setting, unit ?? '');
    if (Number.isFinite(value)) out[name as Tuned] = { value, restart: context === 'postmaster' };
  }
  return out;
}

/** What differs: `name old -> new`, and whether a restart is needed for it. */
export function tuningChanges(
  want: Tuning,
  now: Partial<Record<Tuned, Current>>,
): { name: Tuned; line: string; restart: boolean }[] {
  return TUNED.flatMap((name) => {
    const cur = now[name];
    if (cur && cur.value === want[name]) return [];
    return [
      {
        name,
        line: `${name} ${cur ? shown(name, cur.value) : '?'} -> ${shown(name, want[name])}`,
        restart: cur?.restart ?? true,
      },
    ];
  });
}
