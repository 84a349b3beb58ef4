/**
 * `environment:` as a list (`KEY=VALUE`, or a bare `KEY` = declared without a value) or a
 * mapping (string, number, boolean or null values), as compose-go's `MappingWithEquals`
 * reads it: the list splits at the first `=`, scalars print as Go's `fmt.Sprint` would,
 * null stays null, and a later list entry for the same key wins.
 * Messages never print a value: environment values are where secrets live.
 */
import { isMap, put, scalarString, schemaError, shape, type Ctx } from './common.js';

const HINT =
  'Write environment as a mapping (KEY: value) or a list of "KEY=value" strings; values are strings, numbers, booleans or empty.';

function fromList(list: unknown[], ctx: Ctx): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  list.forEach((entry, i) => {
    if (typeof entry !== 'string') {
      schemaError(ctx, ['environment', i], `environment entry is ${shape(entry)}, not a "KEY=value" string`, HINT);
      return;
    }
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (key === '') {
      schemaError(ctx, ['environment', i], 'environment entry has no variable name before "="', HINT);
      return;
    }
    put(out, key, eq < 0 ? null : entry.slice(eq + 1));
  });
  return out;
}

function fromMap(map: Record<string, unknown>, ctx: Ctx): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [key, v] of Object.entries(map)) {
    if (v === null || v === undefined) {
      put(out, key, null);
      continue;
    }
    const s = scalarString(v);
    if (s === undefined)
      schemaError(
        ctx,
        ['environment', key],
        `environment variable ${key} is ${shape(v)}, not a string, number, boolean or empty`,
        HINT,
      );
    else put(out, key, s);
  }
  return out;
}

/** The variables `environment` declares, in order; null = declared without a value. */
export function normalizeEnvironment(raw: unknown, ctx: Ctx): Record<string, string | null> {
  if (raw === undefined || raw === null) return {};
  if (Array.isArray(raw)) return fromList(raw, ctx);
  if (isMap(raw)) return fromMap(raw, ctx);
  schemaError(ctx, ['environment'], `environment is ${shape(raw)}, not a mapping or a list`, HINT);
  return {};
}

/**
 * The resolved environment: env_file values overridden by `environment`, a bare `KEY`
 * included (compose-go `Project.WithServicesEnvironmentResolved`: `OverrideBy` copies nil too).
 */
export function mergeEnvironment(
  envFileValues: Record<string, string>,
  inline: Record<string, string | null>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of [...Object.entries(envFileValues), ...Object.entries(inline)]) put(out, k, v);
  return out;
}
