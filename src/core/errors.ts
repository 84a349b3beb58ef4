import type { Finding } from './finding.js';

/**
 * Input Ferry cannot build a model from. Carries one or more findings (with codes,
 * places and hints); the CLI prints them and exits 2. Never shown as a stack trace.
 */
export class InputError extends Error {
  readonly findings: Finding[];
  constructor(findings: Finding[]) {
    super(findings.map((f) => `${f.code}: ${f.message}`).join('\n'));
    this.name = 'InputError';
    this.findings = findings;
  }
}

/** A flag or argument the CLI cannot accept. */
export class UsageError extends Error {
  readonly code = 'usage';
  readonly hint: string;
  constructor(message: string, hint: string) {
    super(message);
    this.name = 'UsageError';
    this.hint = hint;
  }
}
