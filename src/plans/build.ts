/** The plan of an apply: the deploy steps of every stack asked for, on their servers. */
import { UsageError } from '../core/errors.js';
import { suggest } from '../core/suggest.js';
import { makePlan, type Plan } from '../engine/plan.js';
import { withPlace, type Step } from '../engine/step.js';
import { hostPostgresTuneStep, tuneId } from '../deploy/steps/host-postgres-tune.js';
import type { LoadedFleet, LoadedStack } from '../model/loaded.js';
import type { ServerDef } from '../model/fleet.js';
import type { Transport } from '../transport/transport.js';
import { stackPlan, type StackPlan } from '../deploy/plan.js';
import type { Login } from '../harden/access.js';
import { hardenSteps } from '../harden/plan.js';
import { scheduleRefreshStep } from '../backup/schedule-refresh.js';
import type { Prover } from '../harden/prove.js';
import { exporterStackSteps } from '../monitoring/exporter-steps.js';
import { isExportersStack, isMonitoringStack } from '../monitoring/stacks.js';

export interface Target {
  stack: LoadedStack;
  server: ServerDef;
}

/**
 * The stacks named (all of them when none), each with its server; unknown names are a
 * usage error. `generated`: stacks Ferry makes itself (the monitoring stack and exporters),
 * chosen like the fleet's own.
 */
export function selectTargets(loaded: LoadedFleet, names: string[], generated: LoadedStack[] = []): Target[] {
  const stacks = [...loaded.stacks, ...generated];
  const all = stacks.map((s) => s.def.name);
  const chosen = names.length > 0 ? names : all;
  if (chosen.length === 0 && hardenTargets(loaded, names).length === 0)
    throw new UsageError(
      'the fleet file has no stacks to apply and no server to harden',
      'Add a stack under `stacks:`, or `harden:`, in ferry.yml.',
    );
  return chosen.map((name) => {
    const stack = stacks.find((s) => s.def.name === name);
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

/**
 * The servers to harden: with no stack named, every server whose `harden` is set; naming
 * stacks deploys those only, and leaves sshd and the firewall alone.
 */
export function hardenTargets(loaded: LoadedFleet, names: string[]): ServerDef[] {
  return names.length > 0 ? [] : Object.values(loaded.fleet.servers).filter((s) => s.harden !== undefined);
}

/** What hardening needs from the command line: how Ferry logs in, and a way to prove a new session gets in. */
export interface Hardening {
  servers: ServerDef[];
  login: (server: ServerDef) => Login;
  prove: Prover;
}

export interface FleetPlan {
  plan: Plan;
  stacks: Record<string, StackPlan>;
  targets: Target[];
  /** Servers hardened by the plan: each is locked as a whole (`HARDEN_LOCK`). */
  hardened: ServerDef[];
}

/** The lock a hardening run takes on its server; no stack can be named so. */
export const HARDEN_LOCK = '_harden';

/** One step per server whose host Postgres is tuned; the stacks' host-postgres steps wait for it (one restart at a time). */
function tuneSteps(servers: ServerDef[]): Step[] {
  const seen = new Map<string, ServerDef>();
  for (const s of servers) if (s.postgres?.tune) seen.set(s.name, s);
  return [...seen.values()].map((server) =>
    hostPostgresTuneStep({ server, postgres: server.postgres!, sudo: server.sudo ?? false, dependsOn: [] }),
  );
}

export async function buildPlan(
  loaded: LoadedFleet,
  targets: Target[],
  local: Transport,
  hardening?: Hardening,
): Promise<FleetPlan> {
  const hardened = hardening?.servers ?? [];
  const harden = hardened.flatMap((server) =>
    hardenSteps({ loaded, server, login: hardening!.login(server), prove: hardening!.prove }),
  );
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
  for (const t of targets) {
    const name = t.stack.def.name;
    if (!isExportersStack(name)) continue;
    const st = stacks[name]!;
    // What runs on the server first: its stacks, and the services of other stacks placed there.
    const after = targets
      .filter((o) => !isMonitoringStack(o.stack.def.name))
      .flatMap((o) => stacks[o.stack.def.name]!.steps)
      .filter((s) => s.host === t.server.name);
    stacks[name] = {
      ...st,
      steps: exporterStackSteps({ loaded, stack: name, server: t.server, steps: st.steps, after }),
    };
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
  // After a stack's deploy, its installed backup schedule follows what it now runs.
  const refresh = targets.flatMap((t) => {
    const st = stacks[t.stack.def.name]!;
    const step = scheduleRefreshStep(
      t.stack,
      t.server,
      loaded.fleet.servers,
      st.steps.map((s) => s.id),
    );
    return step ? [step] : [];
  });
  const tuned = tuneSteps([...targets.map((t) => t.server), ...hardened]);
  const stackSteps = Object.values(stacks)
    .flatMap((s) => s.steps)
    .map((s) =>
      tuned.some((t) => t.host === s.host) && s.id.endsWith('/host-postgres')
        ? withPlace(s, { dependsOn: [...s.dependsOn, tuneId(s.host)] })
        : s,
    );
  return {
    plan: makePlan([...harden, ...tuned, ...stackSteps, ...refresh]),
    stacks,
    targets: all,
    hardened,
  };
}
