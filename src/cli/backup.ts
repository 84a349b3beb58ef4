/**
 * `ferry backup run|list|drill|status`: backups of a stack with restic, planned and
 * journaled like every run (`run`), read back (`list`, `status`) and proven by a restore
 * into scratch containers (`drill`). A failure is an error with its code, the host and a
 * hint: a backup is never skipped without a word.
 */
import { randomBytes } from 'node:crypto';
import { FerryError } from '../core/errors.js';
import { makePlan } from '../engine/plan.js';
import { openJournal } from '../journal/journal.js';
import { stateDir } from '../state/dir.js';
import { backupSteps } from '../backup/steps.js';
import { drill, type DrillReport } from '../backup/drill.js';
import { recordDrill } from '../backup/metrics.js';
import { calendarsOf } from '../backup/schedule.js';
import { stackSnapshots, tagOf, type Snapshot } from '../backup/run.js';
import type { CliIo } from './io.js';
import { execute, runFailure, withSession } from './run-plan.js';
import { operator, type Session, type SessionFlags } from './session.js';
import { acquireLock, releaseLock } from '../lock/lock.js';
import { scheduleProblem, type ScheduleState } from '../backup/schedule-status.js';
import { proofLines } from '../backup/manifest.js';
import { DEFAULT_CHECK_READ } from '../model/backup.js';
import { readBackupFacts } from '../inventory/live/probes/backups.js';
import { backedUp, backupTarget, readPassword, repositoryOf } from './backup-input.js';

export interface BackupFlags extends SessionFlags {
  json?: boolean;
  repository?: string;
}

/** A run id that sorts by time: `20261203T001500Z-1a2b3c`. */
export const newRunId = (now = new Date()): string =>
  `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;

/** An error of a command on `host`, kept with its code and hint, placed on the host. */
function onHost(e: unknown, host: string): unknown {
  if (e instanceof FerryError && e.place === 'a step of the plan')
    return new FerryError(e.code, e.message, `host ${host}`, e.hint, e.exit);
  return e;
}

export function backupRunCommand(stack: string, flags: BackupFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const b = backupTarget(s, stack);
    const password = readPassword(s, b.def.password!, stack);
    const run = newRunId();
    const steps = backupSteps({
      stack,
      server: b.server.name,
      sudo: b.server.sudo === true,
      password,
      repos: b.repos,
      sources: b.sources,
      run,
      retention: b.def.retention,
      calendars: calendarsOf(b.def),
      ...(b.def.checkRead !== undefined ? { checkRead: b.def.checkRead } : {}),
    });
    const journal = openJournal(stateDir(io.env), s.redactor);
    try {
      const summary = await execute(
        s,
        { plan: makePlan(steps), targets: [{ stack: b.stack, server: b.server }] },
        `backup run ${stack}`,
        { ...(flags.json ? { json: true } : {}), keepGoing: true },
        journal,
      );
      // One repository that fails does not keep the run from the others.
      const written = b.repos.filter((r) => summary.outcomes[`${stack}/backup/run/${r.name}`] === 'changed');
      if (summary.failed === 0) {
        if (!flags.json) io.out(`backup run ${run} of ${stack}: written to ${written.map((r) => r.name).join(', ')}\n`);
        return 0;
      }
      const kept = written.length ? ` (written to ${written.map((r) => r.name).join(', ')} all the same)` : '';
      throw runFailure(
        summary,
        'restic-failed',
        `host ${b.server.name}`,
        (why) => `${why ?? `the backup of ${stack} failed`}${kept}`,
        `\`ferry runs show ${summary.runId}\` has the whole run.`,
      );
    } finally {
      journal.close();
    }
  });
}

interface RunRow {
  repository: string;
  run: string;
  time: string;
  kinds: string[];
  complete: boolean;
  /** A run of one kind: when the oldest entry it carried over from an earlier run was backed up. */
  oldest?: string;
}

