/**
 * Helpers on the plain data of the fleet file (what `toPlain` made of the YAML) and on
 * positions in it, shared by the loader and its findings.
 */
import type { Where } from '../core/finding.js';
import { locate, type KeyPath, type SourceFile } from '../yaml/source.js';

/** Where a key path is in the fleet file, as a finding shows it. */
export function at(file: SourceFile, path: KeyPath): Where {
  const { exact: _exact, ...where } = locate(file, path);
  return where;
}

/** A mapping of the YAML (not a list, not a tagged value). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

export function hasOwn(obj: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/** The value at a key path, or undefined when the path does not lead anywhere. */
export function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (Array.isArray(v) && typeof seg === 'number') v = v[seg];
    else if (isRecord(v) && hasOwn(v, String(seg))) v = v[String(seg)];
    else return undefined;
  }
  return v;
}

/**
 * A value as a message names it: a short string quoted, else its kind. A long string is
 * not cut: a cut leaves a prefix the redactor cannot recognize as a secret's.
 */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return v.length > 60 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (isRecord(v)) return Object.keys(v).length === 0 ? 'an empty mapping' : 'a mapping';
  return 'a tagged value';
}
