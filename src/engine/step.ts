/**
 * A step is one unit of change on one host: `check` predicts (no side effects), `apply`
 * does it, `verify` proves it, `rollback` undoes it. The runner knows nothing else.
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
  transport: Transport;
  redactor: Redactor;
}

export interface CheckResult {
  needed: boolean;
  change?: Change;
}

export interface VerifyResult {
  ok: boolean;
  message?: string;
}

export interface Step {
  /** Stable and unique in a plan, e.g. `shop/upload/compose.yml`. */
  id: string;
  /** The server the step acts on. */
  host: string;
  phase: Phase;
  title: string;
  dependsOn: string[];
  doc(): StepDoc;
  /** No side effects; predicts the change. */
  check(ctx: StepContext): Promise<CheckResult>;
  apply(ctx: StepContext): Promise<void>;
  verify(ctx: StepContext): Promise<VerifyResult>;
  /** Undoes `apply`, from what `check` saw. */
  rollback(ctx: StepContext): Promise<void>;
  /**
   * Only records something (a marker) that no later step's check reads: a check that
   * fails after it is an error in a preview, not put off until the step runs.
   */
  recordOnly?: boolean;
}
