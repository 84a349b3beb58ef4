/**
 * `volumes:` (short and long syntax) and the `tmpfs:` service key. The short syntax follows
 * compose-go's `format.ParseVolume`:
 * - up to three `:`-separated sections `SOURCE:TARGET[:MODE]`; a lone section is the target
 *   of an anonymous volume; an empty section or a fourth one is an error;
 * - a colon right after a single letter is a Windows drive (`C:\data`), not a separator;
 * - MODE is a comma list: `ro`/`rw` set read-only, other options (`z`, `nocopy`, propagation)
 *   do not change what is mounted where;
 * - a source starting with `.`, `/`, `~`, `\\` or a drive letter is a bind mount, anything
 *   else a named volume.
 * Bind sources are resolved as compose-go's `loader/paths.go` does: `~` is the home
 * directory, relative paths join the project's working directory.
 */
import type { MountType, VolumeMount } from '../../model/compose.js';
import {
  asBool,
  describe,
  isMap,
  quote,
  resolveHostPath,
  schemaError,
  shape,
  stringOrList,
  type Ctx,
} from './common.js';
import type { Parsed } from './ports.js';

/** A mount plus which service key it came from (`index` counts within that key's list). */
export interface NormalizedMount extends VolumeMount {
  key: 'volumes' | 'tmpfs';
}

export type VolumeSpec = Omit<VolumeMount, 'index'>;

const MOUNT_TYPES: readonly string[] = ['volume', 'bind', 'tmpfs', 'npipe', 'cluster', 'image'];
const SHORT_HINT =
  'Write a volume as SOURCE:TARGET[:MODE] (e.g. "./data:/var/lib/data:ro" or "dbdata:/var/lib/postgresql/data"), or just TARGET for an anonymous volume; the target is an absolute path in the container.';
const LONG_HINT =
  'A long-syntax volume needs `type` (volume, bind, tmpfs, npipe, cluster or image) and `target` (an absolute path in the container); a bind also needs `source`.';
const TMPFS_HINT =
  'Write each tmpfs entry as an absolute container path, optionally followed by ":" and mount options (e.g. "/run:size=64m").';

/** A drive-letter or UNC path: kept as written, never resolved against the working directory. */
function isWindowsPath(p: string): boolean {
  return /^[A-Za-z]:/.test(p) || p.startsWith('\\\\');
}

function isAbsoluteTarget(p: string): boolean {
  return p.startsWith('/') || isWindowsPath(p);
}

/** compose-go's `isFilePath`: what makes a short-syntax source a bind mount. */
export function isBindSource(source: string): boolean {
  return /^[./~]/.test(source) || isWindowsPath(source);
}

function splitSections(spec: string): string[] {
  const sections: string[] = [];
  let buf = '';
  for (const ch of spec) {
    if (ch === ':' && !(buf.length === 1 && /[A-Za-z]/.test(buf))) {
      sections.push(buf);
      buf = '';
    } else buf += ch;
  }
  sections.push(buf);
  return sections;
}

function readOnlyMode(mode: string | undefined): boolean {
  let ro = false;
  for (const opt of (mode ?? '').split(',')) {
    if (opt === 'ro') ro = true;
    else if (opt === 'rw') ro = false;
  }
  return ro;
}

function hostPath(workingDir: string, source: string): string {
  return isWindowsPath(source) ? source : resolveHostPath(workingDir, source);
}

/** Parses one short-syntax volume string. */
export function parseVolumeSpec(spec: string, workingDir: string): Parsed<VolumeSpec> {
  if (spec === '') return { ok: false, reason: 'it is empty' };
  const sections = spec.length <= 2 ? [spec] : splitSections(spec);
  if (sections.length > 3) return { ok: false, reason: 'it has too many ":"-separated sections' };
  if (sections.some((s) => s === '')) return { ok: false, reason: 'it has an empty section between colons' };
  const [first, second, mode] = sections as [string, string?, string?];
  const target = second ?? first;
  if (!isAbsoluteTarget(target)) return { ok: false, reason: `container path ${quote(target)} is not absolute` };
  const readOnly = readOnlyMode(mode);
  if (second === undefined) return { ok: true, value: { type: 'volume', target, readOnly } };
  if (isBindSource(first))
    return { ok: true, value: { type: 'bind', source: hostPath(workingDir, first), target, readOnly } };
  return { ok: true, value: { type: 'volume', source: first, target, readOnly } };
}

