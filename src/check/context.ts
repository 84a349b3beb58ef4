/** What a check rule may use besides the model: the only I/O checks do. */
import { readFileSync } from 'node:fs';
import type { Finding } from '../core/finding.js';
import type { LoadedFleet } from '../model/loaded.js';

export interface CheckContext {
  /** Text of a file (a compose file, a bind-mounted postgresql.conf), or undefined when it can't be read. */
  readText: (absPath: string) => string | undefined;
}

/** Reads UTF-8 text from disk; undefined on any error. */
export function readTextFile(absPath: string): string | undefined {
  try {
    return readFileSync(absPath, 'utf8');
  } catch {
    return undefined;
  }
}

export const defaultCheckContext: CheckContext = { readText: readTextFile };

/** A check rule: a pure function of the loaded fleet (plus `ctx.readText`). */
export type Rule = (fleet: LoadedFleet, ctx: CheckContext) => Finding[];
