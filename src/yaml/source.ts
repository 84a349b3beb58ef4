/**
 * YAML files with their source positions. Every value Ferry reads from a file can be
 * traced back to `file:line:column` through `locate`, following aliases and merge keys.
 */
import { readFileSync } from 'node:fs';
import {
  LineCounter,
  parseDocument,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
  visit,
  type Alias,
} from 'yaml';
import { InputError } from '../core/errors.js';
import { finding, type Finding, type Where } from '../core/finding.js';

export interface SourceFile {
  /** Path as shown to users (relative to where Ferry was run when possible). */
  display: string;
  /** Absolute path. */
  path: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export type KeyPath = readonly (string | number)[];

/** Marks `!reset` in compose files: the key is removed from the merged result. */
export class ResetTag {
  readonly kind = 'reset';
}
/** Marks `!override` in compose files: the value replaces, rather than merges with, the base. */
export class OverrideTag {
  readonly kind = 'override';
  constructor(readonly value: unknown) {}
}

export function pathString(path: KeyPath): string {
  return path.join('/');
}

/** Reads and parses a YAML file. Never throws: problems come back as findings. */
export function readYamlFile(absPath: string, display: string): { file?: SourceFile; findings: Finding[] } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(absPath);
  } catch (e) {
    return { findings: [fileReadFinding(e, display)] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    return {
      findings: [
        finding(
          'yaml-syntax',
          'error',
          `${display} is not valid UTF-8 text (first bad byte at offset ${at})`,
          { file: display, ...offsetToLineCol(bytes, at) },
          'Save the file as UTF-8; Compose and Ferry read only UTF-8.',
        ),
      ],
    };
  }
  return parseYamlText(text, absPath, display);
}

export function parseYamlText(
  text: string,
  absPath: string,
  display: string,
): { file?: SourceFile; findings: Finding[] } {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.split('\n').every((line) => /^\s*(#.*)?$/.test(line))) {
    return {
      findings: [
        finding(
          'yaml-syntax',
          'error',
          `${display} is empty`,
          { file: display },
          'Write at least a top-level mapping into the file, or remove it from the list of files.',
        ),
      ],
    };
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  const findings: Finding[] = [];
  for (const err of doc.errors) {
    const pos = lines.linePos(err.pos[0]);
    const duplicate = err.code === 'DUPLICATE_KEY';
    findings.push(
      finding(
        'yaml-syntax',
        'error',
        duplicate ? `duplicate key "${keyAt(text, err.pos[0])}" in a mapping` : firstLine(err.message),
        { file: display, line: pos.line, column: pos.col },
        duplicate
          ? 'Each key may appear once in a mapping; remove or rename the repeated key.'
          : 'Fix the YAML syntax at this position (indentation, quotes, colons).',
      ),
    );
  }
  if (findings.length > 0) return { findings };
  if (doc.contents !== null && !isMap(doc.contents)) {
    const pos = lines.linePos(doc.contents.range?.[0] ?? 0);
    return {
      findings: [
        finding(
          'yaml-syntax',
          'error',
          `${display} must hold a mapping at the top level`,
          { file: display, line: pos.line, column: pos.col },
          'Start the file with keys such as `services:`.',
        ),
      ],
    };
  }
  return { file: { display, path: absPath, text, doc, lines }, findings };
}

/** The key written at `offset` (for messages about it). */
function keyAt(text: string, offset: number): string {
  const m = /^\s*["']?([^"':\n]*)/.exec(text.slice(offset, offset + 200));
  return (m?.[1] ?? '').trim();
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

function fileReadFinding(e: unknown, display: string): Finding {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return finding(
      'missing-file',
      'error',
      `file not found: ${display}`,
      { file: display },
      'Check the path; relative paths are resolved from the file that names them.',
    );
  if (code === 'EISDIR')
    return finding(
      'missing-file',
      'error',
      `${display} is a directory, not a file`,
      { file: display },
      'Name the YAML file inside it.',
    );
  if (code === 'EACCES' || code === 'EPERM')
    return finding(
      'missing-file',
      'error',
      `cannot read ${display}: permission denied`,
      { file: display },
      'Make the file readable by the user running Ferry.',
    );
  return finding(
    'missing-file',
    'error',
    `cannot read ${display}: ${code ?? String(e)}`,
    { file: display },
    'Check that the file exists and is readable.',
  );
}

function firstInvalidUtf8(bytes: Buffer): number {
  const dec = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  // binary search for the shortest prefix that fails to decode
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    try {
      dec.decode(bytes.subarray(0, mid), { stream: true });
      dec.decode();
      lo = mid;
    } catch {
      hi = mid;
    }
  }
  return lo;
}

function offsetToLineCol(bytes: Buffer, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = 0; i < offset && i < bytes.length; i++)
    if (bytes[i] === 0x0a) {
      line++;
      last = i;
    }
  return { line, column: offset - last };
}

// ---------------------------------------------------------------------------
// AST -> plain JS, with merge keys, aliases and Compose's !reset/!override tags.

/** Most values one file may expand to through aliases: far beyond any real file, far below an alias bomb. */
export const MAX_EXPANDED_VALUES = 1_000_000;

class ExpansionBudget extends Error {}

const anchorIndex = new WeakMap<Document.Parsed, Map<string, Node[]>>();

/**
 * The node an alias refers to: the last node with that anchor before the alias. Built
 * from one walk per document; yaml's own `Alias.resolve` walks the document every call.
 */
function resolveAlias(doc: Document.Parsed, alias: Alias): Node | undefined {
  let index = anchorIndex.get(doc);
  if (!index) {
    const built = new Map<string, Node[]>();
    visit(doc, {
      Node(_key, node) {
        if (node.anchor) built.set(node.anchor, [...(built.get(node.anchor) ?? []), node]);
      },
    });
    anchorIndex.set(doc, built);
    index = built;
  }
  const at = alias.range?.[0] ?? Infinity;
  const candidates = index.get(alias.source) ?? [];
  let found: Node | undefined;
  for (const n of candidates) if ((n.range?.[0] ?? 0) < at) found = n;
  return found;
}

/**
 * The document as plain JS, merge keys and aliases expanded. Throws `InputError` (code
 * `yaml-syntax`) when aliases expand past `MAX_EXPANDED_VALUES` ("billion laughs").
 */
export function toPlain(file: SourceFile): Record<string, unknown> {
  const budget = { left: MAX_EXPANDED_VALUES };
  try {
    const v = nodeToJs(file.doc, file.doc.contents as Node | null, new Set(), budget);
    return (v ?? {}) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof ExpansionBudget)) throw e;
    throw new InputError([
      finding(
        'yaml-syntax',
        'error',
        `${file.display}: aliases expand to more than ${MAX_EXPANDED_VALUES} values`,
        { file: file.display },
        'Aliases that refer to aliases multiply; this file looks like an alias bomb. Write the repeated values out, or reduce the nesting.',
      ),
    ]);
  }
}

