/**
 * A plan saved with `ferry plan --out plan.json`: the stacks, the release each would
 * deploy, the predicted steps and the fingerprint of the facts they were predicted from.
 * `ferry apply plan.json` rebuilds the plan from the same fleet file and refuses it
 * when the inputs (releases) or the facts (fingerprint) changed since.
 */
import { FerryError } from '../core/errors.js';
import { INPUT_LIMITS, readInput, unwritableReason, writeFileAtomic } from '../core/files.js';
import type { PreviewStep } from './preview.js';

export const PLAN_FORMAT = 'ferry-plan/1';

export interface SavedPlan {
  format: typeof PLAN_FORMAT;
  createdAt: string;
  /** Absolute path of the fleet file. */
  fleetFile: string;
  stacks: string[];
  /** Servers the plan hardens (`harden`). */
  hardened?: string[];
  /** Release id per stack. */
  releases: Record<string, string>;
  fingerprint: string;
  steps: Omit<PreviewStep, 'doc'>[];
}

/** Refuses, before any planning, an `--out` file that could not be written. */
export function checkPlanOut(path: string, display: string): void {
  const why = unwritableReason(path);
  if (why) throw unwritable(display, why);
}

export function writePlan(path: string, display: string, p: SavedPlan): void {
  const why = writeFileAtomic(path, `${JSON.stringify(p, null, 2)}\n`, 0o600);
  if (why) throw unwritable(display, why);
}

function unwritable(display: string, why: string): FerryError {
  return new FerryError(
    'file-unwritable',
    `cannot write the plan to ${display}: ${why}`,
    `--out ${display}`,
    'Name a file in a directory that exists and that you can write to.',
    2,
  );
}

/** A saved plan; `display` is the path as given on the command line. */
export function readPlan(path: string, display: string): SavedPlan {
  const read = readInput(path, display, INPUT_LIMITS.plan);
  if (read.problem)
    throw new FerryError(
      read.problem.code,
      `the saved plan ${display}: ${read.problem.reason}`,
      display,
      'Pass a file written by `ferry plan --out FILE`, or stack names (or nothing) to plan afresh.',
      2,
    );
  let p: Partial<SavedPlan> | null;
  try {
    p = JSON.parse(read.bytes.toString('utf8')) as Partial<SavedPlan> | null;
  } catch {
    p = null;
  }
  if (
    p === null ||
    typeof p !== 'object' ||
    p.format !== PLAN_FORMAT ||
    typeof p.fleetFile !== 'string' ||
    !Array.isArray(p.stacks) ||
    typeof p.fingerprint !== 'string' ||
    typeof p.releases !== 'object'
  ) {
    throw new FerryError(
      'saved-plan-invalid',
      `${display} is not a plan saved by Ferry (format ${PLAN_FORMAT})`,
      display,
      'Write it again with `ferry plan --out FILE`.',
      2,
    );
  }
  return p as SavedPlan;
}

/** Why a saved plan can no longer be applied, or undefined when it still holds. */
export function staleness(
  saved: SavedPlan,
  releases: Record<string, string>,
  now: PreviewStep[],
  fingerprint: string,
): string[] | undefined {
  const out: string[] = [];
  for (const [stack, id] of Object.entries(saved.releases)) {
    if (releases[stack] !== id)
      out.push(
        `stack ${stack}: the release is now ${releases[stack] ?? '(none)'}, the plan was made for ${id} (files or images changed here)`,
      );
  }
  if (fingerprint !== saved.fingerprint) {
    const before = new Map(saved.steps.map((s) => [s.id, s]));
    for (const s of now) {
      const b = before.get(s.id);
      const was = b ? `${b.status}${b.change ? `: ${b.change.summary}` : ''}` : '(not in the plan)';
      const is = `${s.status}${s.change ? `: ${s.change.summary}` : ''}`;
      if (was !== is) out.push(`${s.id} on ${s.host}: planned ${was}; now ${is}`);
    }
    for (const id of before.keys())
      if (!now.some((s) => s.id === id)) out.push(`${id}: in the plan, no longer planned`);
    if (out.length === 0) out.push('the facts read from the servers differ from those the plan was made from');
  }
  return out.length > 0 ? out : undefined;
}
