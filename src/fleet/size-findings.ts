/**
 * Findings about the sizes of servers (`memory`, `disk`) that the schema's pattern lets
 * through: too large for a number of bytes, or written without a unit.
 */
import { finding, type Finding } from '../core/finding.js';
import { parseSize } from '../core/size.js';
import { pathString, type SourceFile } from '../yaml/source.js';
import { at, describeValue, isRecord } from './plain.js';
import { descriptionAt } from './schema-walk.js';
import type { FleetFile } from './schema.js';

/** Sizes that match the pattern but do not fit in a number of bytes. */
export function sizeRangeErrors(data: FleetFile, file: SourceFile): Finding[] {
  const out: Finding[] = [];
  for (const [name, s] of Object.entries(data.servers)) {
    for (const key of ['memory', 'disk'] as const) {
      const v = s[key];
      if (v !== undefined && parseSize(v) === undefined) {
        const path = ['servers', name, key];
        out.push(
          finding(
            'schema',
            'error',
            `${pathString(path)} is too large, got ${describeValue(v)}`,
            at(file, path),
            descriptionAt(path) ?? '',
            { server: name },
          ),
        );
      }
    }
  }
  return out;
}

const MIB = 1024 * 1024;

/** `memory: 16` is 16 bytes: almost certainly meant as 16 GiB. */
export function unitlessSizeWarnings(input: Record<string, unknown>, file: SourceFile): Finding[] {
  const out: Finding[] = [];
  const servers = input['servers'];
  if (!isRecord(servers)) return out;
  for (const [name, s] of Object.entries(servers)) {
    if (!isRecord(s)) continue;
    for (const key of ['memory', 'disk'] as const) {
      const v = s[key];
      if (typeof v !== 'number' && typeof v !== 'string') continue;
      const bytes = parseSize(v);
      if (bytes === undefined || bytes >= MIB) continue;
      const path = ['servers', name, key];
      const example = /^\d+$/.test(String(v).trim()) ? `${String(v).trim()}GiB` : '16GiB';
      out.push(
        finding(
          'schema',
          'warning',
          `${pathString(path)} is ${bytes} ${bytes === 1 ? 'byte' : 'bytes'}; a size without a unit is a number of bytes`,
          at(file, path),
          `Write the unit, for example \`${key}: ${example}\`.`,
          { server: name },
        ),
      );
    }
  }
  return out;
}
