/**
 * One compose file read for a project: parsed with positions, validated against the
 * Compose schema as written, then interpolated. Missing required variables are all
 * collected, each with the place it is used.
 */
import { finding, type Finding } from '../core/finding.js';
import { secretsIn } from '../core/secret-places.js';
import { toPlain } from '../yaml/plain.js';
import { locate, readYamlFile, type KeyPath, type SourceFile } from '../yaml/source.js';
import { interpolateTree } from './interpolate.js';
import { validateComposeFile } from './schema.js';

export type Dict = Record<string, unknown>;

export interface ComposeFile {
  source: SourceFile;
  /** Interpolated content. */
  data: Dict;
  /** Every place an unset variable was replaced by an empty string. */
  unset: { variable: string; path: KeyPath }[];
}

export interface ReadResult {
  file?: ComposeFile;
  findings: Finding[];
  /**
   * The secrets the file holds, as written and once interpolated (an `.env` value used as a
   * password): known even when the file cannot be used, before any message about it is shown.
   */
  secrets: string[];
}

export function readComposeFile(absPath: string, display: string, env: Record<string, string>): ReadResult {
  const read = readYamlFile(absPath, display);
  if (!read.file) return { findings: read.findings, secrets: [] };
  const source = read.file;
  const plain = toPlain(source);
  const raw: Dict = plain.data;
  const result = interpolateTree(raw, (name) => env[name]);
  const secrets = [...secretsIn(raw), ...secretsIn(result.value)];
  if (plain.findings.length > 0) return { findings: plain.findings, secrets };
  const schemaFindings = validateComposeFile(source, JSON.parse(JSON.stringify(raw, tagsAsValues)));
  if (schemaFindings.length > 0) return { findings: schemaFindings, secrets };
  const findings: Finding[] = [];
  for (const p of result.problems) {
    const w = locate(source, p.path);
    const where = { file: w.file, line: w.line, column: w.column, path: w.path };
    if (p.kind === 'required') {
      findings.push(
        finding(
          'missing-variable',
          'error',
          `${p.message} (used in ${w.path})`,
          where,
          `Set ${p.variable ?? 'the variable'} in the environment or in the project's .env file.`,
        ),
      );
    } else {
      findings.push(
        finding(
          'invalid-interpolation',
          'error',
          `${p.message} in ${w.path}`,
          where,
          'Write variables as $NAME or ${NAME}; use $$ for a literal dollar sign.',
        ),
      );
    }
  }
  const seen = new Set<string>();
  for (const u of result.unset) {
    if (seen.has(u.variable)) continue;
    seen.add(u.variable);
    const w = locate(source, u.path);
    findings.push(
      finding(
        'unset-variable',
        'warning',
        `variable ${u.variable} is not set; Compose substitutes an empty string (first used in ${w.path})`,
        { file: w.file, line: w.line, column: w.column, path: w.path },
        `Set ${u.variable} in the environment or .env, or give a default with \${${u.variable}:-value}.`,
      ),
    );
  }
  if (findings.some((f) => f.severity === 'error')) return { findings, secrets };
  return { file: { source, data: result.value as Dict, unset: result.unset }, findings, secrets };
}

/** `!reset`/`!override` markers validate as what they wrap (a reset key is left out). */
function tagsAsValues(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && 'kind' in value) {
    const v = value as { kind: string; value?: unknown };
    if (v.kind === 'reset') return undefined;
    if (v.kind === 'override') return v.value;
  }
  return value;
}
