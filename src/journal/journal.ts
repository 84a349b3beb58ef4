/**
 * The run journal: every event of every run, in order, in `journal.sqlite` in Ferry's
 * state directory. Each event is written synchronously as it happens, so a killed process
 * loses at most the event being written, and a run without `run-end` was interrupted.
 * Events arrive redacted; the journal redacts every text again before writing it.
 */
import { chmodSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FerryError } from '../core/errors.js';
import { ensureDir, regularFileProblem, systemErrorWords } from '../core/files.js';
import { Redactor } from '../core/redact.js';
import type { RunEvent, RunSummary } from '../engine/events.js';
import type { StepOutcome } from '../engine/step.js';
import { migrate } from './schema.js';

export const JOURNAL_FILE = 'journal.sqlite';

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted';

/** `interrupted`: started, never ended; `rolled-back`: changed, then undone when the run failed. */
export type RecordedOutcome = StepOutcome | 'interrupted' | 'rolled-back';

export interface RunRecord {
  id: string;
  startedAt: string;
  endedAt?: string;
  command: string;
  fleetFile?: string;
  status: RunStatus;
  summary?: RunSummary;
  /** The interrupted run this one resumes, or whose locks it took over. */
  resumes?: string;
}

export interface RecorderOptions {
  command: string;
  fleetFile?: string;
  /** The interrupted run this one resumes (or takes over): it is marked `interrupted`. */
  resumes?: string;
  /** Applied after the journal's own redactor. */
  redactor?: Redactor;
  /** Called once if a write fails; the recorder then writes nothing more for this run. */
  onError?: (error: unknown) => void;
}

export interface Journal {
  readonly file: string;
  /** An `onEvent` sink for `runPlan`: writes each event before returning; never throws. */
  recorder(runId: string, opts: RecorderOptions): (event: RunEvent) => void;
  /** Newest first. */
  runs(limit?: number): RunRecord[];
  run(id: string): { run: RunRecord; events: RunEvent[] } | undefined;
  /** Per step, from its last `step-end` or rollback; steps never started are absent. */
  outcomes(id: string): Record<string, RecordedOutcome>;
  /**
   * Per step, what its check observed where its apply began, in run `id` or in the runs it
   * resumed, for the steps whose apply began and was not undone since (it was interrupted,
   * or it changed): a resumed run's `prior`.
   */
  observations(id: string): Record<string, unknown>;
  /**
   * The newest run (with `match`, the newest that `match` accepts), when it has no `run-end`
   * and was not resumed since: a crash or a kill stopped it.
   */
  lastUnfinished(match?: (run: RunRecord) => boolean): RunRecord | undefined;
  /** Run `id` and the runs it resumed, oldest first. */
  chain(id: string): RunRecord[];
  close(): void;
}

interface RunRow {
  id: string;
  started_at: string;
  ended_at: string | null;
  command: string;
  fleet_file: string | null;
  status: RunStatus;
  summary_json: string | null;
  resumes: string | null;
}

interface EventRow {
  at: string;
  kind: RunEvent['kind'];
  data_json: string;
}

const JOURNAL_HINT =
  'If the file is damaged, move it aside (Ferry starts a new journal; the old runs stay in the moved file), or point FERRY_STATE_DIR at another directory.';

/**
 * Opens (creating it mode 600, in a directory created mode 700) and migrates the journal.
 * A state directory that cannot be made, or a file that is not a journal, is an error
 * naming the path (`state-dir-unwritable`, `journal-unreadable`): before a run, never during.
 */
export function openJournal(dir: string, redactor: Redactor = new Redactor()): Journal {
  const cannot = ensureDir(dir);
  if (cannot)
    throw new FerryError(
      'state-dir-unwritable',
      `cannot keep the journal in ${dir}: ${cannot}`,
      dir,
      'Set FERRY_STATE_DIR (or XDG_STATE_HOME) to a directory you can write.',
    );
  const file = join(dir, JOURNAL_FILE);
  const odd = regularFileProblem(file, file);
  if (odd && odd.code !== 'missing-file')
    throw new FerryError(
      'journal-unreadable',
      `${file} cannot be used as Ferry's journal: ${odd.reason}`,
      file,
      JOURNAL_HINT,
    );
  let db: Database.Database | undefined;
  try {
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, file);
  } catch (e) {
    db?.close();
    if (e instanceof FerryError) throw e;
    throw new FerryError(
      'journal-unreadable',
      `${file} cannot be used as Ferry's journal: ${/^SQLITE_/.test(String((e as { code?: unknown }).code)) ? (e as Error).message : systemErrorWords(e)}`,
      file,
      JOURNAL_HINT,
    );
  }
  return new SqliteJournal(db, file, redactor);
}

class SqliteJournal implements Journal {
  constructor(
    private readonly db: Database.Database,
    readonly file: string,
    private readonly redactor: Redactor,
  ) {}