function isMergePair(pair: Pair): boolean {
  const k = pair.key;
  if (!isScalar(k)) return false;
  return (k.value === '<<' || String(k.value) === 'Symbol(<<)' || typeof k.value === 'symbol') && k.type === 'PLAIN';
}

function nodeToJs(
  doc: Document.Parsed,
  node: Node | null | undefined,
  seen: Set<Node>,
  budget: { left: number },
): unknown {
  if (--budget.left < 0) throw new ExpansionBudget();
  if (node === null || node === undefined) return null;
  if (isAlias(node)) {
    const target = resolveAlias(doc, node);
    if (!target || seen.has(target)) return null;
    seen.add(target);
    const v = nodeToJs(doc, target, seen, budget);
    seen.delete(target);
    return v;
  }
  let value: unknown;
  if (isScalar(node)) value = node.value;
  else if (isSeq(node)) value = node.items.map((it) => nodeToJs(doc, it as Node, seen, budget));
  else if (isMap(node)) value = mapToJs(doc, node, seen, budget);
  else value = null;
  if (node.tag === '!reset') return new ResetTag();
  if (node.tag === '!override') return new OverrideTag(value);
  return value;
}

function mapToJs(
  doc: Document.Parsed,
  node: YAMLMap,
  seen: Set<Node>,
  budget: { left: number },
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const merged: Record<string, unknown>[] = [];
  for (const pair of node.items) {
    if (isMergePair(pair)) {
      const v = nodeToJs(doc, pair.value as Node, seen, budget);
      const sources = Array.isArray(v) ? v : [v];
      for (const s of sources)
        if (s && typeof s === 'object' && !Array.isArray(s)) merged.push(s as Record<string, unknown>);
      continue;
    }
    const key = isScalar(pair.key) ? String(pair.key.value) : String(nodeToJs(doc, pair.key as Node, seen, budget));
    setOwn(out, key, nodeToJs(doc, pair.value as Node, seen, budget));
  }
  // Explicit keys win over merged ones; earlier merge sources win over later ones.
  for (const src of merged)
    for (const [k, v] of Object.entries(src)) if (!Object.prototype.hasOwnProperty.call(out, k)) setOwn(out, k, v);
  return out;
}

export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------------------
// Key path -> position.

/**
 * The position of `path` in the file, or of its nearest ancestor that exists.
 * `exact` tells whether the whole path was found.
 */
export function locate(file: SourceFile, path: KeyPath): Where & { exact: boolean } {
  let node: Node | null | undefined = file.doc.contents as Node | null;
  let pos = 0;
  let found = 0;
  for (const seg of path) {
    node = deref(file.doc, node);
    const step = child(file.doc, node, seg);
    if (!step) break;
    node = step.value;
    pos = step.at ?? pos;
    found++;
  }
  const lc = file.lines.linePos(pos);
  return { file: file.display, line: lc.line, column: lc.col, path: pathString(path), exact: found === path.length };
}

function deref(doc: Document.Parsed, node: Node | null | undefined): Node | null | undefined {
  let n = node;
  let guard = 0;
  while (n && isAlias(n) && guard++ < 100) n = resolveAlias(doc, n);
  return n;
}

function child(
  doc: Document.Parsed,
  node: Node | null | undefined,
  seg: string | number,
): { value: Node | null; at?: number } | undefined {
  if (!node) return undefined;
  if (isSeq(node)) {
    const i = typeof seg === 'number' ? seg : /^\d+$/.test(seg) ? Number(seg) : NaN;
    // A list-or-map field written as a list (`- KEY=value`) is looked up by its key.
    const item = Number.isInteger(i)
      ? (node.items[i] as Node | undefined)
      : (node.items.find(
          (it) => isScalar(it) && (String(it.value) === seg || String(it.value).startsWith(`${seg}=`)),
        ) as Node | undefined);
    if (!item) return undefined;
    return { value: item, at: item.range?.[0] };
  }
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isMergePair(pair)) continue;
      if (isScalar(pair.key) && String(pair.key.value) === String(seg)) {
        return { value: (pair.value as Node | null) ?? null, at: (pair.key as Node).range?.[0] };
      }
    }
    for (const pair of node.items) {
      if (!isMergePair(pair)) continue;
      const v = deref(doc, pair.value as Node);
      const sources: (Node | null | undefined)[] = isSeq(v) ? v.items.map((x) => deref(doc, x as Node)) : [v];
      for (const s of sources) {
        const hit = child(doc, s, seg);
        if (hit) return hit;
      }
    }
  }
  return undefined;
}