function longFields(m: Record<string, unknown>, workingDir: string): Parsed<VolumeSpec> {
  const type = m.type;
  if (typeof type !== 'string' || !MOUNT_TYPES.includes(type)) {
    return {
      ok: false,
      reason: `type ${type === undefined ? 'is missing' : `${describe(type)} is not one of ${MOUNT_TYPES.join(', ')}`}`,
    };
  }
  const target = m.target;
  if (typeof target !== 'string' || target === '')
    return { ok: false, reason: `target ${target === undefined ? 'is missing' : `is ${shape(target)}`}` };
  if (type !== 'npipe' && !isAbsoluteTarget(target))
    return { ok: false, reason: `target ${quote(target)} is not absolute` };
  const readOnly = m.read_only === undefined ? false : asBool(m.read_only);
  if (readOnly === undefined) return { ok: false, reason: `read_only ${describe(m.read_only)} is not a boolean` };
  const source = m.source;
  if (source !== undefined && typeof source !== 'string') return { ok: false, reason: `source is ${shape(source)}` };
  if (type === 'bind' && !source) return { ok: false, reason: 'a bind mount has no source' };
  const value: VolumeSpec = { type: type as MountType, target, readOnly };
  if (source) value.source = type === 'bind' ? hostPath(workingDir, source) : source;
  return { ok: true, value };
}

function volumeEntry(entry: unknown, i: number, workingDir: string, ctx: Ctx): NormalizedMount | undefined {
  if (typeof entry === 'string') {
    const parsed = parseVolumeSpec(entry, workingDir);
    if (parsed.ok) return { ...parsed.value, index: i, key: 'volumes' };
    schemaError(ctx, ['volumes', i], `volume ${quote(entry)} is malformed: ${parsed.reason}`, SHORT_HINT);
    return undefined;
  }
  if (isMap(entry)) {
    const parsed = longFields(entry, workingDir);
    if (parsed.ok) return { ...parsed.value, index: i, key: 'volumes' };
    schemaError(ctx, ['volumes', i], `long-syntax volume is malformed: ${parsed.reason}`, LONG_HINT);
    return undefined;
  }
  schemaError(ctx, ['volumes', i], `volume is ${shape(entry)}, not a string or mapping`, SHORT_HINT);
  return undefined;
}

/** Normalizes a service's `volumes` list; malformed entries become findings and are left out. */
export function normalizeVolumes(raw: unknown, workingDir: string, ctx: Ctx): NormalizedMount[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    schemaError(ctx, ['volumes'], `volumes is ${shape(raw)}, not a list`, SHORT_HINT);
    return [];
  }
  return raw.flatMap((entry, i) => volumeEntry(entry, i, workingDir, ctx) ?? []);
}

/** Normalizes the `tmpfs` key (a path or a list of `PATH[:OPTIONS]`) into tmpfs mounts. */
export function normalizeTmpfs(raw: unknown, ctx: Ctx): NormalizedMount[] {
  if (raw === undefined || raw === null) return [];
  const list = stringOrList(raw);
  if (!list) {
    schemaError(ctx, ['tmpfs'], `tmpfs is ${shape(raw)}, not a path or a list of paths`, TMPFS_HINT);
    return [];
  }
  const listed = Array.isArray(raw);
  return list.flatMap((entry, i) => {
    const colon = entry.indexOf(':');
    const target = colon < 0 ? entry : entry.slice(0, colon);
    const options = colon < 0 ? '' : entry.slice(colon + 1);
    if (isAbsoluteTarget(target))
      return [{ type: 'tmpfs' as const, target, readOnly: readOnlyMode(options), index: i, key: 'tmpfs' as const }];
    schemaError(ctx, listed ? ['tmpfs', i] : ['tmpfs'], `tmpfs path ${quote(target)} is not absolute`, TMPFS_HINT);
    return [];
  });
}
