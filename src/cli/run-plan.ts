/**
 * Running a plan, as `apply`, `rollback` and `migrate` do: a session whose transport and
 * lock errors become coded messages, the person's confirmation, every stack's lock taken
 * (or none), the run recorded by the journal with progress lines, the locks released and
 * the summary printed.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { plannedSteps, runPlan } from '../engine/run.js';
import { eventError, type EventError, type RunEvent, type RunSummary } from '../engine/events.js';
import type { Journal } from '../journal/journal.js';
import { FerryError } from '../core/errors.js';
import type { ErrorCode } from '../core/codes.js';
import { systemErrorWords } from '../core/files.js';
import { acquireLock, lockStatus, releaseLock } from '../lock/lock.js';
import { HARDEN_LOCK, type FleetPlan } from '../plans/build.js';
import { progressLine, renderSummary } from '../render/plan.js';
import type { CliIo } from './io.js';
import { openSession, operator, type Session, type SessionFlags } from './session.js';

/** The flags of a command that runs a plan (`apply`, and the commands built like it). */
export interface ApplyFlags extends SessionFlags {
  json?: boolean;
  yes?: boolean;
  resume?: boolean;
  /** Stdin is a terminal a person can answer on (injectable for tests). */
  interactive?: boolean;
}

/** Runs `use` with a session, closed after it (what `use` throws is reported by `main`). */
export async function withSession(
  flags: SessionFlags,
  io: CliIo,
  use: (s: Session) => Promise<number>,
): Promise<number> {
  const s = openSession(flags, io);
  try {
    return await use(s);
  } finally {
    await s.close();
  }
}

/** Some steps of a plan could not be checked (the table says which): nothing was changed (exit 1). */
export function planCheckFailed(nothingChanged: string, again: string): FerryError {
  return new FerryError(
    'plan-check-failed',
    `some steps could not be checked (see the table, or the steps with --json); ${nothingChanged}`,
    'the plan',
    `fix what the errors name, then ${again}`,
  );
}

/** A person said no: nothing was changed (exit 1). */
export function declined(what: string): FerryError {
  return new FerryError(
    'declined',
    `${what} was not confirmed; nothing was changed`,
    'confirmation',
    'Answer y (or yes) to go ahead, or pass --yes once sure.',
  );
}

/** Asks on the terminal; true for "y" or "yes". */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** How a run follows an earlier one that was killed. */
export interface Continuing {
  /** The run whose locks are taken over. */
  takeOver?: string;
  /** The run resumed: its steps' journaled observations are their `prior`. */
  resume?: string;
}

/**
 * Records the run in the journal (before anything changes anywhere, so that a kill at any
 * moment leaves a run to resume), locks, runs with progress lines, unlocks, prints the
 * summary. A lock refused ends the recorded run as refused.
 */
export async function execute(
  s: Session,
  fp: Pick<FleetPlan, 'plan' | 'targets'> & Partial<Pick<FleetPlan, 'hardened'>>,
  command: string,
  flags: { json?: boolean; noSummary?: boolean; onEvent?: (e: RunEvent) => void; keepGoing?: boolean },
  journal: Journal,
  continuing: Continuing = {},
): Promise<RunSummary & { runId: string; firstError?: EventError }> {
  const runId = randomUUID();
  let firstError: EventError | undefined;
  const titles = new Map(fp.plan.steps.map((st) => [st.id, s.redactor.redact(st.title)]));
  const resumes = continuing.resume ?? continuing.takeOver;
  const record = journal.recorder(runId, {
    command,
    fleetFile: s.fleetFile,
    ...(resumes ? { resumes } : {}),
    onError: (e) => s.io.err(`warning journal-write-failed: ${systemErrorWords(e)}\n`),
  });
  const killAt = testKillPoint(s.io.env);
  const onEvent = (e: RunEvent) => {
    record(e);
    if (e.kind === 'step-end' && e.outcome === 'failed') firstError ??= e.error;
    flags.onEvent?.(e);
    const failure = (e.kind === 'step-end' && e.outcome === 'failed') || (e.kind === 'rollback-end' && !e.ok);
    const line = flags.json && !failure ? undefined : progressLine(e, titles);
    if (line !== undefined) s.io.err(`${line}\n`);
    if (killAt?.(e)) process.kill(process.pid, 'SIGKILL');
  };
  onEvent({ at: new Date().toISOString(), kind: 'run-start', runId, steps: plannedSteps(fp.plan, s.redactor) });
  let locked: Locked;
  try {
    locked = await lockAll(s, fp, runId, command, resumes);
  } catch (e) {
    onEvent({ at: new Date().toISOString(), kind: 'run-refused', error: eventError(e, s.redactor) });
    throw e;
  }
  let summary: RunSummary;
  try {
    summary = await runPlan(fp.plan, {
      ...(continuing.resume ? { prior: journal.observations(continuing.resume) } : {}),
      transports: s.transports,
      redactor: s.redactor,
      runId,
      started: true,
      onEvent,
      ...(flags.keepGoing ? { keepGoing: true } : {}),
    });
  } finally {
    await unlockAll(s, locked, runId);
  }
  printSummary(s, summary, runId, flags);
  return { ...summary, runId, ...(firstError ? { firstError } : {}) };
}

