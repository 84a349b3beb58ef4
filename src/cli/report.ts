/**
 * The one way the CLI tells a user about an error: as `error CODE: message`, its place
 * and its hint on standard error, or, with `--json`, as the one document on standard
 * output, `{"error": {"code", "message", "place", "hint"}}` (with the findings when the
 * input could not be read). Whatever was thrown is turned into such a report here.
 */
import { CommanderError } from 'commander';
import { FerryError, InputError, type ErrorReport } from '../core/errors.js';
import type { Finding } from '../core/finding.js';
import { renderFindings } from '../render/findings.js';

export interface Failure {
  report: ErrorReport;
  exit: number;
  findings?: Finding[];
  /** The report sums the findings up (and is printed after them). */
  summarized?: boolean;
}

/** Whatever a command threw, as a report with its exit status (70: a bug in Ferry). */
export function failureOf(e: unknown): Failure | undefined {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return undefined;
    return {
      report: {
        code: 'usage',
        message: e.message.replace(/^error: /, '').replace(/\n/g, ' '),
        place: 'command line',
        hint: 'run `ferry --help` or `ferry <command> --help`',
      },
      exit: 2,
    };
  }
  if (e instanceof InputError) return { report: reportOf(e), exit: 2, findings: e.findings, summarized: e.summarized };
  if (e instanceof FerryError) return { report: reportOf(e), exit: e.exit };
  const message = e instanceof RangeError && /call stack/.test(e.message) ? 'ran out of stack' : errorMessage(e);
  return {
    report: {
      code: 'internal',
      message,
      place: 'ferry',
      hint: 'this is a bug in Ferry; please report it with the command you ran (set FERRY_DEBUG=1 for details)',
    },
    exit: 70,
  };
}

function reportOf(e: FerryError): ErrorReport {
  return { code: e.code, message: e.message, place: e.place, hint: e.hint };
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The text form, for standard error. */
export function renderFailure(f: Failure): string {
  const r = f.report;
  const line = `error ${r.code}: ${r.message}\n  at ${r.place}\n  hint: ${r.hint}\n`;
  if (!f.findings || f.findings.length === 0) return line;
  return `${renderFindings(f.findings)}${f.summarized ? line : ''}`;
}

/** The `--json` form: one document. */
export function failureDocument(f: Failure): string {
  return `${JSON.stringify({ error: f.report, ...(f.findings ? { findings: f.findings } : {}) }, null, 2)}\n`;
}