/** Snapshots grouped by backup run, newest first; a run without its manifest is incomplete. */
export function runsOf(repository: string, snaps: Snapshot[]): RunRow[] {
  const runs = new Map<string, RunRow>();
  for (const s of snaps) {
    const run = tagOf(s, 'run');
    if (!run) continue;
    const row = runs.get(run) ?? { repository, run, time: s.time, kinds: [], complete: false };
    const kind = tagOf(s, 'kind') ?? '?';
    if (kind === 'manifest') {
      row.complete = true;
      const oldest = tagOf(s, 'oldest');
      if (oldest) row.oldest = oldest;
    } else row.kinds.push(`${kind} ${tagOf(s, 'source') ?? ''}`.trim());
    if (s.time < row.time) row.time = s.time;
    runs.set(run, row);
  }
  return [...runs.values()].sort((a, b) => b.time.localeCompare(a.time));
}

type RepoError = { code: string; message: string; place: string; hint: string };
/** One repository's runs, or why it could not be read. */
type RepoRuns = { repository: string; runs: RunRow[]; error?: undefined } | { repository: string; error: RepoError };

/** The runs of every repository of `stack`: one that cannot be read does not hide the others. */
async function repoRuns(s: Session, stack: string): Promise<RepoRuns[]> {
  const b = backupTarget(s, stack);
  const t = s.transports(b.server.name);
  const out: RepoRuns[] = [];
  for (const r of b.repos) {
    try {
      const snaps = await stackSnapshots(t, r, b.server.sudo === true, (x) => s.redactor.redact(x));
      out.push({ repository: r.name, runs: runsOf(r.name, snaps) });
    } catch (e) {
      const f = onHost(e, b.server.name);
      if (!(f instanceof FerryError)) throw f;
      out.push({ repository: r.name, error: { code: f.code, message: f.message, place: f.place, hint: f.hint } });
    }
  }
  return out;
}

const renderError = (e: RepoError): string => `error ${e.code}: ${e.message}\n  at ${e.place}\n  hint: ${e.hint}\n`;

export function backupListCommand(stack: string, flags: BackupFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const read = await repoRuns(s, stack);
    const rows = read.flatMap((r) => (r.error ? [] : r.runs));
    const errors = read.flatMap((r) => (r.error ? [{ repository: r.repository, error: r.error }] : []));
    if (flags.json) io.out(`${JSON.stringify({ stack, runs: rows, ...(errors.length ? { errors } : {}) }, null, 2)}\n`);
    else {
      if (rows.length === 0 && errors.length === 0) io.out(`no backups of ${stack} yet\n`);
      for (const r of rows)
        io.out(
          `${r.time.slice(0, 19)}Z  ${r.run}  ${r.repository}  ${r.complete ? '' : '(incomplete) '}${r.kinds.join(', ')}${r.oldest ? ` (the rest carried over, backed up from ${r.oldest.slice(0, 19)}Z)` : ''}\n`,
        );
      for (const e of errors) io.err(`${e.repository}: ${renderError(e.error)}`);
    }
    return errors.length ? 1 : 0;
  });
}

export function renderDrill(r: DrillReport): string {
  return (
    (proofLines(r.proofs) || '\n') +
    `drill of ${r.stack} from ${r.repository}, run ${r.run}: ${r.ok ? 'every row, key and file came back' : 'FAILED'}; ` +
    `took ${(r.duration_ms / 1000).toFixed(1)} s; the data was ${Math.round(r.data_age_ms / 60_000)} min old` +
    `${r.left.length > 0 ? `; left behind: ${r.left.join(', ')}` : ''}\n`
  );
}

