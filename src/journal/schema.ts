/**
 * The journal's tables and how to get there from any older file: `MIGRATIONS[i]` takes a
 * journal from version i to i + 1, in one transaction. Add a change as a new entry; never
 * edit one that has shipped.
 */
import type Database from 'better-sqlite3';
import { FerryError } from '../core/errors.js';

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE runs (
     id TEXT PRIMARY KEY,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     command TEXT NOT NULL,
     fleet_file TEXT,
     status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
     summary_json TEXT
   );
   CREATE INDEX runs_started ON runs (started_at);
   CREATE TABLE events (
     run_id TEXT NOT NULL REFERENCES runs (id),
     seq INTEGER NOT NULL,
     at TEXT NOT NULL,
     kind TEXT NOT NULL,
     step_id TEXT,
     data_json TEXT NOT NULL,
     PRIMARY KEY (run_id, seq)
   );`,
  // The run a run resumes (or whose locks it takes over): resume follows the chain back.
  `ALTER TABLE runs ADD COLUMN resumes TEXT;`,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** A journal written by a newer Ferry than this one. */
export class JournalTooNewError extends FerryError {
  constructor(file: string, version: number) {
    super(
      'journal-too-new',
      `${file}: journal schema version ${version} is newer than this Ferry knows (${SCHEMA_VERSION})`,
      file,
      'upgrade Ferry, or point FERRY_STATE_DIR at another directory',
    );
    this.name = 'JournalTooNewError';
  }
}

/** Brings `db` to SCHEMA_VERSION; returns the version it found. */
export function migrate(db: Database.Database, file: string): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  const found = row?.version ?? 0;
  if (found > SCHEMA_VERSION) throw new JournalTooNewError(file, found);
  db.transaction(() => {
    for (let v = found; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.prepare('DELETE FROM schema_version').run();
    db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
  })();
  return found;
}
