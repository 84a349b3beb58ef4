/** What a check rule may use besides the model: the only I/O checks do. */
import { INPUT_LIMITS, readInput } from '../core/files.js';
import type { Finding } from '../core/finding.js';
import type { LoadedFleet } from '../model/loaded.js';

export interface CheckContext {
  /** Text of a file (a compose file, a bind-mounted postgresql.conf), or undefined when it can't be read. */
  readText: (absPath: string) => string | undefined;
}

/** Reads UTF-8 text from a regular file no larger than a compose file may be; undefined on any problem. */
export function readTextFile(absPath: string): string | undefined {
  return readInput(absPath, absPath, INPUT_LIMITS.yaml).bytes?.toString('utf8');
}

export const defaultCheckContext: CheckContext = { readText: readTextFile };

/** A check rule: a pure function of the loaded fleet (plus `ctx.readText`). */
export type Rule = (fleet: LoadedFleet, ctx: CheckContext) => Finding[];
