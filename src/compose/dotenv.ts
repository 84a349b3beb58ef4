/**
 * `.env` and `env_file` files, read as compose-go's `dotenv` parser reads them:
 * - blank lines and lines starting with `#` are skipped; `export ` before a key is ignored;
 * - `KEY=value` or `KEY: value`; a key is letters, digits, `_`, `.`, `-`, `[`, `]`;
 * - a bare value runs to the end of its line, is cut at the first ` #` and trimmed;
 * - a single-quoted value is literal (`\'` stands for a quote);
 * - a double-quoted value may span lines and understands `\n`, `\r`, `\t`, `\"`, `\\`, `\$`,
 *   `\a`, `\b`, `\f`, `\v` and octal `\0nnn`; any other backslash stays as written;
 * - bare and double-quoted values are interpolated like a compose file (`${VAR:-x}`, ...);
 * - a key alone on its line takes its value from the environment, and is left out if unset.
 *
 * Values may be secrets: no problem message ever quotes one.
 */
import { setOwn } from '../yaml/plain.js';
import { interpolate, type Lookup } from './interpolate.js';

export interface DotenvProblem {
  /** 1-based line where the offending entry starts. */
  line: number;
  message: string;
}

export interface DotenvResult {
  /** Every key read, in file order; when `problems` is not empty Compose would refuse the file. */
  values: Record<string, string>;
  problems: DotenvProblem[];
  /** Variables interpolated without a default while unset (Compose warns and uses ""), set nowhere in the file. */
  unset: { line: number; variable: string }[];
  /**
   * Variables used above the line that sets them (`A=${B}` then `B=x`, or each other):
   * Compose reads the file from the top, so the value used is empty, not the one written.
   */
  forward: { line: number; key: string; variable: string; setAt: number }[];
}

/**
 * Parses the text of an env file.
 *
 * Interpolation resolves a variable from `lookup` first (the environment Compose runs with),
 * then from the keys set above it in this file, then from `earlier` (values read from env
 * files listed before this one), which is the precedence compose-go applies. A key alone on
 * its line is looked up in `lookup`, then `earlier`.
 */
export function parseDotenv(text: string, lookup: Lookup, earlier?: Lookup): DotenvResult {
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = lineStarts(src);
  const result: DotenvResult = { values: {}, problems: [], unset: [], forward: [] };
  const values = result.values;
  const setAt = new Map<string, number>();
  const used: { line: number; key: string; variable: string }[] = [];
  const resolve: Lookup = (name) => lookup(name) ?? (Object.hasOwn(values, name) ? values[name] : earlier?.(name));

  let pos = 0;
  for (;;) {
    pos = statementStart(src, pos);
    if (pos < 0) break;
    const line = lineOf(lines, pos);
    const entry = readEntry(src, pos);
    if (entry.kind === 'error') {
      result.problems.push({ line, message: entry.message });
      if (entry.next < 0) break;
      pos = entry.next;
      continue;
    }
    pos = entry.next;
    if (entry.kind === 'inherited') {
      const value = lookup(entry.key) ?? earlier?.(entry.key);
      if (value !== undefined) setOwn(values, entry.key, value);
      continue;
    }
    if (!setAt.has(entry.key)) setAt.set(entry.key, line);
    if (entry.quote === "'") {
      setOwn(values, entry.key, entry.raw);
      continue;
    }
    const r = interpolate(entry.quote === '"' ? expandEscapes(entry.raw) : entry.raw, resolve);
    for (const variable of r.unset) used.push({ line, key: entry.key, variable });
    if (r.problems.length === 0) {
      setOwn(values, entry.key, r.value);
      continue;
    }
    for (const p of r.problems) {
      result.problems.push({
        line,
        message:
          p.kind === 'required'
            ? `${entry.key}: required variable ${p.variable ?? ''} is missing a value`
            : `${entry.key}: invalid interpolation template in the value`,
      });
    }
  }
  for (const u of used) {
    const at = setAt.get(u.variable);
    if (at !== undefined && at >= u.line) result.forward.push({ ...u, setAt: at });
    else result.unset.push({ line: u.line, variable: u.variable });
  }
  return result;
}

/** One entry of the file, or why it cannot be read; `next` is where reading resumes (-1: stop). */
type Entry =
  | { kind: 'error'; message: string; next: number }
  | { kind: 'inherited'; key: string; next: number }
  | { kind: 'value'; key: string; raw: string; quote: '' | "'" | '"'; next: number };