export function backupDrillCommand(stack: string, flags: BackupFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const b = backupTarget(s, stack);
    const repo = repositoryOf(b, flags.repository);
    let report: DrillReport;
    const t = s.transports(b.server.name);
    const sudo = b.server.sudo === true;
    const at = Math.floor(Date.now() / 1000);
    // Monitoring sees every drill's outcome (BackupDrillFailed), as it sees a scheduled one's.
    const record = (ok: boolean) => recordDrill(t, { stack, repository: repo.name, at, ok }, sudo).catch(() => false);
    // Under the stack's lock, as a scheduled drill is: two drills share scratch names.
    const run = `drill-${newRunId()}`;
    await acquireLock(
      t,
      stack,
      { run, by: operator(), at: new Date().toISOString(), command: `backup drill ${stack}` },
      sudo,
    );
    try {
      report = await drill({ t, stack, repo, sudo, redactor: s.redactor });
    } catch (e) {
      await record(false);
      throw onHost(e, b.server.name);
    } finally {
      await releaseLock(t, stack, run, sudo);
    }
    await record(report.ok);
    const failed = report.ok
      ? undefined
      : new FerryError(
          'backup-drill-failed',
          `the restore of ${stack} from ${repo.name} does not match its manifest: ${report.proofs.filter((p) => !p.ok).length} proof(s) failed${report.left.length ? `, ${report.left.length} thing(s) left behind` : ''}`,
          `host ${b.server.name}`,
          `Read the FAIL lines${flags.json ? ' (the proofs whose ok is false)' : ' above'}; back up again and drill again, and keep the failing run for a look (\`ferry backup list\`).`,
        );
    // With --json, one document: the report, and the error when the drill failed (its proofs say which).
    if (flags.json) {
      const error = failed && { code: failed.code, message: failed.message, place: failed.place, hint: failed.hint };
      io.out(`${JSON.stringify({ ...report, ...(error ? { error } : {}) }, null, 2)}\n`);
      return failed ? failed.exit : 0;
    }
    io.out(renderDrill(report));
    if (failed) throw failed;
    return 0;
  });
}

interface StatusRow {
  stack: string;
  repository: string;
  last?: string;
  age_ms?: number;
  error?: RepoError;
}

interface ScheduleRow {
  stack: string;
  /** The calendar expression; null: none configured. */
  schedule: string | null;
  timer?: string;
  next?: string;
  last_result?: string;
  interval_ms?: number;
  problem?: string;
  /** The drill timer, when `backups.drill` is set. */
  drill?: JobRow;
  /** The repository check timer, when `backups.check` is set. */
  check?: JobRow & { read: string };
  /** The timers of kinds backed up on a calendar of their own. */
  kinds?: (JobRow & { kind: string })[];
}

interface JobRow {
  calendar: string;
  timer: string;
  next?: string;
  last_result?: string;
  problem?: string;
}

/** A timer the server does not have. */
const NO_TIMER: ScheduleState = { timer: 'inactive' };

const timerFields = (state: ScheduleState) => ({
  timer: state.timer,
  ...(state.next ? { next: state.next } : {}),
  ...(state.lastResult ? { last_result: state.lastResult } : {}),
});

/** The stack's backup and drill timers as its server has them (the backups probe), against its newest good backup. */
async function scheduleRow(s: Session, name: string, rows: StatusRow[]): Promise<ScheduleRow> {
  const b = backupTarget(s, name);
  const { schedule, drill, check } = b.def;
  if (schedule === undefined && drill === undefined && check === undefined) return { stack: name, schedule: null };
  const now = new Date();
  const facts = await readBackupFacts(s.transports(b.server.name), b.server.sudo === true, now);
  const lastGood = rows
    .filter((x) => x.stack === name && x.last)
    .map((x) => x.last!)
    .sort()
    .pop();
  const backup = facts.schedules[name] ?? NO_TIMER;
  const problem = schedule !== undefined ? scheduleProblem(backup, lastGood, now.getTime()) : undefined;
  const job = (calendar: string | undefined, state: ScheduleState | undefined, j: 'drill' | 'check') => {
    if (calendar === undefined) return undefined;
    const p = scheduleProblem(state ?? NO_TIMER, undefined, now.getTime(), j);
    return { calendar, ...timerFields(state ?? NO_TIMER), ...(p ? { problem: p } : {}) };
  };
  const drillRow = job(drill, facts.drillSchedules[name], 'drill');
  const checkRow = job(check, facts.checkSchedules[name], 'check');
  // A kind's timer, like a drill's: a failed run is a problem until one of its own passes.
  const kinds = Object.entries(b.def.kindSchedules ?? {}).map(([kind, calendar]) => {
    const state = facts.schedules[`${name}.${kind}`] ?? NO_TIMER;
    const p = scheduleProblem(state, undefined, now.getTime(), 'backup');
    return { kind, calendar, ...timerFields(state), ...(p ? { problem: p } : {}) };
  });
  return {
    stack: name,
    schedule: schedule ?? null,
    ...(schedule !== undefined
      ? {
          ...timerFields(backup),
          ...(backup.intervalMs !== undefined ? { interval_ms: backup.intervalMs } : {}),
          ...(problem ? { problem } : {}),
        }
      : {}),
    ...(drillRow ? { drill: drillRow } : {}),
    ...(checkRow ? { check: { ...checkRow, read: b.def.checkRead ?? DEFAULT_CHECK_READ } } : {}),
    ...(kinds.length > 0 ? { kinds } : {}),
  };
}

