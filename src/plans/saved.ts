/**
 * A plan saved with `ferry plan --out plan.json`: the stacks, the release each would
 * deploy, the predicted steps and the fingerprint of the facts they were predicted from.
 * `ferry apply plan.json` rebuilds the plan from the same fleet file and refuses it
 * when the inputs (releases) or the facts (fingerprint) changed since.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { PreviewStep } from './preview.js';

export const PLAN_FORMAT = 'ferry-plan/1';

export interface SavedPlan {
  format: typeof PLAN_FORMAT;
  createdAt: string;
  /** Absolute path of the fleet file. */
  fleetFile: string;
  stacks: string[];
  /** Release id per stack. */
  releases: Record<string, string>;
  fingerprint: string;
  steps: Omit<PreviewStep, 'doc'>[];
}

export function writePlan(path: string, p: SavedPlan): void {
  writeFileSync(path, `${JSON.stringify(p, null, 2)}\n`, { mode: 0o600 });
}

export function readPlan(path: string): SavedPlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read the plan ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      'Pass a file written by `ferry plan --out FILE`, or no file to plan afresh.',
    );
  }
  let p: Partial<SavedPlan>;
  try {
    p = JSON.parse(text) as Partial<SavedPlan>;
  } catch {
    throw new UsageError(`${path} is not JSON`, 'Pass a file written by `ferry plan --out FILE`.');
  }
  if (
    p.format !== PLAN_FORMAT ||
    typeof p.fleetFile !== 'string' ||
    !Array.isArray(p.stacks) ||
    typeof p.fingerprint !== 'string' ||
    typeof p.releases !== 'object'
  ) {
    throw new UsageError(
      `${path} is not a Ferry plan (format ${PLAN_FORMAT})`,
      'Write it again with `ferry plan --out FILE`.',
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