function readEntry(src: string, start: number): Entry {
  const skipLine = nextLine(src, start);
  let pos = start;
  if (src.startsWith('export', pos) && isRegexpSpace(src.charAt(pos + 6))) {
    pos = skipSpace(src, pos + 6);
    if (pos >= src.length) return { kind: 'error', message: 'expected a variable name after "export"', next: -1 };
  }

  const keyStart = pos;
  let sep = -1;
  while (pos < src.length) {
    const ch = String.fromCodePoint(src.codePointAt(pos) ?? 0);
    if (ch === '=' || ch === ':' || ch === '\n') {
      sep = pos;
      break;
    }
    if (!isSpace(ch) && !isKeyChar(ch)) {
      return { kind: 'error', message: `unexpected character ${JSON.stringify(ch)} in variable name`, next: skipLine };
    }
    pos += ch.length;
  }
  // A key running to the end of the file has no separator: it is a key alone on its line.
  const key = trimEndUnicode(src.slice(keyStart, sep < 0 ? src.length : sep));
  if (key.includes(' ')) return { kind: 'error', message: 'a variable name cannot contain a space', next: skipLine };
  if (sep < 0) return { kind: 'inherited', key, next: src.length };
  if (src.charAt(sep) === '\n') return { kind: 'inherited', key, next: sep + 1 };

  const valueStart = skipSpace(src, sep + 1);
  const quote = src.charAt(valueStart);
  if (quote === '"' || quote === "'") return readQuoted(src, key, valueStart, quote);

  const lineEnd = src.indexOf('\n', valueStart);
  let raw = src.slice(valueStart, lineEnd < 0 ? src.length : lineEnd);
  const comment = raw.indexOf(' #');
  if (comment >= 0) raw = raw.slice(0, comment);
  return { kind: 'value', key, raw: trimEndUnicode(raw), quote: '', next: lineEnd < 0 ? src.length : lineEnd + 1 };
}

/**
 * A quoted value opening at `open`. A backslash before the quote character keeps only the
 * quote; before anything else both stay, for `expandEscapes` to read. Reading resumes right
 * after the closing quote, as in compose-go (even on the same line).
 */
function readQuoted(src: string, key: string, open: number, quote: "'" | '"'): Entry {
  let raw = '';
  let escaped = false;
  for (let i = open + 1; i < src.length; i++) {
    const c = src.charAt(i);
    if (escaped) {
      escaped = false;
      raw += c === quote ? c : `\\${c}`;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === quote) {
      return { kind: 'value', key, raw, quote, next: i + 1 };
    } else {
      raw += c;
    }
  }
  // Nothing after an unclosed quote can be trusted to be an entry of its own.
  return { kind: 'error', message: `unterminated quoted value for ${key}`, next: -1 };
}

const escapeSequence = /\\(?:[abcfnrtv$"\\]|0[0-9]{0,3})/g;
const simpleEscapes: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '"': '"',
  '\\': '\\',
};

/**
 * The escapes of a double-quoted value. `\$` becomes `$$`, which interpolation then reads as
 * a literal `$`. `\0` followed by exactly three octal digits (at most 377) is that byte's
 * character; otherwise compose-go leaves it with the `0` dropped.
 */
export function expandEscapes(s: string): string {
  return s.replace(escapeSequence, (match) => {
    const c = match.charAt(1);
    if (c === '$') return '$$';
    if (c !== '0') return simpleEscapes[c] ?? match;
    const digits = match.slice(2);
    if (/^[0-7]{3}$/.test(digits) && parseInt(digits, 8) <= 0o377) return String.fromCharCode(parseInt(digits, 8));
    return `\\${digits}`;
  });
}

// ---------------------------------------------------------------------------
// Scanning helpers.

/** Start of the next entry at or after `pos`, past blank space and comment lines; -1 at the end. */
function statementStart(src: string, pos: number): number {
  let i = pos;
  for (;;) {
    while (i < src.length && isUnicodeSpace(src.charAt(i))) i++;
    if (i >= src.length) return -1;
    if (src.charAt(i) !== '#') return i;
    const nl = src.indexOf('\n', i);
    if (nl < 0) return -1;
    i = nl;
  }
}

function nextLine(src: string, pos: number): number {
  const nl = src.indexOf('\n', pos);
  return nl < 0 ? -1 : nl + 1;
}

/** Skips blanks that do not end a line. */
function skipSpace(src: string, pos: number): number {
  let i = pos;
  while (i < src.length && isSpace(src.charAt(i))) i++;
  return i;
}

/** A blank that does not end a line, as compose-go's dotenv counts them. */
function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\v' || c === '\f' || c === '\r' || c === '\u0085' || c === '\u00a0';
}

/** `\s` of Go regular expressions, which follows `export`. */
function isRegexpSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\f' || c === '\r';
}

/** Go's `unicode.IsSpace`. */
function isUnicodeSpace(c: string): boolean {
  return /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/.test(c);
}

function trimEndUnicode(s: string): string {
  let end = s.length;
  while (end > 0 && isUnicodeSpace(s.charAt(end - 1))) end--;
  return s.slice(0, end);
}

/** Letters and digits of any script, `_`, `.`, `-`, `[` and `]`. */
function isKeyChar(ch: string): boolean {
  return /^[_.\-[\]\p{L}\p{N}]$/u.test(ch);
}

function lineStarts(src: string): number[] {
  const starts = [0];
  for (let i = src.indexOf('\n'); i >= 0; i = src.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line of offset `pos`. */
function lineOf(starts: number[], pos: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= pos) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}
