/** Where the CLI writes, injectable for transcript tests. Everything passes the redactor. */
import { Redactor } from '../core/redact.js';
import type { Env } from '../compose/project-env.js';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  cwd: string;
  env: Env;
}

export const processIo = (): Io => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
});

/** An Io whose output is redacted with `redactor` (which may learn more secrets later). */
export function redacting(io: Io, redactor: Redactor): Io {
  return { ...io, out: (t) => io.out(redactor.redact(t)), err: (t) => io.err(redactor.redact(t)) };
}
