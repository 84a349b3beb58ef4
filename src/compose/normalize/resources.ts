/**
 * Memory and CPU limits and reservations.
 *
 * Memory sizes follow docker/go-units `RAMInBytes` (compose-go's `types.UnitBytes` calls it):
 * `^(\d+(\.\d+)*) ?([kmgtp])?i?b?$`, case-insensitive, units are powers of 1024 and the
 * result is truncated to whole bytes; numbers are taken as bytes. CPUs follow compose-go's
 * `types.NanoCPUs`: a number, or a string `strconv.ParseFloat` accepts.
 *
 * `deploy.resources` and the older `mem_limit`, `mem_reservation` and `cpus` keys: when
 * `deploy.resources.limits` (or `.reservations`) exists next to the older key, compose-go's
 * `checkConsistency` (loader/validate.go) refuses the project unless both values are equal,
 * and an unset deploy value counts as 0, hence different. When the project does load,
 * docker compose (`getDeployResources` in pkg/compose/create.go) starts from the older keys
 * and lets every non-zero `deploy.resources` value override them: deploy wins. A 0 means
 * "no limit" to Docker, so it is reported here as no value.
 */
import type { Resources } from '../../model/compose.js';
import { describe, isMap, schemaError, type Ctx, type Segment } from './common.js';

const SIZE = /^(\d+(\.\d+)*) ?([kmgtp])?i?b?$/i;
const UNIT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };
const FLOAT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const MEMORY_HINT =
  'Write memory as a number of bytes (536870912) or a number with a unit b, k, m, g, t or p (powers of 1024, any case, optional "b"), e.g. "512m" or "1.5g".';
const CPUS_HINT = 'Write CPUs as a non-negative number of cores, e.g. 0.5 or "1.5".';

/** Bytes from a Docker memory size; undefined when Docker would not accept it. */
export function parseMemory(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = SIZE.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  return Math.trunc(m[3] ? n * UNIT[m[3].toLowerCase()]! : n);
}

/** A CPU count from a number or a decimal string; undefined when negative or not a number. */
export function parseCpus(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && FLOAT.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

interface Quantity {
  parse: (v: unknown) => number | undefined;
  what: string;
  hint: string;
}
const MEMORY: Quantity = { parse: parseMemory, what: 'a memory size', hint: MEMORY_HINT };
const CPUS: Quantity = { parse: parseCpus, what: 'a number of CPUs', hint: CPUS_HINT };

/** The parsed value, undefined when absent, null when malformed (after reporting it). */
function read(ctx: Ctx, v: unknown, path: Segment[], q: Quantity): number | undefined | null {
  if (v === undefined || v === null) return undefined;
  const n = q.parse(v);
  if (n !== undefined) return n;
  schemaError(ctx, path, `${path.join('.')} ${describe(v)} is not ${q.what}`, q.hint);
  return null;
}

interface Source {
  legacyKey: string;
  block: 'limits' | 'reservations';
  field: 'memory' | 'cpus';
  q: Quantity;
}

function combine(
  ctx: Ctx,
  raw: Record<string, unknown>,
  resources: Record<string, unknown> | undefined,
  s: Source,
): number | undefined {
  const block = resources && isMap(resources[s.block]) ? (resources[s.block] as Record<string, unknown>) : undefined;
  const deployPath = ['deploy', 'resources', s.block, s.field];
  const legacy = read(ctx, raw[s.legacyKey], [s.legacyKey], s.q);
  const deploy = read(ctx, block?.[s.field], deployPath, s.q);
  if (legacy && block && deploy !== null && (deploy ?? 0) !== legacy) {
    schemaError(
      ctx,
      [s.legacyKey],
      `${s.legacyKey} (${legacy}) and ${deployPath.join('.')} (${deploy ?? 'unset'}) differ`,
      `Compose refuses a service whose ${s.legacyKey} differs from ${deployPath.join('.')}; once deploy.resources.${s.block} exists an unset ${s.field} counts as different. Keep only one of the two.`,
    );
  }
  if (deploy) return deploy;
  return legacy || undefined;
}

/** Limits and reservations of one service; malformed values become findings. */
export function normalizeResources(raw: Record<string, unknown>, ctx: Ctx): Resources {
  const deploy = isMap(raw.deploy) ? raw.deploy : undefined;
  const resources = deploy && isMap(deploy.resources) ? deploy.resources : undefined;
  const out: Resources = {};
  const memoryLimit = combine(ctx, raw, resources, {
    legacyKey: 'mem_limit',
    block: 'limits',
    field: 'memory',
    q: MEMORY,
  });
  const memoryReservation = combine(ctx, raw, resources, {
    legacyKey: 'mem_reservation',
    block: 'reservations',
    field: 'memory',
    q: MEMORY,
  });
  const cpuLimit = combine(ctx, raw, resources, { legacyKey: 'cpus', block: 'limits', field: 'cpus', q: CPUS });
  const reservedCpus = resources && isMap(resources.reservations) ? resources.reservations.cpus : undefined;
  const cpuReservation = read(ctx, reservedCpus, ['deploy', 'resources', 'reservations', 'cpus'], CPUS);
  if (memoryLimit !== undefined) out.memoryLimit = memoryLimit;
  if (memoryReservation !== undefined) out.memoryReservation = memoryReservation;
  if (cpuLimit !== undefined) out.cpuLimit = cpuLimit;
  if (cpuReservation) out.cpuReservation = cpuReservation;
  return out;
}
