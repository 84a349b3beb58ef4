/**
 * Compose variable interpolation: `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?message}`, `${VAR?message}`, `${VAR:+replacement}`, `${VAR+replacement}`,
 * nesting inside the text after an operator, and `$$` for a literal `$`.
 *
 * It reads templates the way compose-go's `template` package does, quirks included, so that
 * Ferry predicts what `docker compose` will make of a file:
 * - `$` followed by anything that does not start a name, `$` or `{` stays a literal `$`.
 * - After `${` must come a name, then either `}` or an operator (`-`, `+`, `?`, optionally
 *   preceded by `:`); anything else (`${`, `${}`, `${ foo}`, `${foo!}`) is an invalid template.
 * - An operator's text runs to the last `}` on the line, then is cut at the brace that closes
 *   the first `{`, counting every `{` as an opening but never looking at the character right
 *   after a `{`; what follows the cut is interpolated as ordinary text.
 * - The text after an operator is interpolated only when it is used.
 * - Names are ASCII letters, digits and `_`, plus `ſ` and `K` (U+212A), which Go's
 *   case-insensitive matching folds onto `s` and `k`.
 */
import { OverrideTag, ResetTag, setOwn } from '../yaml/plain.js';
import type { KeyPath } from '../yaml/source.js';

/** A variable's value: `undefined` when unset, `''` when set but empty. */
export type Lookup = (name: string) => string | undefined;

/** Something that stops Compose from loading a value. */
export interface InterpolationProblem {
  /** `required`: a `${VAR:?}`/`${VAR?}` variable has no value; `invalid`: malformed template. */
  kind: 'required' | 'invalid';
  /** The missing variable (for `required`). */
  variable?: string;
  message: string;
}

export interface InterpolationResult {
  /** The interpolated text; meaningless when `problems` is not empty. */
  value: string;
  problems: InterpolationProblem[];
  /** Variables substituted without a default while unset (Compose warns, then uses ""), first use first, once each. */
  unset: string[];
}

export type TreePath = (string | number)[];

export interface TreeInterpolation {
  /** A new tree; the input is not modified. */
  value: unknown;
  problems: (InterpolationProblem & { path: TreePath })[];
  unset: { variable: string; path: TreePath }[];
}

/** Deepest nesting of `${NAME:-${...}}`: far beyond any real file, far below the stack's limit. */
export const MAX_NESTING = 64;

/** Interpolates one string, collecting every problem in it rather than stopping at the first. */
export function interpolate(template: string, lookup: Lookup): InterpolationResult {
  const acc: Accumulator = { problems: [], unset: [] };
  const value = substitute(template, lookup, acc, 0, 0);
  const problems = acc.invalid ? [invalidProblem(acc.invalid), ...acc.problems] : acc.problems;
  return { value, problems, unset: acc.unset };
}

/**
 * Interpolates every string value (never a key) of a plain tree of objects, arrays and
 * scalars; numbers, booleans and null pass through. `!override` values are walked into,
 * `!reset` markers kept. Problems and unset variables come with the key path where found,
 * `path` prefixed to each.
 */
export function interpolateTree(tree: unknown, lookup: Lookup, path: KeyPath = []): TreeInterpolation {
  const out: TreeInterpolation = { value: undefined, problems: [], unset: [] };
  out.value = walk(tree, lookup, [...path], out);
  return out;
}

function walk(node: unknown, lookup: Lookup, path: TreePath, out: TreeInterpolation): unknown {
  if (typeof node === 'string') {
    const r = interpolate(node, lookup);
    for (const p of r.problems) out.problems.push({ ...p, path: [...path] });
    for (const variable of r.unset) out.unset.push({ variable, path: [...path] });
    return r.value;
  }
  if (node instanceof OverrideTag) return new OverrideTag(walk(node.value, lookup, path, out));
  if (node instanceof ResetTag) return node;
  if (Array.isArray(node)) return node.map((item, i) => walk(item, lookup, [...path, i], out));
  if (isPlainObject(node)) {
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) setOwn(copy, key, walk(value, lookup, [...path, key], out));
    return copy;
  }
  return node;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null) return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

// ---------------------------------------------------------------------------
// The template reader.

/** What one interpolation gathers on its way down nested templates. */
interface Accumulator {
  problems: InterpolationProblem[];
  unset: string[];
  /** The first malformed (sub)template; reported once, for the whole string, by where it is. */
  invalid?: Invalid;
}

/** Where a template is malformed: the offset of its `${` in the whole value, or nesting past the limit. */
type Invalid = { at: number } | { tooDeep: true };

/**
 * Expands `s`, which starts at offset `base` of the whole value, `depth` templates deep.
 * Each `${` is read where it stands and reading goes on after it, so a long line of
 * templates costs one pass, not one call per template.
 */
