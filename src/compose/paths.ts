/**
 * Relative paths inside a service that come from another directory (an `extends.file`
 * or an `include`d project) are made absolute against that directory, as Compose does.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Dict } from './compose-file.js';

const isRelative = (p: string): boolean =>
  p.startsWith('.') || (!isAbsolute(p) && !p.startsWith('~') && (p.includes('/') || p === '.'));

function abs(dir: string, p: string): string {
  return p.startsWith('~') || isAbsolute(p) ? p : resolve(dir, p);
}

export function rebaseService(svc: Dict, dir: string): Dict {
  const out: Dict = { ...svc };
  if (typeof out.build === 'string') out.build = abs(dir, out.build);
  else if (out.build && typeof out.build === 'object') {
    const b = { ...(out.build as Dict) };
    if (typeof b.context === 'string' && !/^[a-z]+:\/\//.test(b.context)) b.context = abs(dir, b.context);
    out.build = b;
  }
  if (typeof out.env_file === 'string') out.env_file = abs(dir, out.env_file);
  else if (Array.isArray(out.env_file)) {
    out.env_file = out.env_file.map((e) =>
      typeof e === 'string'
        ? abs(dir, e)
        : e && typeof e === 'object'
          ? { ...(e as Dict), path: abs(dir, String((e as Dict).path)) }
          : e,
    );
  }
  if (Array.isArray(out.volumes)) out.volumes = out.volumes.map((v) => rebaseVolume(v, dir));
  if (out.extends && typeof out.extends === 'object' && typeof (out.extends as Dict).file === 'string') {
    out.extends = { ...(out.extends as Dict), file: abs(dir, String((out.extends as Dict).file)) };
  }
  return out;
}

function rebaseVolume(v: unknown, dir: string): unknown {
  if (typeof v === 'string') {
    const i = v.indexOf(':');
    if (i <= 0) return v;
    const src = v.slice(0, i);
    return isRelative(src) ? `${abs(dir, src)}${v.slice(i)}` : v;
  }
  if (v && typeof v === 'object') {
    const d = v as Dict;
    if (d.type === 'bind' && typeof d.source === 'string') return { ...d, source: abs(dir, d.source) };
  }
  return v;
}
