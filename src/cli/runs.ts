/** `ferry runs` and `ferry runs show ID`: what the journal recorded. */
import { existsSync } from 'node:fs';
import { FerryError } from '../core/errors.js';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { JOURNAL_FILE, openJournal, type Journal } from '../journal/journal.js';
import { renderRun, renderRuns } from '../journal/render.js';
import { stateDir } from '../state/dir.js';
import type { Io } from './io.js';

export interface RunsFlags {
  json?: boolean;
  limit?: string;
}

/** Runs `use` on the journal, or on nothing when no run was ever recorded (reading creates no file). */
function withJournal<T>(io: Io, use: (journal: Journal | undefined, file: string) => T): T {
  const dir = stateDir(io.env);
  const file = join(dir, JOURNAL_FILE);
  if (!existsSync(file)) return use(undefined, file);
  const journal = openJournal(dir);
  try {
    return use(journal, file);
  } finally {
    journal.close();
  }
}

function limitOf(flags: RunsFlags): number {
  if (flags.limit === undefined) return 20;
  const n = Number(flags.limit);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(
      `--limit: expected a whole number of runs, got "${flags.limit}"`,
      'pass --limit 1 or more',
      '--limit',
    );
  return n;
}

/** Exit 0. */
export function listRunsCommand(flags: RunsFlags, io: Io): number {
  const limit = limitOf(flags);
  const runs = withJournal(io, (journal) => journal?.runs(limit) ?? []);
  io.out(flags.json ? `${JSON.stringify({ runs }, null, 2)}\n` : renderRuns(runs));
  return 0;
}

/** Exit 0, or 2 when no run has that id. */
export function showRunCommand(id: string, flags: RunsFlags, io: Io): number {
  return withJournal(io, (journal, file) => {
    const found = journal?.run(id);
    if (!found)
      throw new FerryError(
        'run-not-found',
        `no run "${id}" in the journal`,
        file,
        'run `ferry runs` to list the recorded runs and their ids',
        2,
      );
    io.out(flags.json ? `${JSON.stringify(found, null, 2)}\n` : renderRun(found.run, found.events));
    return 0;
  });
}