function substitute(s: string, lookup: Lookup, acc: Accumulator, depth: number, base: number): string {
  if (!s.includes('$')) return s;
  if (depth > MAX_NESTING) {
    acc.invalid ??= { tooDeep: true };
    return '';
  }
  const lines = new LineEnds(s);
  let out = '';
  let i = 0;
  while (i < s.length) {
    const dollar = s.indexOf('$', i);
    if (dollar < 0) return out + s.slice(i);
    out += s.slice(i, dollar);
    const next = s.charAt(dollar + 1);
    if (next === '$') {
      out += '$';
      i = dollar + 2;
    } else if (isNameStart(next)) {
      const end = nameEnd(s, dollar + 1);
      out += plainValue(s.slice(dollar + 1, end), lookup, acc);
      i = end;
    } else if (next === '{') {
      const end = bracedEnd(s, dollar, lines);
      if (end < 0) {
        // Compose drops the `${` and carries on, so later problems are still found.
        acc.invalid ??= { at: base + dollar };
        i = dollar + 2;
      } else {
        // What follows the brace that closes the `${` is read as ordinary text, here.
        const cut = closingBrace(s, dollar, end);
        out += braced(s.slice(dollar, cut + 1), lookup, acc, depth, base + dollar);
        i = cut + 1;
      }
    } else {
      out += '$';
      i = dollar + 1;
    }
  }
  return out;
}

/** The last `}` of each line of a string, found once per line as reading moves down it. */
class LineEnds {
  private end = -1;
  private last = -1;
  constructor(private readonly s: string) {}

  /** The last `}` on the line holding `i` (-1: none). */
  lastBrace(i: number): number {
    if (i > this.end) {
      const nl = this.s.indexOf('\n', i);
      this.end = nl < 0 ? this.s.length : nl;
      this.last = this.s.lastIndexOf('}', this.end);
    }
    return this.last;
  }
}

/**
 * Index of the `}` that ends the `${` at `start`, as compose-go's pattern matches it, or -1
 * when it matches none (an invalid template).
 */
function bracedEnd(s: string, start: number, lines: LineEnds): number {
  let i = start + 2;
  if (!isNameStart(s.charAt(i))) return -1;
  i = nameEnd(s, i);
  if (s.charAt(i) === '}') return i;
  if (s.charAt(i) === ':') i++;
  if (i >= s.length || !'-+?'.includes(s.charAt(i))) return -1;
  const last = lines.lastBrace(i + 1);
  return last > i ? last : -1;
}

/**
 * Index of the brace that closes the first `{` after `from`, looking no further than `to`;
 * `to` when none does. Every `{` opens, and the character after it is skipped, exactly as
 * compose-go counts.
 */
function closingBrace(s: string, from: number, to: number): number {
  let open = 0;
  for (let i = from; i <= to; i++) {
    const c = s.charAt(i);
    if (c === '}') {
      open--;
      if (open === 0) return i;
    } else if (c === '{') {
      open++;
      i++;
    }
  }
  return to;
}

/** Expands one `${...}` (`match` starts at offset `base` of the whole value). */
function braced(match: string, lookup: Lookup, acc: Accumulator, depth: number, base: number): string {
  const expr = match.slice(2, -1);
  const nameLength = nameEnd(expr, 0);
  const name = expr.slice(0, nameLength);
  if (nameLength === expr.length) return plainValue(name, lookup, acc);

  const colon = expr.charAt(nameLength) === ':';
  const op = expr.charAt(nameLength + (colon ? 1 : 0));
  const argAt = nameLength + (colon ? 2 : 1);
  const arg = expr.slice(argAt);
  const inner = (): string => substitute(arg, lookup, acc, depth + 1, base + 2 + argAt);
  const value = lookup(name);
  const usable = value !== undefined && (!colon || value !== '');
  if (op === '-') return usable ? value : inner();
  if (op === '+') return usable ? inner() : (value ?? '');
  if (usable) return value;
  acc.problems.push({ kind: 'required', variable: name, message: requiredMessage(name, inner()) });
  return '';
}

/** A `$VAR` or `${VAR}`: its value, or "" with a note that it is unset. */
function plainValue(name: string, lookup: Lookup, acc: Accumulator): string {
  const value = lookup(name);
  if (value !== undefined) return value;
  if (!acc.unset.includes(name)) acc.unset.push(name);
  return '';
}

/** compose-go's wording, so that users can search for it. */
function requiredMessage(name: string, reason: string): string {
  return reason === ''
    ? `required variable ${name} is missing a value`
    : `required variable ${name} is missing a value: ${reason}`;
}

/** Says where the template is malformed, never what it holds: a value may be a secret. */
function invalidProblem(invalid: Invalid): InterpolationProblem {
  return {
    kind: 'invalid',
    message:
      'at' in invalid
        ? `invalid template: the "\${" at character ${invalid.at + 1} of the value does not start a variable`
        : `invalid template: variables nested more than ${MAX_NESTING} levels deep`,
  };
}

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '\u017f' || c === '\u212a';
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9');
}

/** Index just past the name starting at `start` (== start when there is none). */
function nameEnd(s: string, start: number): number {
  let i = start;
  while (i < s.length && isNameChar(s.charAt(i))) i++;
  return i;
}
