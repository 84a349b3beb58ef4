/**
 * A plan is its steps, validated and ordered: a step comes after its dependencies; among
 * the steps ready at a point, the earlier phase first, then the order they were given in.
 */
import { PlanError } from './errors.js';
import { PHASES, type Step } from './step.js';

export interface Plan {
  /** In run order. */
  steps: Step[];
}

export function makePlan(steps: Step[]): Plan {
  const problems = validate(steps);
  const ordered = problems.length === 0 ? order(steps) : undefined;
  if (ordered === undefined) {
    const cycle = findCycle(steps);
    throw new PlanError(cycle ? [...problems, `dependency cycle: ${cycle.join(' -> ')}`] : problems);
  }
  return { steps: ordered };
}

const phaseIndex = (s: Step): number => PHASES.indexOf(s.phase);

function validate(steps: Step[]): string[] {
  const problems: string[] = [];
  const byId = new Map<string, Step>();
  for (const s of steps) {
    if (byId.has(s.id)) problems.push(`duplicate step id "${s.id}"`);
    else byId.set(s.id, s);
  }
  for (const s of steps) {
    for (const dep of s.dependsOn) {
      const d = byId.get(dep);
      if (!d) problems.push(`step "${s.id}" depends on unknown step "${dep}"`);
      else if (phaseIndex(d) > phaseIndex(s)) {
        problems.push(`step "${s.id}" (phase ${s.phase}) depends on "${dep}" of a later phase (${d.phase})`);
      }
    }
  }
  return problems;
}

/** Kahn's algorithm, picking the lowest (phase, position) among ready steps; undefined on a cycle. */
function order(steps: Step[]): Step[] | undefined {
  const placed = new Set<string>();
  const out: Step[] = [];
  const left = [...steps];
  while (left.length > 0) {
    let best = -1;
    for (let i = 0; i < left.length; i++) {
      const s = left[i]!;
      if (!s.dependsOn.every((d) => placed.has(d))) continue;
      if (best < 0 || phaseIndex(s) < phaseIndex(left[best]!)) best = i;
    }
    if (best < 0) return undefined;
    const [s] = left.splice(best, 1);
    placed.add(s!.id);
    out.push(s!);
  }
  return out;
}

/** One cycle among the known dependencies, as ids with the first repeated at the end. */
function findCycle(steps: Step[]): string[] | undefined {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const done = new Set<string>();
  const visit = (id: string, path: string[]): string[] | undefined => {
    const at = path.indexOf(id);
    if (at >= 0) return [...path.slice(at), id];
    if (done.has(id)) return undefined;
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      if (!byId.has(dep)) continue;
      const cycle = visit(dep, [...path, id]);
      if (cycle) return cycle;
    }
    done.add(id);
    return undefined;
  };
  for (const s of steps) {
    const cycle = visit(s.id, []);
    if (cycle) return cycle;
  }
  return undefined;
}
