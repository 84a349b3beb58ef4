/**
 * Runs a plan: each step starts as soon as its dependencies ended ok or changed, in plan
 * order, at most `maxPerHost` at once on a host, hosts in parallel. A failed step is
 * rolled back at once; the run then starts nothing more, lets running steps finish and,
 * with `rollbackOnFailure`, rolls back every changed step, last completed first. A resumed
 * run counts as changed the steps the interrupted run changed (its `prior`): a failure
 * undoes the whole of the work, not only the resumed part (also the interrupted run's steps
 * it never reached). A step that `holdsRollback` and whose rollback fails keeps the steps
 * before it as they are.
 */
import { randomUUID } from 'node:crypto';
import type { Redactor } from '../core/redact.js';
import type { Transport } from '../transport/transport.js';
import { redactValue, stepContext } from './context.js';
import {
  eventError,
  redactChange,
  type EventError,
  type PlannedStep,
  type RunEvent,
  type RunSummary,
} from './events.js';
import type { Plan } from './plan.js';
import type { Step, StepContext, StepOutcome } from './step.js';

export interface RunOptions {
  transports: (host: string) => Transport;
  redactor: Redactor;
  /** Called in order, synchronously; it must not throw. */
  onEvent: (event: RunEvent) => void;
  /** Default 4. */
  maxPerHost?: number;
  /** Default true. */
  rollbackOnFailure?: boolean;
  /**
   * A failed step stops only the steps that depend on it, and nothing is undone: for plans
   * whose steps are independent writes never rolled back (a backup to several repositories).
   */
  keepGoing?: boolean;
  /** Default: the clock. */
  now?: () => Date;
  /** Default: a random UUID. */
  runId?: string;
  /**
   * On `--resume`: per step id, what its check observed in the run being resumed, when its
   * apply began there (`Journal.observations`). Given to the step's context as `prior`.
   */
  prior?: Record<string, unknown>;
  /** The caller emitted `run-start` already (it records a run before taking its locks). */
  started?: boolean;
}

type Emit = (event: DistributiveOmit<RunEvent, 'at'>) => void;
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

interface Run {
  opts: RunOptions;
  emit: Emit;
  ms: () => number;
  outcomes: Map<string, StepOutcome>;
  /** Changed steps in order of completion, with what their check observed; `prior`: done by the interrupted run. */
  changed: { step: Step; observed: unknown; prior?: true }[];
  running: Map<string, number>;
  stopped: boolean;
  rolledBack: string[];
  rollbackFailed: string[];
  rollbackStoppedAt?: string;
}

/** What `run-start` announces: the plan's steps, titles redacted. */
export function plannedSteps(plan: Plan, redactor: Redactor): PlannedStep[] {
  return plan.steps.map((s) => ({ id: s.id, host: s.host, phase: s.phase, title: redactor.redact(s.title) }));
}

export async function runPlan(plan: Plan, opts: RunOptions): Promise<RunSummary> {
  const now = opts.now ?? (() => new Date());
  const emit: Emit = (e) => opts.onEvent({ at: now().toISOString(), ...e } as RunEvent);
  const run: Run = {
    opts,
    emit,
    ms: () => now().getTime(),
    outcomes: new Map(),
    changed: [],
    running: new Map(),
    stopped: false,
    rolledBack: [],
    rollbackFailed: [],
  };
  if (!opts.started)
    emit({ kind: 'run-start', runId: opts.runId ?? randomUUID(), steps: plannedSteps(plan, opts.redactor) });
  await schedule(plan, run);
  for (const s of plan.steps) {
    if (run.outcomes.has(s.id)) continue;
    run.outcomes.set(s.id, 'skipped');
    emit({ kind: 'step-end', stepId: s.id, outcome: 'skipped', durationMs: 0 });
  }
  if (run.stopped && !opts.keepGoing && (opts.rollbackOnFailure ?? true)) {
    for (const c of undoOrder(plan, run).reverse()) {
      const ok = await rollback(c.step, c.observed, run);
      if (!ok && c.step.holdsRollback) {
        run.rollbackStoppedAt = c.step.id;
        break;
      }
    }
  }
  const summary = summarize(plan, run);
  emit({ kind: 'run-end', summary });
  return summary;
}

/**
 * What a failed run undoes, first done first: the steps the interrupted run began (in plan
 * order, also those this run never got back to because it failed before them: a stopped
 * stack, a swapped volume), then this run's own changes in the order they were made.
 */
function undoOrder(plan: Plan, run: Run): { step: Step; observed: unknown }[] {
  const own = run.changed.filter((c) => !c.prior);
  const prior = run.opts.prior;
  if (!prior) return own;
  const seen = new Set([...own.map((c) => c.step.id), ...run.rolledBack, ...run.rollbackFailed]);
  const before = plan.steps.filter((s) => s.id in prior && !seen.has(s.id));
  return [...before.map((step) => ({ step, observed: prior[step.id] })), ...own];
}

async function schedule(plan: Plan, run: Run): Promise<void> {
  const active = new Map<string, Promise<void>>();
  for (;;) {
    for (const s of startable(plan, run, active)) {
      run.running.set(s.host, (run.running.get(s.host) ?? 0) + 1);
      const done = runStep(s, run).finally(() => {
        run.running.set(s.host, (run.running.get(s.host) ?? 1) - 1);
        active.delete(s.id);
      });
      active.set(s.id, done);
    }
    if (active.size === 0) return;
    await Promise.race(active.values());
  }
}