function renderScheduleRow(r: ScheduleRow): string {
  const next = (at: string | undefined) => (at ? `next run ${at.slice(0, 16)}Z` : 'no next run');
  const line =
    r.schedule === null
      ? `${r.stack}  no schedule: backed up only by \`ferry backup run\` (set backups.schedule)\n`
      : `${r.stack}  schedule ${r.schedule}: ${next(r.next)}${r.problem ? `; PROBLEM: ${r.problem} (journalctl -u ferry-backup-${r.stack}.service)` : ''}\n`;
  const job = (j: 'drill' | 'check', d: JobRow | undefined, what = '') =>
    d
      ? `${r.stack}  ${j} ${d.calendar}${what}: ${next(d.next)}${d.problem ? `; PROBLEM: ${d.problem} (journalctl -u ferry-${j}-${r.stack}.service)` : ''}\n`
      : '';
  const kinds = (r.kinds ?? []).map(
    (k) =>
      `${r.stack}  schedule ${k.kind} ${k.calendar}: ${next(k.next)}${k.problem ? `; PROBLEM: ${k.problem} (journalctl -u ferry-backup-${r.stack}.${k.kind}.service)` : ''}\n`,
  );
  return `${line}${kinds.join('')}${job('drill', r.drill)}${job('check', r.check, r.check ? ` (reads ${r.check.read} of the packs)` : '')}`;
}

async function repoRows(s: Session, name: string): Promise<StatusRow[]> {
  return (await repoRuns(s, name)).map((r) => {
    if (r.error) return { stack: name, repository: r.repository, error: r.error };
    const last = r.runs.find((x) => x.complete);
    // The data's age: a run of one kind carried the others over from older runs.
    const at = last?.oldest ?? last?.time;
    return {
      stack: name,
      repository: r.repository,
      ...(at ? { last: at, age_ms: Date.now() - Date.parse(at) } : {}),
    };
  });
}

const renderRepoRow = (r: StatusRow): string =>
  r.error
    ? `${r.stack}  ${r.repository}  ${renderError(r.error)}`
    : `${r.stack}  ${r.repository}  ${r.last ? `last good backup ${r.last.slice(0, 19)}Z, ${Math.round(r.age_ms! / 60_000)} min ago` : 'no backup yet'}\n`;

export function backupStatusCommand(stacks: string[], flags: BackupFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const names = stacks.length > 0 ? stacks : backedUp(s).map((x) => x.def.name);
    const rows: StatusRow[] = [];
    const schedules: ScheduleRow[] = [];
    for (const name of names) {
      const mine = await repoRows(s, name);
      rows.push(...mine);
      schedules.push(await scheduleRow(s, name, mine));
    }
    if (flags.json) io.out(`${JSON.stringify({ backups: rows, schedules }, null, 2)}\n`);
    else
      for (const name of names) {
        for (const r of rows.filter((x) => x.stack === name)) io.out(renderRepoRow(r));
        io.out(renderScheduleRow(schedules.find((x) => x.stack === name)!));
      }
    return rows.some((r) => r.error || !r.last) ||
      schedules.some((x) => x.problem || x.drill?.problem || x.check?.problem || x.kinds?.some((k) => k.problem))
      ? 1
      : 0;
  });
}
