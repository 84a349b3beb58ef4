/**
 * YAML files with their source positions. Every value Ferry reads from a file can be
 * traced back to `file:line:column` through `locate`, following aliases and merge keys.
 * Reading refuses what is not a regular file of a sane size, and text nested past what
 * the parser can take; `plain.ts` turns a parsed file into plain data.
 */
import {
  LineCounter,
  parseDocument,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  visit,
  type Document,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
import { INPUT_LIMITS, readInput } from '../core/files.js';
import { finding, type Finding, type Where } from '../core/finding.js';
import { isMergePair, resolveAlias } from './aliases.js';
import { nestingPast } from './depth.js';
import { MAX_DEPTH } from './plain.js';

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

/** What a file is, for the hints of problems at its top level. */
export type YamlKind = 'compose' | 'fleet';

export function pathString(path: KeyPath): string {
  return path.join('/');
}

type Parsed = { file?: SourceFile; findings: Finding[] };

/** Reads and parses a YAML file. Never throws: problems come back as findings. */
export function readYamlFile(absPath: string, display: string, kind: YamlKind = 'compose'): Parsed {
  const read = readInput(absPath, display, INPUT_LIMITS.yaml);
  if (read.problem)
    return {
      findings: [finding(read.problem.code, 'error', read.problem.message, { file: display }, read.problem.hint)],
    };
  const bytes = read.bytes;
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
  return parseYamlText(text, absPath, display, kind);
}

const TOP_LEVEL_HINT: Record<YamlKind, string> = {
  compose: 'Start the file with keys such as `services:`.',
  fleet: 'Start the file with `servers:` and `stacks:` (docs/fleet-file.md).',
};

export function parseYamlText(text: string, absPath: string, display: string, kind: YamlKind = 'compose'): Parsed {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (/^(?:[ \t\r]*(?:#[^\n]*)?(?:\n|$))*$/.test(text)) {
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
  const deep = nestingPast(text, MAX_DEPTH);
  if (deep) {
    const { line, column } = offsetToLineCol(Buffer.from(text.slice(0, deep.offset)), deep.offset);
    return {
      findings: [
        finding(
          'yaml-syntax',
          'error',
          `${display} nests values more than ${MAX_DEPTH} levels deep`,
          { file: display, line, column },
          'No compose or fleet file nests this deep; check the brackets and the indentation here.',
        ),
      ],
    };
  }
  const lines = new LineCounter();
  // Duplicate keys are found below, in one pass: the parser's own check compares every key with every other.
  const doc = parseDocument(text, {
    lineCounter: lines,
    merge: true,
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
  });
  const findings = [
    ...doc.errors.map((err) => syntaxFinding(err, lines, display)),
    ...duplicateKeys(doc, lines, display),
  ];
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
          TOP_LEVEL_HINT[kind],
        ),
      ],
    };
  }
  return { file: { display, path: absPath, text, doc, lines }, findings };
}

function syntaxFinding(
  err: { code: string; message: string; pos: [number, number] },
  lines: LineCounter,
  display: string,
): Finding {
  const pos = lines.linePos(err.pos[0]);
  const where = { file: display, line: pos.line, column: pos.col };
  if (err.code === 'MULTIPLE_DOCS')
    return finding(
      'yaml-syntax',
      'error',
      `${display} holds more than one YAML document (a second one starts here, after \`---\`)`,
      where,
      'Compose reads one document per file: remove the `---` line and what follows, or move it into a file of its own.',
    );
  return finding(
    'yaml-syntax',
    'error',
    firstLine(err.message),
    where,
    'Fix the YAML syntax at this position (indentation, quotes, colons).',
  );
}

/** Keys written twice in one mapping (merge keys aside), at the second one. */
function duplicateKeys(doc: Document.Parsed, lines: LineCounter, display: string): Finding[] {
  const out: Finding[] = [];
  visit(doc, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key) || isMergePair(pair)) continue;
        const k = String(pair.key.value);
        if (!seen.has(k)) {
          seen.add(k);
          continue;
        }
        const pos = lines.linePos(pair.key.range?.[0] ?? 0);
        out.push(
          finding(
            'yaml-syntax',
            'error',
            `duplicate key "${k.length > 60 ? `${k.slice(0, 57)}...` : k}" in a mapping`,
            { file: display, line: pos.line, column: pos.col },
            'Each key may appear once in a mapping; remove or rename the repeated key.',
          ),
        );
      }
    },
  });
  return out;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
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

const keyIndexes = new WeakMap<YAMLMap, Map<string, Pair>>();

/** A mapping's own keys (merge keys aside), built once: lookups in a mapping of 10,000 services stay constant. */
function keyIndex(map: YAMLMap): Map<string, Pair> {
  let index = keyIndexes.get(map);
  if (!index) {
    index = new Map();
    for (const pair of map.items)
      if (isScalar(pair.key) && !isMergePair(pair) && !index.has(String(pair.key.value)))
        index.set(String(pair.key.value), pair);
    keyIndexes.set(map, index);
  }
  return index;
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
    const pair = keyIndex(node).get(String(seg));
    if (pair) return { value: (pair.value as Node | null) ?? null, at: (pair.key as Node).range?.[0] };
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
