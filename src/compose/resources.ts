/**
 * The top-level volumes, networks, secrets and configs of a project. A secret or config
 * read from a file must be a file that exists (Compose refuses to start a service whose
 * secret file is missing); a secret read from an environment variable makes that
 * variable's value a secret.
 */
import { resolve } from 'node:path';
import { regularFileProblem } from '../core/files.js';
import { finding, type Finding } from '../core/finding.js';
import type { NamedResource, Service } from '../model/compose.js';
import type { KeyPath } from '../yaml/source.js';
import type { Dict } from './compose-file.js';

/** Named resources; `file` made absolute against the project's directory. */
export function resources(v: unknown, workingDir: string): Record<string, NamedResource> {
  const out: Record<string, NamedResource> = {};
  for (const [name, raw] of Object.entries((v ?? {}) as Dict)) {
    const d = (raw ?? {}) as Dict;
    const ext = d.external;
    out[name] = {
      name: typeof d.name === 'string' ? d.name : name,
      external: ext === true || (typeof ext === 'object' && ext !== null),
      ...(typeof d.driver === 'string' ? { driver: d.driver } : {}),
      ...(typeof d.file === 'string' ? { file: resolve(workingDir, d.file) } : {}),
      ...(typeof d.environment === 'string' ? { environment: d.environment } : {}),
      raw: d,
    };
  }
  return out;
}

/** Values of the variables that secrets are read from (`secrets: { x: { environment: VAR } }`). */
export function environmentSecrets(secrets: Record<string, NamedResource>, env: Record<string, string>): string[] {
  return Object.values(secrets).flatMap((s) => (s.environment && env[s.environment] ? [env[s.environment]!] : []));
}

/**
 * Secrets and configs whose file is missing or not a regular file: an error when an
 * active service uses it, a warning otherwise.
 */
export function resourceFileFindings(
  kinds: { secrets: Record<string, NamedResource>; configs: Record<string, NamedResource> },
  services: Service[],
  locate: (path: KeyPath) => Finding['where'],
  show: (abs: string) => string,
): Finding[] {
  const out: Finding[] = [];
  for (const kind of ['secrets', 'configs'] as const) {
    const used = new Set(services.flatMap((s) => s[kind].map((m) => m.source)));
    for (const [key, r] of Object.entries(kinds[kind])) {
      if (!r.file || r.external) continue;
      const problem = regularFileProblem(r.file, show(r.file));
      if (!problem) continue;
      const what = kind === 'secrets' ? 'secret' : 'config';
      out.push(
        finding(
          problem.code,
          used.has(key) ? 'error' : 'warning',
          `${what} ${key}: ${problem.message}${used.has(key) ? '' : ` (no service uses the ${what} yet)`}`,
          locate([kind, key, 'file']),
          `Create the file or fix the path (relative to the project directory); Compose refuses to start a service whose ${what} file is missing.`,
        ),
      );
    }
  }
  return out;
}
