import type { ErrorCode } from './codes.js';
import { formatWhere, type Finding } from './finding.js';

/** What a user is told about an error: a stable code, what happened, where, and the next thing to do. */
export interface ErrorReport {
  code: ErrorCode;
  message: string;
  /** Where it happened: a file (`ferry.yml:3:5`), a host (`host app`), a flag (`--out`), a directory. */
  place: string;
  hint: string;
}

/**
 * An error Ferry expects and explains. The CLI prints it as its code, message, place and
 * hint (or as `{"error": ...}` with `--json`), never as a stack trace, and exits with
 * `exit`: 2 when the input or the command line cannot be used, 1 otherwise.
 */
export class FerryError extends Error implements ErrorReport {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly place: string,
    readonly hint: string,
    readonly exit: 1 | 2 = 1,
  ) {
    super(message);
    this.name = 'FerryError';
  }
}

/**
 * Input Ferry cannot use. Carries one or more findings (with codes, places and hints);
 * the CLI prints them all and exits 2. Its own code, message, place and hint are those of
 * the first error among them, or `summary` when given (`check-failed`: the fleet loaded,
 * and has errors), which the CLI prints after them.
 */
export class InputError extends FerryError {
  readonly findings: Finding[];
  readonly summarized: boolean;
  constructor(findings: Finding[], summary?: ErrorReport) {
    const r = summary ?? errorReport(findings);
    super(r.code, r.message, r.place, r.hint, 2);
    this.name = 'InputError';
    this.findings = findings;
    this.summarized = summary !== undefined;
  }
}

/** The error that findings amount to: the first error among them (its code, message, place and hint). */
export function errorReport(findings: readonly Finding[]): ErrorReport {
  const first = findings.find((f) => f.severity === 'error') ?? findings[0];
  if (!first)
    return {
      code: 'input-invalid',
      message: 'the input cannot be read',
      place: 'the input',
      hint: 'Run `ferry check`.',
    };
  const who = [first.stack, first.service].filter(Boolean).join('/');
  return {
    code: first.code,
    message: who ? `${who}: ${first.message}` : first.message,
    place: formatWhere(first.where) || who || 'the input',
    hint: first.hint,
  };
}

/** A flag or argument the CLI cannot accept; `place` names it (default: the command line). */
export class UsageError extends FerryError {
  constructor(message: string, hint: string, place = 'command line') {
    super('usage', message, place, hint, 2);
    this.name = 'UsageError';
  }
}
