/**
 * A parsed YAML document as plain JS: merge keys and aliases expanded, Compose's
 * `!reset`/`!override` tags kept as markers. What Compose refuses is refused here too,
 * each with its position: an alias to an anchor that does not exist (a misspelt
 * `<<: *hetzer` would otherwise drop every key it was meant to bring), an alias inside
 * the value it names, a merge key whose value is not a mapping. Aliases that expand past
 * a budget ("billion laughs") and values nested past a depth stop the conversion.
 */
import { isAlias, isMap, isScalar, isSeq, type Alias, type Node, type Pair, type YAMLMap } from 'yaml';
import { finding, type Finding } from '../core/finding.js';
import { suggest } from '../core/suggest.js';
import { anchors, isMergePair, resolveAlias } from './aliases.js';
import type { SourceFile } from './source.js';

/** Most values one file may expand to through aliases: far beyond any real file, far below an alias bomb. */
export const MAX_EXPANDED_VALUES = 1_000_000;
/** Deepest nesting of values (aliases included): far beyond any real file, far below the stack's limit. */
export const MAX_DEPTH = 200;

/** Marks `!reset` in compose files: the key is removed from the merged result. */
export class ResetTag {
  readonly kind = 'reset';
}
/** Marks `!override` in compose files: the value replaces, rather than merges with, the base. */
export class OverrideTag {
  readonly kind = 'override';
  constructor(readonly value: unknown) {}
}

export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export interface PlainResult {
  data: Record<string, unknown>;
  /** What Compose would refuse; `data` is then not to be used. */
  findings: Finding[];
}

/** Stops the conversion: the finding says why. */
class Stop extends Error {
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

/** The document as plain JS. Never throws. */
export function toPlain(file: SourceFile): PlainResult {
  const conv = new Converter(file);
  try {
    const v = conv.value(file.doc.contents as Node | null, 0);
    return { data: (v ?? {}) as Record<string, unknown>, findings: conv.findings };
  } catch (e) {
    if (e instanceof Stop) return { data: {}, findings: [e.finding] };
    throw e;
  }
}

class Converter {
  readonly findings: Finding[] = [];
  private left = MAX_EXPANDED_VALUES;
  private readonly inside = new Set<Node>();

  constructor(private readonly file: SourceFile) {}

  private at(node: Node | null | undefined): Finding['where'] {
    const pos = this.file.lines.linePos(node?.range?.[0] ?? 0);
    return { file: this.file.display, line: pos.line, column: pos.col };
  }

  private problem(node: Node, message: string, hint: string): void {
    this.findings.push(finding('yaml-syntax', 'error', message, this.at(node), hint));
  }

  value(node: Node | null | undefined, depth: number): unknown {
    if (--this.left < 0)
      throw new Stop(
        finding(
          'yaml-syntax',
          'error',
          `${this.file.display}: aliases expand to more than ${MAX_EXPANDED_VALUES} values`,
          { file: this.file.display },
          'Aliases that refer to aliases multiply; this file looks like an alias bomb. Write the repeated values out, or reduce the nesting.',
        ),
      );
    if (depth > MAX_DEPTH)
      throw new Stop(
        finding(
          'yaml-syntax',
          'error',
          `values nested more than ${MAX_DEPTH} levels deep (aliases included)`,
          this.at(node),
          'No compose or fleet file nests this deep; look for an alias that brings in a value containing aliases, over and over.',
        ),
      );
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.alias(node, depth);
    let value: unknown;
    if (isScalar(node)) value = node.value;
    else if (isSeq(node)) value = node.items.map((it) => this.value(it as Node, depth + 1));
    else if (isMap(node)) value = this.map(node, depth);
    else value = null;
    if (node.tag === '!reset') return new ResetTag();
    if (node.tag === '!override') return new OverrideTag(value);
    return value;
  }

  private alias(node: Alias, depth: number): unknown {
    const target = resolveAlias(this.file.doc, node);
    if (!target) {
      this.unknownAnchor(node);
      return null;
    }
    if (this.inside.has(target)) {
      this.problem(
        node,
        `alias *${node.source} is inside the value anchored &${node.source}: it would contain itself`,
        'An alias can only repeat a value defined before it, not the value it is part of.',
      );
      return null;
    }
    this.inside.add(target);
    const v = this.value(target, depth + 1);
    this.inside.delete(target);
    return v;
  }

  private unknownAnchor(node: Alias): void {
    const all = anchors(this.file.doc);
    const later = all.get(node.source)?.[0];
    if (later) {
      const line = this.file.lines.linePos(later.range?.[0] ?? 0).line;
      this.problem(
        node,
        `alias *${node.source} is used before its anchor &${node.source} (line ${line})`,
        `Move the value anchored &${node.source} above its first use: an alias repeats a value written earlier in the file.`,
      );
      return;
    }
    const guess = suggest(node.source, all.keys());
    this.problem(
      node,
      `alias *${node.source} names no anchor${guess ? `; did you mean *${guess}?` : ''}`,
      guess
        ? `Write *${guess}, or define &${node.source} on the value to repeat.`
        : `Define the anchor (&${node.source}) on the value to repeat, before the alias.${all.size > 0 ? ` Anchors in this file: ${[...all.keys()].join(', ')}.` : ''}`,
    );
  }

  private map(node: YAMLMap, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const merged: Record<string, unknown>[] = [];
    for (const pair of node.items) {
      if (isMergePair(pair)) {
        merged.push(...this.mergeSources(pair, depth));
        continue;
      }
      const key = isScalar(pair.key) ? String(pair.key.value) : String(this.value(pair.key as Node, depth + 1));
      setOwn(out, key, this.value(pair.value as Node, depth + 1));
    }
    // Explicit keys win over merged ones; earlier merge sources win over later ones.
    for (const src of merged)
      for (const [k, v] of Object.entries(src)) if (!Object.prototype.hasOwnProperty.call(out, k)) setOwn(out, k, v);
    return out;
  }

  /** The mappings a merge key brings in; anything else is refused, as Compose refuses it. */
  private mergeSources(pair: Pair, depth: number): Record<string, unknown>[] {
    const valueNode = pair.value as Node | null;
    const before = this.findings.length;
    const v = this.value(valueNode, depth + 1);
    // An alias that names nothing was reported where it is written; its empty value is not reported again.
    const reported = this.findings.length > before;
    const sources = Array.isArray(v) ? v : [v];
    const out: Record<string, unknown>[] = [];
    for (const s of sources) {
      if (s && typeof s === 'object' && !Array.isArray(s) && !(s instanceof ResetTag) && !(s instanceof OverrideTag)) {
        out.push(s as Record<string, unknown>);
      } else if (s !== null || !reported) {
        this.problem(
          valueNode ?? (pair.key as Node),
          `a merge key (<<) takes a mapping or a list of mappings, not ${s === null ? 'an empty value' : Array.isArray(s) ? 'a list of lists' : `a ${typeof s}`}`,
          'Write `<<: *anchor` (or `<<: [*a, *b]`) where each anchor names a mapping.',
        );
      }
    }
    return out;
  }
}
