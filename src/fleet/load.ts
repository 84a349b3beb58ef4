/**
 * Loads the fleet file `ferry.yml` into a `Fleet`: validates it against the schema,
 * checks that names it refers to exist, resolves compose and env files relative to
 * the fleet file and converts sizes to bytes. Never throws for bad input: every
 * problem comes back as a finding with a key path and a file position.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { sortFindings, type Finding } from '../core/finding.js';
import { secretsIn } from '../core/secret-places.js';
import type { Fleet } from '../model/fleet.js';
import { toPlain } from '../yaml/plain.js';
import { readYamlFile, type SourceFile } from '../yaml/source.js';
import { buildFleet } from './build.js';
import { referenceFindings } from './references.js';
import { receiverSecretsWritten } from './monitoring-schema.js';
import { issueFindings } from './schema-findings.js';
import { FleetFileSchema, isExtensionKey } from './schema.js';
import { sizeRangeErrors, unitlessSizeWarnings } from './size-findings.js';

export interface LoadFleetOptions {
  /** Directory relative paths (and the displayed file name) are taken from. Default: process.cwd(). */
  cwd?: string;
}

export interface FleetLoadResult {
  /**
   * Undefined when the file cannot be read or does not match the schema. When the only
   * errors are `unknown-reference` (a stack's server or a connection's stack or server
   * is not defined) the fleet is still returned, so that later checks can report more;
   * those findings are errors all the same, and the names they point at are missing
   * from `servers` / `stacks`.
   */
  fleet?: Fleet;
  /** Errors and warnings about ferry.yml, in file order (errors first). */
  findings: Finding[];
  /** Secret values written in it (a password in a URL, a credential-named key), for the redactor. */
  secrets: string[];
}

/** Reads, validates and resolves ferry.yml at `path` (relative to `opts.cwd`). */
export function loadFleetFile(path: string, opts: LoadFleetOptions = {}): FleetLoadResult {
  const cwd = resolve(opts.cwd ?? process.cwd());
  const abs = resolve(cwd, path);
  const read = readYamlFile(abs, displayPath(cwd, abs), 'fleet');
  if (!read.file) return { findings: sortFindings(read.findings), secrets: [] };
  return fleetFromSource(read.file);
}

/** The same as `loadFleetFile`, for a fleet file already parsed by `readYamlFile` or `parseYamlText`. */
export function fleetFromSource(file: SourceFile): FleetLoadResult {
  const plain = toPlain(file);
  const secrets = [...secretsIn(plain.data), ...receiverSecretsWritten(plain.data)];
  if (plain.findings.length > 0) return { findings: plain.findings, secrets };
  const input = withoutExtensions(plain.data);
  const findings: Finding[] = [];
  const parsed = FleetFileSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) findings.push(...issueFindings(issue, input, file));
  } else {
    findings.push(...sizeRangeErrors(parsed.data, file));
  }
  findings.push(...referenceFindings(input, file));
  findings.push(...unitlessSizeWarnings(input, file));
  const sorted = sortFindings(findings);
  if (!parsed.success || sorted.some((f) => f.severity === 'error' && f.code !== 'unknown-reference'))
    return { findings: sorted, secrets };
  return { fleet: buildFleet(parsed.data, file), findings: sorted, secrets };
}

/** The fleet file's name relative to the working directory when it is below it, else absolute. */
function displayPath(cwd: string, abs: string): string {
  const rel = relative(cwd, abs);
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return abs;
  return rel;
}

/** The document without its `x-` keys (defined with defineProperty, so that a `__proto__` key stays a plain key). */
function withoutExtensions(doc: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc))
    if (!isExtensionKey(k))
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}
