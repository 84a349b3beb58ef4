/**
 * Compose's override rules for `-f a.yml -f b.yml` and `extends`, after compose-go's
 * `override` package: mappings merge key by key; sequences append and are then made
 * unique by a per-field key (a later entry replaces an earlier one with the same key);
 * `command`, `entrypoint` and `healthcheck.test` are replaced; list-or-map fields
 * (`environment`, `labels`, ...) merge as mappings; `!reset` removes a value and
 * `!override` replaces it whole.
 */
import { OverrideTag, ResetTag, setOwn } from '../yaml/plain.js';

type Dict = Record<string, unknown>;
type Merger = (base: unknown, over: unknown, path: string[]) => unknown;

const isDict = (v: unknown): v is Dict =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof OverrideTag) && !(v instanceof ResetTag);

/** `KEY=VALUE` lists and mappings both become mappings; `KEY` alone maps to null. */
export function listOrMapToDict(v: unknown, sep = '='): Dict {
  if (isDict(v)) return { ...v };
  const out: Dict = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const i = s.indexOf(sep);
      if (i < 0) setOwn(out, s, null);
      else setOwn(out, s.slice(0, i), s.slice(i + 1));
    }
  }
  return out;
}

const replace: Merger = (_base, over) => over;
const asDicts =
  (sep = '='): Merger =>
  (base, over, path) =>
    mergeDicts(listOrMapToDict(base, sep), listOrMapToDict(over, sep), path);

function dependsOnDict(v: unknown): Dict {
  if (isDict(v)) return { ...v };
  const out: Dict = {};
  if (Array.isArray(v)) for (const s of v) setOwn(out, String(s), { condition: 'service_started', required: true });
  return out;
}

function networksDict(v: unknown): Dict {
  if (isDict(v)) return { ...v };
  const out: Dict = {};
  if (Array.isArray(v)) for (const s of v) setOwn(out, String(s), null);
  return out;
}

const mergeBuild: Merger = (base, over, path) => {
  const b = typeof base === 'string' ? { context: base } : base;
  const o = typeof over === 'string' ? { context: over } : over;
  return isDict(b) && isDict(o) ? mergeDicts(b, o, path) : o;
};

const mergeLogging: Merger = (base, over, path) => {
  if (isDict(base) && isDict(over)) {
    if (base.driver !== undefined && over.driver !== undefined && base.driver !== over.driver) return over;
    return mergeDicts(base, over, path);
  }
  return over;
};

/** Field-specific mergers, by path pattern under the file root (`*` = any one key). */
const specials: [string, Merger][] = [
  ['services.*.command', replace],
  ['services.*.entrypoint', replace],
  ['services.*.healthcheck.test', replace],
  ['services.*.environment', asDicts()],
  ['services.*.labels', asDicts()],
  ['services.*.annotations', asDicts()],
  ['services.*.sysctls', asDicts()],
  ['services.*.extra_hosts', asDicts(':')],
  ['services.*.build', mergeBuild],
  ['services.*.build.args', asDicts()],
  ['services.*.build.labels', asDicts()],
  ['services.*.deploy.labels', asDicts()],
  ['services.*.depends_on', (b, o, p) => mergeDicts(dependsOnDict(b), dependsOnDict(o), p)],
  ['services.*.networks', (b, o, p) => mergeDicts(networksDict(b), networksDict(o), p)],
  ['services.*.logging', mergeLogging],
  ['networks.*.labels', asDicts()],
  ['volumes.*.labels', asDicts()],
];

/** How entries of a sequence field are told apart, so that a later one replaces an earlier one. */
const uniqueBy: [string, (item: unknown) => string][] = [
  ['services.*.ports', portKey],
  ['services.*.volumes', mountTargetKey],
  ['services.*.secrets', (i) => mountKey(i, '/run/secrets/')],
  ['services.*.configs', (i) => mountKey(i, '/')],
  ['services.*.env_file', (i) => (isDict(i) ? String(i.path) : String(i))],
  ['services.*.expose', String],
  ['services.*.dns', String],
  ['services.*.dns_search', String],
  ['services.*.cap_add', String],
  ['services.*.cap_drop', String],
  ['services.*.profiles', String],
  ['services.*.links', String],
  ['services.*.tmpfs', String],
  ['services.*.devices', (i) => (isDict(i) ? String(i.target ?? i.source) : (String(i).split(':')[1] ?? String(i)))],
];

function portKey(item: unknown): string {
  if (isDict(item))
    return `${item.host_ip ?? ''}:${item.published ?? ''}:${item.target ?? ''}/${item.protocol ?? 'tcp'}`;
  return String(item);
}

function mountTargetKey(item: unknown): string {
  if (isDict(item)) return String(item.target);
  const parts = String(item).split(':');
  return parts.length === 1 ? parts[0]! : parts[1]!;
}

function mountKey(item: unknown, prefix: string): string {
  if (isDict(item)) return String(item.target ?? `${prefix}${String(item.source)}`);
  return `${prefix}${String(item)}`;
}

function matches(pattern: string, path: string[]): boolean {
  const p = pattern.split('.');
  return p.length === path.length && p.every((seg, i) => seg === '*' || seg === path[i]);
}

function uniqueSeq(items: unknown[], keyOf: (item: unknown) => string): unknown[] {
  const at = new Map<string, number>();
  const out: unknown[] = [];
  for (const item of items) {
    const k = keyOf(item);
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, out.length);
      out.push(item);
    } else out[i] = item;
  }
  return out;
}

/** Merges `over` onto `base` at `path` (a path from the file root). */
export function mergeValue(base: unknown, over: unknown, path: string[]): unknown {
  if (over instanceof ResetTag) return undefined;
  if (over instanceof OverrideTag) return stripTags(over.value);
  if (base === undefined || base instanceof ResetTag) return stripTags(over);
  if (base instanceof OverrideTag) return mergeValue(base.value, over, path);
  if (over === null || over === undefined) return base;
  const special = specials.find(([pattern]) => matches(pattern, path));
  if (special) return special[1](base, over, path);
  if (isDict(base) && isDict(over)) return mergeDicts(base, over, path);
  if (Array.isArray(base) && Array.isArray(over)) {
    const all = [...base, ...(stripTags(over) as unknown[])];
    const unique = uniqueBy.find(([pattern]) => matches(pattern, path));
    return unique ? uniqueSeq(all, unique[1]) : all;
  }
  return stripTags(over);
}

export function mergeDicts(base: Dict, over: Dict, path: string[]): Dict {
  const out: Dict = {};
  for (const [k, v] of Object.entries(base)) setOwn(out, k, v);
  for (const [k, v] of Object.entries(over)) {
    const merged = mergeValue(out[k], v, [...path, k]);
    if (merged === undefined) delete out[k];
    else setOwn(out, k, merged);
  }
  return out;
}

/** Removes `!reset`/`!override` markers from a value that has nothing to merge with. */
export function stripTags(v: unknown): unknown {
  if (v instanceof OverrideTag) return stripTags(v.value);
  if (Array.isArray(v)) return v.filter((x) => !(x instanceof ResetTag)).map(stripTags);
  if (isDict(v)) {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) if (!(x instanceof ResetTag)) setOwn(out, k, stripTags(x));
    return out;
  }
  return v;
}

/** Merges whole compose files in order (`-f a -f b`). */
export function mergeFiles(files: Dict[]): Dict {
  let out: Dict = {};
  for (const f of files) out = mergeDicts(out, f, []);
  return stripTags(out) as Dict;
}
