/**
 * How an invocation ends: with --json, what the command wrote to stdout is kept until its
 * outcome is known, so that stdout holds one document (the result, or the error); the
 * failure, if any, is printed once through the redactor; a failure to write the output
 * is reported last.
 */
import { FerryError } from '../core/errors.js';
import type { Redactor } from '../core/redact.js';
import type { Io } from './io.js';
import { failureDocument, failureOf, renderFailure, type Failure } from './report.js';

/** `--json` among the arguments (before a `--`): every outcome is then one JSON document on stdout. */
export function jsonRequested(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** What is written to stdout, kept until the command's outcome is known (--json). */
export function buffering(io: Io): { io: Io; take: () => string } {
  let text = '';
  return {
    io: { ...io, out: (t) => (text += t) },
    take: () => text,
  };
}

/** Prints the outcome: the command's output (kept, with --json), or its failure; then a failure to write. */
export function finish(o: {
  io: Io;
  redactor: Redactor;
  json: boolean;
  kept: string;
  code: number;
  failure: Failure | undefined;
  thrown: unknown;
}): number {
  const { io, redactor, json } = o;
  let code = o.code;
  let failure = o.failure;
  if (json && !failure && o.kept.trim() === '' && code !== 0)
    failure = failureOf(
      new FerryError(
        'no-result',
        `the command ended with status ${code} and no result`,
        'ferry',
        'Run it again without --json to read what it says.',
      ),
    );
  if (failure) {
    code = failure.exit;
    if (json) io.out(redactor.redact(failureDocument(failure)));
    else io.err(redactor.redact(renderFailure(failure)));
    if (failure.exit === 70 && io.env.FERRY_DEBUG && o.thrown instanceof Error && o.thrown.stack)
      io.err(`${redactor.redact(o.thrown.stack)}\n`);
  } else if (json) io.out(redactor.redact(o.kept));
  const broken = io.failure?.();
  if (!broken) return code;
  io.err(redactor.redact(renderFailure({ report: broken, exit: 1 })));
  return code === 0 ? 1 : code;
}
