/**
 * `depends_on:` as a list of service names or a mapping of name to
 * `{condition, required, restart}`. Defaults as compose-go's `transform/dependson.go` sets
 * them: condition `service_started`, required true; `restart` is false unless set.
 */
import type { Dependency, DependsCondition } from '../../model/compose.js';
import { asBool, describe, isMap, put, schemaError, shape, type Ctx } from './common.js';

const CONDITIONS: readonly string[] = ['service_started', 'service_healthy', 'service_completed_successfully'];
const HINT =
  'Write depends_on as a list of service names, or a mapping of service name to {condition: service_started | service_healthy | service_completed_successfully, required: true | false, restart: true | false}.';

function flag(
  ctx: Ctx,
  m: Record<string, unknown>,
  name: string,
  key: 'required' | 'restart',
  fallback: boolean,
): boolean {
  if (m[key] === undefined) return fallback;
  const b = asBool(m[key]);
  if (b !== undefined) return b;
  schemaError(ctx, ['depends_on', name, key], `depends_on ${name} ${key} ${describe(m[key])} is not a boolean`, HINT);
  return fallback;
}

function fromEntry(ctx: Ctx, name: string, m: Record<string, unknown>): Dependency {
  let condition: DependsCondition = 'service_started';
  if (typeof m.condition === 'string' && CONDITIONS.includes(m.condition)) condition = m.condition as DependsCondition;
  else if (m.condition !== undefined) {
    schemaError(
      ctx,
      ['depends_on', name, 'condition'],
      `depends_on ${name} condition ${describe(m.condition)} is not one of ${CONDITIONS.join(', ')}`,
      HINT,
    );
  }
  return { condition, required: flag(ctx, m, name, 'required', true), restart: flag(ctx, m, name, 'restart', false) };
}

/** The services this one depends on, by name. */
export function normalizeDependsOn(raw: unknown, ctx: Ctx): Record<string, Dependency> {
  const out: Record<string, Dependency> = {};
  if (raw === undefined || raw === null) return out;
  if (Array.isArray(raw)) {
    raw.forEach((name, i) => {
      if (typeof name === 'string' && name !== '')
        put(out, name, { condition: 'service_started', required: true, restart: false });
      else schemaError(ctx, ['depends_on', i], `depends_on entry is ${shape(name)}, not a service name`, HINT);
    });
    return out;
  }
  if (!isMap(raw)) {
    schemaError(ctx, ['depends_on'], `depends_on is ${shape(raw)}, not a list or a mapping`, HINT);
    return out;
  }
  for (const [name, entry] of Object.entries(raw)) {
    if (isMap(entry)) put(out, name, fromEntry(ctx, name, entry));
    else schemaError(ctx, ['depends_on', name], `depends_on ${name} is ${shape(entry)}, not a mapping`, HINT);
  }
  return out;
}