  recorder(runId: string, opts: RecorderOptions): (event: RunEvent) => void {
    const redact = (s: string) =>
      opts.redactor ? opts.redactor.redact(this.redactor.redact(s)) : this.redactor.redact(s);
    const id = redact(runId);
    const insertRun = this.db.prepare(
      "INSERT INTO runs (id, started_at, command, fleet_file, status, resumes) VALUES (?, ?, ?, ?, 'running', ?)",
    );
    const interrupted = this.db.prepare("UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'");
    const endRun = this.db.prepare('UPDATE runs SET ended_at = ?, status = ?, summary_json = ? WHERE id = ?');
    const insertEvent = this.db.prepare(
      'INSERT INTO events (run_id, seq, at, kind, step_id, data_json) VALUES (?, ?, ?, ?, ?, ?)',
    );
    let seq = 0;
    let broken = false;
    const write = this.db.transaction((event: RunEvent) => {
      const { at, kind, ...data } = event;
      if (event.kind === 'run-start') {
        const resumes = opts.resumes === undefined ? null : redact(opts.resumes);
        insertRun.run(
          id,
          redact(at),
          redact(opts.command),
          opts.fleetFile === undefined ? null : redact(opts.fleetFile),
          resumes,
        );
        if (resumes !== null) interrupted.run(resumes);
      }
      const stepId = 'stepId' in event ? redact(event.stepId) : null;
      insertEvent.run(id, ++seq, redact(at), kind, stepId, redact(JSON.stringify(data)));
      if (event.kind === 'run-end') {
        const status: RunStatus =
          event.summary.failed > 0 || event.summary.rollbackFailed.length > 0 ? 'failed' : 'succeeded';
        endRun.run(redact(at), status, redact(JSON.stringify(event.summary)), id);
      }
      if (event.kind === 'run-refused') endRun.run(redact(at), 'failed', null, id);
    });
    return (event) => {
      if (broken) return;
      try {
        write(event);
      } catch (e) {
        broken = true;
        opts.onError?.(e);
      }
    };
  }

  runs(limit = 20): RunRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT ?')
      .all(limit) as RunRow[];
    return rows.map(record);
  }

  run(id: string): { run: RunRecord; events: RunEvent[] } | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) return undefined;
    const rows = this.db
      .prepare('SELECT at, kind, data_json FROM events WHERE run_id = ? ORDER BY seq')
      .all(id) as EventRow[];
    return {
      run: record(row),
      events: rows.map((r) => ({ at: r.at, kind: r.kind, ...JSON.parse(r.data_json) }) as RunEvent),
    };
  }

  outcomes(id: string): Record<string, RecordedOutcome> {
    const out: Record<string, RecordedOutcome> = {};
    for (const e of this.run(id)?.events ?? []) {
      if (e.kind === 'step-start') out[e.stepId] = 'interrupted';
      else if (e.kind === 'step-end') out[e.stepId] = e.outcome;
      else if (e.kind === 'rollback-end' && e.ok && out[e.stepId] === 'changed') out[e.stepId] = 'rolled-back';
    }
    return out;
  }

  observations(id: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const r of this.chain(id)) {
      const seen = new Map<string, unknown>();
      const outcomes = this.outcomes(r.id);
      for (const e of this.run(r.id)?.events ?? []) {
        if (e.kind === 'step-checked' && e.needed && e.observed !== undefined) seen.set(e.stepId, e.observed);
        // Undone in this run (its own change, or one a run before it made): nothing to keep.
        if (e.kind === 'rollback-end' && e.ok) delete out[e.stepId];
      }
      for (const [step, observed] of seen) {
        if (outcomes[step] === 'interrupted' || outcomes[step] === 'changed') out[step] = observed;
      }
    }
    return out;
  }

  lastUnfinished(match: (run: RunRecord) => boolean = () => true): RunRecord | undefined {
    // A run refused before its first step (ended, no summary) changed nothing: it hides no earlier one.
    const rows = this.db
      .prepare(
        "SELECT * FROM runs WHERE NOT (status = 'failed' AND summary_json IS NULL) ORDER BY started_at DESC, rowid DESC",
      )
      .all() as RunRow[];
    const newest = rows.map(record).find(match);
    return newest?.status === 'running' ? { ...newest, status: 'interrupted' } : undefined;
  }

  chain(id: string): RunRecord[] {
    const out: RunRecord[] = [];
    for (let at: string | undefined = id; at !== undefined && !out.some((r) => r.id === at);) {
      const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(at) as RunRow | undefined;
      if (!row) break;
      const r = record(row);
      out.unshift(r);
      at = r.resumes;
    }
    return out;
  }

  close(): void {
    this.db.close();
  }
}

function record(row: RunRow): RunRecord {
  const r: RunRecord = { id: row.id, startedAt: row.started_at, command: row.command, status: row.status };
  if (row.ended_at !== null) r.endedAt = row.ended_at;
  if (row.fleet_file !== null) r.fleetFile = row.fleet_file;
  if (row.summary_json !== null) r.summary = JSON.parse(row.summary_json) as RunSummary;
  if (row.resumes !== null) r.resumes = row.resumes;
  return r;
}
