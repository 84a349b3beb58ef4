/** Findings are Ferry's one shape for everything a user is told about their input. */
import type { FindingCode } from './codes.js';

export type Severity = 'error' | 'warning' | 'info';

/** Where a finding points: a file position and/or a key path, or a host. */
export interface Where {
  file?: string;
  line?: number;
  column?: number;
  /** Key path in the file or model, e.g. `services/web/ports/0`. */
  path?: string;
  host?: string;
}

export interface Finding {
  /** Stable, documented in docs/checks.md and docs/errors.md (`core/codes.ts` lists them). */
  code: FindingCode | TransportFindingCode;
  severity: Severity;
  message: string;
  where: Where;
  hint: string;
  stack?: string;
  service?: string;
  server?: string;
}

/** A server that could not be read is a finding with its transport error's code (or `internal`). */
export type TransportFindingCode = import('./codes.js').TransportErrorCode | 'internal';

export function finding(
  code: Finding['code'],
  severity: Severity,
  message: string,
  where: Where,
  hint: string,
  extra: Pick<Finding, 'stack' | 'service' | 'server'> = {},
): Finding {
  return { code, severity, message, where, hint, ...extra };
}

/** Where a key is when no file can say: its key path alone (`stacks/shop/services/db`). */
export const atKeyPath = (path: readonly (string | number)[]): Where => ({ path: path.join('/') });

/** `file:line:column (path)`, omitting what is unknown. */
export function formatWhere(w: Where): string {
  const parts: string[] = [];
  if (w.host) parts.push(`host ${w.host}`);
  if (w.file) {
    let s = w.file;
    if (w.line !== undefined) s += `:${w.line}`;
    if (w.line !== undefined && w.column !== undefined) s += `:${w.column}`;
    parts.push(s);
  }
  if (w.path) parts.push(parts.length > 0 ? `(${w.path})` : w.path);
  return parts.join(' ');
}

export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}

const severityRank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Errors first, then by file, line, code: a stable order for output and golden files. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      severityRank[a.severity] - severityRank[b.severity] ||
      (a.where.file ?? '').localeCompare(b.where.file ?? '') ||
      (a.where.line ?? 0) - (b.where.line ?? 0) ||
      (a.where.column ?? 0) - (b.where.column ?? 0) ||
      a.code.localeCompare(b.code) ||
      (a.where.path ?? '').localeCompare(b.where.path ?? '') ||
      a.message.localeCompare(b.message),
  );
}
