/** Where the CLI writes, injectable for transcript tests. Everything passes the redactor. */
import { Redactor } from '../core/redact.js';
import type { ErrorReport } from '../core/errors.js';
import type { Env } from '../compose/project-env.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  env: Env;
  /** Why output could not be written (a full disk), once it happened; a closed pipe is not a failure. */
  failure?: () => ErrorReport | undefined;
}

/**
 * What a command gets: output that goes through the invocation's one redactor, which the
 * command teaches every secret it loads before it prints anything. Errors the command
 * throws are printed by `main` through the same redactor.
 */
export interface CliIo extends Io {
  redactor: Redactor;
}

/** An Io whose output is redacted with `redactor` (which may learn more secrets later). */
export function redacting(io: Io, redactor: Redactor): CliIo {
  return { ...io, redactor, out: (t) => io.out(redactor.redact(t)), err: (t) => io.err(redactor.redact(t)) };
}
