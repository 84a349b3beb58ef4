/** The plan of an apply: the deploy steps of every stack asked for, on their servers. */
import { UsageError } from '../core/errors.js';
import { suggest } from '../core/suggest.js';
import { makePlan, type Plan } from '../engine/plan.js';
import type { LoadedFleet, LoadedStack } from '../model/loaded.js';
import type { ServerDef } from '../model/fleet.js';
import type { Transport } from '../transport/transport.js';
import { stackPlan, type StackPlan } from '../deploy/plan.js';

export interface Target {
  stack: LoadedStack;
  server: ServerDef;
}

/** The stacks named (all of them when none), each with its server; unknown names are a usage error. */
export function selectTargets(loaded: LoadedFleet, names: string[]): Target[] {
  const all = loaded.stacks.map((s) => s.def.name);
  const chosen = names.length > 0 ? names : all;
  if (chosen.length === 0)
    throw new UsageError('the fleet file has no stacks to apply', 'Add a stack under `stacks:` in ferry.yml.');
  return chosen.map((name) => {
    const stack = loaded.stacks.find((s) => s.def.name === name);
    if (!stack) {
      const near = suggest(name, all);
      throw new UsageError(
        `no stack "${name}" in the fleet file`,
        near ? `Did you mean "${near}"? Stacks: ${all.join(', ')}.` : `Stacks: ${all.join(', ') || '(none)'}.`,
      );
    }
    const server = stack.def.server ? loaded.fleet.servers[stack.def.server] : undefined;
    if (!server)
      throw new UsageError(
        `stack ${name} has no server to deploy to`,
        'Give it `server: NAME` with a server defined under `servers:` in ferry.yml.',
      );
    return { stack, server };
  });
}

export interface FleetPlan {
  plan: Plan;
  stacks: Record<string, StackPlan>;
  targets: Target[];
}

export async function buildPlan(loaded: LoadedFleet, targets: Target[], local: Transport): Promise<FleetPlan> {
  const stacks: Record<string, StackPlan> = {};
  for (const t of targets) {
    stacks[t.stack.def.name] = await stackPlan({
      stack: t.stack,
      server: t.server,
      local,
      fleet: loaded.fleet,
      ...(loaded.fleet.acme ? { acme: loaded.fleet.acme } : {}),
    });
  }
  // The servers of placed services are locked for their stack too.
  const all = [...targets];
  const key = (t: Target) => `${t.stack.def.name}@${t.server.name}`;
  const seen = new Set(all.map(key));
  for (const t of targets) {
    for (const p of Object.values(stacks[t.stack.def.name]!.parts)) {
      const x = { stack: t.stack, server: p.server };
      if (seen.has(key(x))) continue;
      seen.add(key(x));
      all.push(x);
    }
  }
  return { plan: makePlan(Object.values(stacks).flatMap((s) => s.steps)), stacks, targets: all };
}