/**
 * One run of a command made of several (recover's deploy, restore and dns): executed quietly
 * (the command prints its own report), resuming with --resume the last unfinished run of
 * the same `command`; the first failure thrown as `runFailure` puts it.
 */
export async function executeStage(
  s: Session,
  fp: Pick<FleetPlan, 'plan' | 'targets'> & Partial<Pick<FleetPlan, 'hardened'>>,
  command: string,
  flags: { json?: boolean; resume?: boolean },
  journal: Journal,
  failure: { fallback: ErrorCode; place: string; message: (why: string | undefined) => string; hint: string },
): Promise<RunSummary & { runId: string }> {
  const resumed = flags.resume ? journal.lastUnfinished((r) => r.command === command)?.id : undefined;
  const summary = await execute(
    s,
    fp,
    command,
    { ...(flags.json ? { json: true } : {}), noSummary: true },
    journal,
    resumed ? { resume: resumed } : {},
  );
  if (summary.failed > 0) throw runFailure(summary, failure.fallback, failure.place, failure.message, failure.hint);
  return summary;
}

/**
 * The error a command ends with when its run failed: the first failed step's code (else
 * `fallback`), its message as `message` puts it, and its hint followed by `hint`.
 */
export function runFailure(
  summary: { firstError?: EventError },
  fallback: ErrorCode,
  place: string,
  message: (why: string | undefined) => string,
  hint: string,
): FerryError {
  const err = summary.firstError;
  return new FerryError(
    (err?.code ?? fallback) as ErrorCode,
    message(err?.message),
    place,
    `${err?.hint ?? ''} ${hint}`.trim(),
  );
}

/**
 * For the crash tests: `FERRY_TEST_KILL_AT=STEP:EVENT` (EVENT one of start, checked, applied,
 * verified, end, rollback) makes this process kill itself with SIGKILL right after that
 * event of that step was recorded, as a crash or a `kill -9` at that instant would.
 */
function testKillPoint(env: CliIo['env']): ((e: RunEvent) => boolean) | undefined {
  const at = env.FERRY_TEST_KILL_AT;
  if (!at) return undefined;
  const cut = at.lastIndexOf(':');
  const [step, event] = [at.slice(0, cut), at.slice(cut + 1)];
  const kinds: Record<string, RunEvent['kind']> = {
    start: 'step-start',
    checked: 'step-checked',
    applied: 'step-applied',
    verified: 'step-verified',
    end: 'step-end',
    rollback: 'rollback-end',
  };
  return (e) => e.kind === kinds[event] && 'stepId' in e && e.stepId === step;
}

function printSummary(
  s: Session,
  summary: RunSummary,
  runId: string,
  flags: { json?: boolean; noSummary?: boolean },
): void {
  if (flags.noSummary) s.io.err(renderSummary(summary, runId));
  else if (flags.json)
    s.io.out(
      `${JSON.stringify({ changed: summary.changed, ok: summary.ok, failed: summary.failed, skipped: summary.skipped, run: runId })}\n`,
    );
  else s.io.out(renderSummary(summary, runId));
}

type Locked = { stack: string; server: string; sudo: boolean }[];

/**
 * Takes every stack's lock, or none: on a refusal the locks already taken are released.
 * With --resume, a lock still held by the interrupted run is taken over.
 */
async function lockAll(
  s: Session,
  fp: Pick<FleetPlan, 'targets'> & Partial<Pick<FleetPlan, 'hardened'>>,
  runId: string,
  command: string,
  resumeOf: string | undefined,
): Promise<Locked> {
  const taken: Locked = [];
  try {
    const locks = [
      ...fp.targets.map((t) => ({ stack: t.stack.def.name, server: t.server })),
      ...(fp.hardened ?? []).map((server) => ({ stack: HARDEN_LOCK, server })),
    ];
    for (const t of locks) {
      const stack = t.stack;
      const sudo = t.server.sudo ?? false;
      const tr = s.transports(t.server.name);
      const owner = { run: runId, by: operator(), at: new Date().toISOString(), command };
      if (resumeOf) {
        const held = await lockStatus(tr, stack, sudo);
        if (held !== undefined && held !== 'unowned' && held.run === resumeOf)
          await releaseLock(tr, stack, resumeOf, sudo);
      }
      await acquireLock(tr, stack, owner, sudo);
      taken.push({ stack, server: t.server.name, sudo });
    }
  } catch (e) {
    await unlockAll(s, taken, runId);
    throw e;
  }
  return taken;
}

/** Releases the locks a run took; one that cannot be released is a warning with the command that frees it. */
async function unlockAll(s: Session, locked: Locked, runId: string): Promise<void> {
  for (const l of locked) {
    try {
      await releaseLock(s.transports(l.server), l.stack, runId, l.sudo);
    } catch (e) {
      s.io.err(
        `warning lock-not-released: stack ${l.stack} on ${l.server}: ${e instanceof Error ? e.message : String(e)}\n  hint: \`ferry lock release ${l.stack} --id ${runId}\`\n`,
      );
    }
  }
}
