/**
 * Shared pieces of service normalization: where findings go, how a bad value's shape is
 * named, and the scalar coercions Compose applies after interpolation (a `${VAR}` always
 * yields a string, so numbers and booleans may arrive as strings).
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { finding, type Finding } from '../../core/finding.js';

/** Collects findings for one service. */
export interface Ctx {
  service: string;
  findings: Finding[];
}

export type Segment = string | number;

/** Records a `schema` error at `services/<service>/<path...>`. */
export function schemaError(ctx: Ctx, path: readonly Segment[], message: string, hint: string): void {
  const where = { path: ['services', ctx.service, ...path].join('/') };
  ctx.findings.push(finding('schema', 'error', message, where, hint, { service: ctx.service }));
}

export function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Sets an own property, safe for keys like `__proto__`. */
export function put<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The shape of a value, for messages that must not print the value itself. */
export function shape(v: unknown): string {
  if (v === null || v === undefined) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return v === '' ? 'an empty string' : 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a fractional number';
  return `a ${typeof v}`;
}

/** A value quoted for a message (only for values that are never secret). */
export function quote(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** A non-negative integer from a number or a decimal string, like Go's `strconv.Atoi`. */
export function asInt(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v === 'string' && /^\+?\d+$/.test(v)) return Number(v);
  return undefined;
}

/** A scalar quoted, anything else by its shape: for values that are never secret. */
export function describe(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? quote(v) : shape(v);
}

/** YAML 1.1 booleans, as compose-go casts interpolated strings (`loader/interpolate.go` toBoolean). */
export function asBool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.toLowerCase();
  if (['y', 'yes', 'true', 'on'].includes(s)) return true;
  if (['n', 'no', 'false', 'off'].includes(s)) return false;
  return undefined;
}

/** A scalar as Compose prints it into a string (`fmt.Sprint`); undefined for lists and mappings. */
export function scalarString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return undefined;
}

/** A string, or a list of strings; undefined when the value is neither. */
export function stringOrList(v: unknown): string[] | undefined {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

/** The home directory `~` expands to. */
export function home(): string {
  return process.env.HOME ?? homedir();
}

/**
 * A host path resolved as compose-go's `absPath` does (`loader/paths.go`): a leading `~`
 * is the home directory, absolute paths stay, anything else joins the working directory.
 */
export function resolveHostPath(workingDir: string, p: string): string {
  if (p.startsWith('~')) return join(home(), p.slice(1));
  if (isAbsolute(p)) return p;
  return join(workingDir, p);
}