function startable(plan: Plan, run: Run, active: Map<string, Promise<void>>): Step[] {
  if (run.stopped && !run.opts.keepGoing) return [];
  const limit = run.opts.maxPerHost ?? 4;
  const taken = new Map(run.running);
  const out: Step[] = [];
  for (const s of plan.steps) {
    if (run.outcomes.has(s.id) || active.has(s.id)) continue;
    if ((taken.get(s.host) ?? 0) >= limit) continue;
    if (!s.dependsOn.every((d) => run.outcomes.get(d) === 'ok' || run.outcomes.get(d) === 'changed')) continue;
    taken.set(s.host, (taken.get(s.host) ?? 0) + 1);
    out.push(s);
  }
  return out;
}

function context(step: Step, run: Run): StepContext {
  return stepContext(step, run.opts.transports, run.opts.redactor, run.opts.prior?.[step.id], (transfer, bytes) => {
    if (Number.isFinite(bytes) && bytes > 0) run.emit({ kind: 'step-transferred', stepId: step.id, transfer, bytes });
  });
}

/** Never rejects: every failure becomes the step's outcome. */
async function runStep(step: Step, run: Run): Promise<void> {
  const started = run.ms();
  run.emit({ kind: 'step-start', stepId: step.id, host: step.host });
  const { outcome, error, observed } = await attempt(step, run);
  run.outcomes.set(step.id, outcome);
  if (outcome === 'changed') run.changed.push({ step, observed });
  if (outcome === 'failed') run.stopped = true;
  const end: DistributiveOmit<RunEvent, 'at'> = {
    kind: 'step-end',
    stepId: step.id,
    outcome,
    durationMs: run.ms() - started,
  };
  if (error) end.error = error;
  run.emit(end);
}

type Attempt = { outcome: StepOutcome; error?: EventError; observed?: unknown };

async function attempt(step: Step, run: Run): Promise<Attempt> {
  const { redactor } = run.opts;
  let ctx: StepContext;
  let needed: boolean;
  let observed: unknown;
  try {
    ctx = context(step, run);
    const checked = await step.check(ctx);
    ({ needed, observed } = checked);
    const change = checked.change ? { change: redactChange(checked.change, redactor) } : {};
    const seen = observed === undefined ? {} : { observed: redactValue(observed, redactor) };
    run.emit({ kind: 'step-checked', stepId: step.id, needed, ...change, ...seen });
  } catch (e) {
    return { outcome: 'failed', error: eventError(e, redactor) };
  }
  if (!needed) {
    // Done by the interrupted run this one resumes: undone with the rest if the run fails.
    if (run.opts.prior && step.id in run.opts.prior)
      run.changed.push({ step, observed: run.opts.prior[step.id], prior: true });
    return { outcome: 'ok', observed };
  }
  let error: EventError;
  try {
    await step.apply(ctx, observed);
    run.emit({ kind: 'step-applied', stepId: step.id });
    const v = await step.verify(ctx, observed);
    const message = v.message === undefined ? undefined : redactor.redact(v.message);
    run.emit(
      message === undefined
        ? { kind: 'step-verified', stepId: step.id, ok: v.ok }
        : { kind: 'step-verified', stepId: step.id, ok: v.ok, message },
    );
    if (v.ok) return { outcome: 'changed', observed };
    error = verifyFailed(step, message);
  } catch (e) {
    error = eventError(e, redactor);
  }
  await rollback(step, observed, run);
  return { outcome: 'failed', error, observed };
}

function verifyFailed(step: Step, message: string | undefined): EventError {
  return {
    code: 'verify-failed',
    message: `${step.host}: ${step.id}: verification failed${message ? `: ${message}` : ''}`,
    hint: 'the step was rolled back; look at the host to see why the change did not hold, then run apply again',
  };
}

async function rollback(step: Step, observed: unknown, run: Run): Promise<boolean> {
  run.emit({ kind: 'rollback-start', stepId: step.id });
  try {
    await step.rollback(context(step, run), observed);
    run.rolledBack.push(step.id);
    run.emit({ kind: 'rollback-end', stepId: step.id, ok: true });
    return true;
  } catch (e) {
    run.rollbackFailed.push(step.id);
    run.emit({ kind: 'rollback-end', stepId: step.id, ok: false, error: eventError(e, run.opts.redactor) });
    return false;
  }
}

function summarize(plan: Plan, run: Run): RunSummary {
  const summary: RunSummary = {
    changed: 0,
    ok: 0,
    failed: 0,
    skipped: 0,
    outcomes: {},
    rolledBack: run.rolledBack,
    rollbackFailed: run.rollbackFailed,
    ...(run.rollbackStoppedAt ? { rollbackStoppedAt: run.rollbackStoppedAt } : {}),
  };
  for (const s of plan.steps) {
    const outcome = run.outcomes.get(s.id) ?? 'skipped';
    summary.outcomes[s.id] = outcome;
    summary[outcome] += 1;
  }
  return summary;
}
