/** Anchors, aliases and merge keys of a parsed YAML document. */
import { isScalar, visit, type Alias, type Document, type Node, type Pair } from 'yaml';

const anchorIndex = new WeakMap<Document.Parsed, Map<string, Node[]>>();

/** Every anchored node by name, in document order, from one walk per document (yaml's `Alias.resolve` walks it per call). */
export function anchors(doc: Document.Parsed): Map<string, Node[]> {
  let index = anchorIndex.get(doc);
  if (!index) {
    const built = new Map<string, Node[]>();
    visit(doc, {
      Node(_key, node) {
        if (!node.anchor) return;
        const list = built.get(node.anchor);
        if (list) list.push(node);
        else built.set(node.anchor, [node]);
      },
    });
    anchorIndex.set(doc, built);
    index = built;
  }
  return index;
}

/** The node an alias refers to: the last node with that anchor before the alias. */
export function resolveAlias(doc: Document.Parsed, alias: Alias): Node | undefined {
  const at = alias.range?.[0] ?? Infinity;
  let found: Node | undefined;
  for (const n of anchors(doc).get(alias.source) ?? []) if ((n.range?.[0] ?? 0) < at) found = n;
  return found;
}

export function isMergePair(pair: Pair): boolean {
  const k = pair.key;
  if (!isScalar(k)) return false;
  return (k.value === '<<' || String(k.value) === 'Symbol(<<)' || typeof k.value === 'symbol') && k.type === 'PLAIN';
}
