/**
 * A migration as the journal knows it: which runs moved a stack (or one of its services)
 * to a server, and its write pause measured across every run of it, so that a run killed
 * inside the pause and resumed reports the whole outage, not only its own part.
 */
import type { RunEvent } from '../engine/events.js';
import { TRANSFER_KINDS, type TransferKind } from '../engine/step.js';

/** Whether a run's command moved `stack` (or one of its services) to `target`. */
export function isMigrationOf(command: string, stack: string, target: string): boolean {
  const w = command.split(' ');
  const to = w.indexOf('--to');
  return w[0] === 'migrate' && w[1] === stack && to > 1 && w[to + 1] === target;
}

/**
 * The write pause from the events of a migration's runs (the interrupted ones first): from
 * the first time the step that begins it (`pauseBy`) was about to apply, to the first time
 * the step after which the stack serves again (`servedBy`) was verified. Null when either
 * is missing (a run that never paused, or never served).
 */
export function pauseAcross(runs: RunEvent[][], pauseBy: string, servedBy: string): number | null {
  const events = runs.flat();
  const began = events.find((e) => e.kind === 'step-checked' && e.stepId === pauseBy && e.needed);
  const served = events.find((e) => e.kind === 'step-verified' && e.stepId === servedBy && e.ok);
  if (!began || !served) return null;
  return Math.max(0, Date.parse(served.at) - Date.parse(began.at));
}

/** What crossed between machines across a migration's runs, by kind (every kind listed, 0 when none). */
export function transfersAcross(runs: RunEvent[][]): Record<TransferKind, number> {
  const out = Object.fromEntries(TRANSFER_KINDS.map((k) => [k, 0])) as Record<TransferKind, number>;
  for (const e of runs.flat()) if (e.kind === 'step-transferred') out[e.transfer] += e.bytes;
  return out;
}
