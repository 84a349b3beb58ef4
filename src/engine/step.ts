/**
 * A step is one unit of change: `check` observes (no side effects) and predicts the change,
 * `apply` does it, `verify` proves it, `rollback` undoes it. The runner knows nothing else.
 *
 * The contract:
 * - `check` returns what it observed (`observed`). The engine passes that observation to
 *   `apply`, `verify` and `rollback`, and writes it (redacted, as JSON) into the journal.
 *   A step keeps no state of its own between its phases, so that after a kill, `--resume`
 *   and rollback work from what was journaled, not from a dead process's memory.
 * - `rollback` may run after an `apply` that stopped half-way (it threw, or the process was
 *   killed): it decides from the observation and from what it reads on the host again.
 * - A step acts on its `host`, and may reach the hosts it names in `reaches` (a migration's
 *   source, while it acts on the target); `ctx.on(name)` gives their transports, and no
 *   other host can be reached from a step.
 * - Observations hold facts (ids, hashes, names, flags), never secret values: they are
 *   redacted when journaled, and a resumed run reads them back redacted.
 */
import type { Redactor } from '../core/redact.js';
import type { Transport } from '../transport/transport.js';

/** Plans list phases in this order. */
export const PHASES = ['prepare', 'transfer', 'deploy', 'proxy', 'verify'] as const;
export type Phase = (typeof PHASES)[number];

/** `ok`: nothing to change; `skipped`: never started because the run stopped. */
export type StepOutcome = 'ok' | 'changed' | 'failed' | 'skipped';

/** A difference a person can read; never secret values. */
export interface Change {
  summary: string;
  before?: string;
  after?: string;
}

/** For the markdown runbook. Commands are rendered shell lines; the renderer redacts them. */
export interface StepDoc {
  purpose: string;
  commands: string[];
  verify: string;
  undo: string;
}

export interface StepContext {
  /** The transport of the step's own `host`. */
  transport: Transport;
  /** The transport of `host` or of a host the step names in `reaches`; any other host throws. */
  on(host: string): Transport;
  redactor: Redactor;
  /**
   * On `--resume`: what this step's check observed in the run being resumed, when its
   * apply began there (read back from the journal). A step whose undo depends on the state
   * before its first apply (the release that ran before) keeps that state from here.
   */
  prior?: unknown;
  /**
   * Says that `bytes` of `kind` crossed between machines for this step (its apply); the run
   * records it (a `step-transferred` event), so that reports count it across resumed runs.
   */
  transferred(kind: TransferKind, bytes: number): void;
}

/** What crossed between machines, by kind, for a run's report. */
export const TRANSFER_KINDS = ['volumes', 'databases', 'replication', 'images', 'release'] as const;
export type TransferKind = (typeof TRANSFER_KINDS)[number];

export interface CheckResult<O = unknown> {
  needed: boolean;
  change?: Change;
  /** What was observed; a step that declares an observation type always returns one. */
  observed?: O;
}

export interface VerifyResult {
  ok: boolean;
  message?: string;
}

export interface Step<O = unknown> {
  /** Stable and unique in a plan, e.g. `shop/upload/compose.yml`. */
  id: string;
  /** The server the step acts on. */
  host: string;
  /** Other servers the step reaches (reads from, or streams to `host` from). */
  reaches?: string[];
  phase: Phase;
  title: string;
  dependsOn: string[];
  doc(): StepDoc;
  /** No side effects; predicts the change and returns what it observed. */
  check(ctx: StepContext): Promise<CheckResult<O>>;
  apply(ctx: StepContext, observed: O): Promise<void>;
  verify(ctx: StepContext, observed: O): Promise<VerifyResult>;
  /** Undoes `apply` (whole or partial), from what `check` observed. */
  rollback(ctx: StepContext, observed: O): Promise<void>;
  /**
   * Only records something (a marker) that no later step's check reads: a check that
   * fails after it is an error in a preview, not put off until the step runs.
   */
  recordOnly?: boolean;
  /**
   * When this step's rollback fails, the steps before it are not rolled back: undoing them
   * is safe only once this one is undone (e.g. a migration's target served writes, and the
   * source must not serve again until they are carried back).
   */
  holdsRollback?: boolean;
}

/** What a step's identity in a plan is made of; step factories take it whole. */
export interface StepPlace {
  id: string;
  dependsOn: string[];
}

/**
 * A copy of `step` in another place of a plan (its id, phase or dependencies), for a planner
 * that reuses steps another planner built: planners never change a step once it is built.
 */
export function withPlace<S extends Pick<Step, 'id' | 'phase' | 'dependsOn'>>(
  step: S,
  place: Partial<Pick<Step, 'id' | 'phase' | 'dependsOn'>>,
): S {
  return { ...step, ...place };
}
