/**
 * What a run tells the world, as a sequence of typed events: the terminal view, the JSON
 * output, the journal and `resume` all read these. Every text in them is redacted.
 */
import type { Redactor } from '../core/redact.js';
import type { Change, Phase, StepOutcome, TransferKind } from './step.js';

/** An error as events carry it: a stable code, a message naming where, and what to do next. */
export interface EventError {
  code: string;
  message: string;
  hint: string;
}

export interface RunSummary {
  changed: number;
  ok: number;
  failed: number;
  skipped: number;
  outcomes: Record<string, StepOutcome>;
  /** Steps whose rollback ran and succeeded, in the order they were rolled back. */
  rolledBack: string[];
  /** Steps whose rollback threw: the hosts may be left half-changed there. */
  rollbackFailed: string[];
  /**
   * A step whose failed rollback holds back the rollback of every step before it
   * (`Step.holdsRollback`): those are left as they are, and this names where it stopped.
   */
  rollbackStoppedAt?: string;
}

export interface PlannedStep {
  id: string;
  host: string;
  phase: Phase;
  title: string;
}

export type RunEvent = { at: string } & (
  | { kind: 'run-start'; runId: string; steps: PlannedStep[] }
  | { kind: 'step-start'; stepId: string; host: string }
  /** `observed`: what the check saw, redacted; the step's apply, verify and rollback were given it. */
  | { kind: 'step-checked'; stepId: string; needed: boolean; change?: Change; observed?: unknown }
  | { kind: 'step-applied'; stepId: string }
  /** Bytes that crossed between machines during the step's apply, by kind (a step may say it more than once). */
  | { kind: 'step-transferred'; stepId: string; transfer: TransferKind; bytes: number }
  | { kind: 'step-verified'; stepId: string; ok: boolean; message?: string }
  | { kind: 'step-end'; stepId: string; outcome: StepOutcome; durationMs: number; error?: EventError }
  | { kind: 'rollback-start'; stepId: string }
  | { kind: 'rollback-end'; stepId: string; ok: boolean; error?: EventError }
  | { kind: 'run-end'; summary: RunSummary }
  /** The run stopped before its first step: a lock held elsewhere, a server that cannot be reached. */
  | { kind: 'run-refused'; error: EventError }
);

export type RunEventKind = RunEvent['kind'];

const FALLBACK_HINT = 'read the message above, fix the cause on the host or in the config, then run apply again';

/** TransportError, StepError and any error with a string `code` and `hint` keep them; others become `step-failed`. */
export function eventError(error: unknown, redactor: Redactor): EventError {
  const e =
    typeof error === 'object' && error !== null ? (error as { code?: unknown; hint?: unknown; message?: unknown }) : {};
  const message = typeof e.message === 'string' ? e.message : String(error);
  const coded = typeof e.code === 'string' && typeof e.hint === 'string';
  return {
    code: coded ? (e.code as string) : 'step-failed',
    message: redactor.redact(message),
    hint: redactor.redact(coded ? (e.hint as string) : FALLBACK_HINT),
  };
}

export function redactChange(change: Change, redactor: Redactor): Change {
  const out: Change = { summary: redactor.redact(change.summary) };
  if (change.before !== undefined) out.before = redactor.redact(change.before);
  if (change.after !== undefined) out.after = redactor.redact(change.after);
  return out;
}
