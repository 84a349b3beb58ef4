/**
 * A release rollback that a kill cut short: once its `rollback` step has switched the
 * stack, the release it was going back to is current, and the next `ferry rollback` would
 * go back one release further, and meet the killed run's lock. Its journaled command
 * (`rollback STACK TO (from FROM)`) says which rollback it was, so that the next one
 * finishes it, with the same plan, instead.
 */
import { openJournal } from '../journal/journal.js';
import { stateDir } from '../state/dir.js';
import type { Session } from './session.js';

export interface ReleaseRollback {
  to: string;
  /** The release that was current when it began (absent in runs journaled before it was). */
  from?: string;
}

export const releaseRollbackCommand = (stack: string, to: string, from: string | undefined): string =>
  `rollback ${stack} ${to} (from ${from ?? 'none'})`;

/** Target and origin of a release rollback's journaled command; undefined for any other command. */
export function releaseRollbackOf(command: string, stack: string): ReleaseRollback | undefined {
  const m = /^rollback (\S+) ([^\s(]\S*)(?: \(from (\S+)\))?$/.exec(command);
  if (!m || m[1] !== stack) return undefined;
  return { to: m[2]!, ...(m[3] && m[3] !== 'none' ? { from: m[3] } : {}) };
}

/**
 * The stack's newest rollback or migration run, when it is an unfinished release rollback
 * and the server still shows it: its target or its origin is the current release (a deploy
 * since has moved on, and it is then left alone).
 */
export function cutShortReleaseRollback(
  s: Session,
  stack: string,
  current: string | undefined,
): ReleaseRollback | undefined {
  const journal = openJournal(stateDir(s.io.env), s.redactor);
  try {
    const run = journal.lastUnfinished(
      (r) => r.command.startsWith(`rollback ${stack} `) || r.command.startsWith(`migrate ${stack} `),
    );
    const was = run ? releaseRollbackOf(run.command, stack) : undefined;
    return was && current !== undefined && (current === was.to || current === was.from) ? was : undefined;
  } finally {
    journal.close();
  }
}
