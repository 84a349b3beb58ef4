/**
 * `ferry plan` and `ferry apply`. Plan: gather facts, show what would change (table,
 * markdown runbook or JSON), optionally save it tied to those facts. Apply: refuse a stale
 * saved plan, ask (unless --yes), then run the plan (./run-plan.ts: locks, journal, summary).
 */
import { resolve } from 'node:path';
import { FerryError, UsageError } from '../core/errors.js';
import { openJournal, type Journal } from '../journal/journal.js';
import { currentRelease } from '../deploy/release-meta.js';
import { buildPlan, hardenTargets, selectTargets, type FleetPlan, type Target } from '../plans/build.js';
import { cmd, quiet } from '../shell/command.js';
import { markerPath } from '../migrate/steps/switch.js';
import { preview, type Preview } from '../plans/preview.js';
import { checkPlanOut, PLAN_FORMAT, readPlan, staleness, writePlan, type SavedPlan } from '../plans/saved.js';
import { countChanges, renderPlanTable, renderRunbook } from '../render/plan.js';
import { stateDir } from '../state/dir.js';
import type { CliIo } from './io.js';
import { confirm, declined, execute, planCheckFailed, withSession, type ApplyFlags } from './run-plan.js';
import type { Session, SessionFlags } from './session.js';
import { hardeningFor } from './hardening.js';
import { generatedStacks } from './generated-stacks.js';
import type { ServerDef } from '../model/fleet.js';

export interface PlanFlags extends SessionFlags {
  json?: boolean;
  markdown?: boolean;
  out?: string;
}

const releases = (fp: FleetPlan): Record<string, string> =>
  Object.fromEntries(Object.entries(fp.stacks).map(([s, p]) => [s, p.bundle.id]));

/** Exit 0 when every step could be checked, 1 otherwise. */
export function planCommand(stacks: string[], flags: PlanFlags, io: CliIo): Promise<number> {
  const out = flags.out === undefined ? undefined : resolve(io.cwd, flags.out);
  // Before any planning: a plan that cannot be kept is not worth reading the servers for.
  if (out) checkPlanOut(out, flags.out!);
  return withSession(flags, io, async (s) => {
    const fp = await planOf(s, stacks, hardenTargets(s.loaded, stacks), flags);
    const p = await preview(fp.plan, s.transports, s.redactor);
    const saved = savedPlan(s, fp, p);
    if (out) {
      writePlan(out, flags.out!, saved);
      s.io.err(`plan saved to ${flags.out}: apply it with \`ferry apply ${flags.out}\`\n`);
    }
    if (flags.json) s.io.out(`${JSON.stringify({ ...saved, steps: p.steps }, null, 2)}\n`);
    else if (flags.markdown)
      s.io.out(
        renderRunbook(p, {
          fleetFile: s.loaded.fleet.display ?? s.fleetFile,
          createdAt: saved.createdAt,
          stacks: saved.stacks,
          releases: saved.releases,
        }),
      );
    else s.io.out(renderPlanTable(p));
    return countChanges(p).error > 0 ? 1 : 0;
  });
}

/**
 * The plan of the stacks named (every one, the generated monitoring stacks too, when none
 * is) and of hardening `servers`. A plan that apply would refuse is not made.
 */
async function planOf(s: Session, names: string[], servers: ServerDef[], flags: SessionFlags): Promise<FleetPlan> {
  const generated = generatedStacks(s, names);
  try {
    const targets = selectTargets(s.loaded, names, generated.stacks);
    await refuseMoved(s, targets);
    return await buildPlan(s.loaded, targets, s.local, hardeningFor(s, servers, flags));
  } finally {
    generated.done();
  }
}

function savedPlan(s: Session, fp: FleetPlan, p: Preview): SavedPlan {
  return {
    format: PLAN_FORMAT,
    createdAt: new Date().toISOString(),
    fleetFile: s.fleetFile,
    stacks: [...new Set(fp.targets.map((t) => t.stack.def.name))],
    ...(fp.hardened.length > 0 ? { hardened: fp.hardened.map((h) => h.name) } : {}),
    releases: releases(fp),
    fingerprint: p.fingerprint,
    steps: p.steps.map(({ doc: _doc, ...rest }) => rest),
  };
}

/** What `ferry apply` was asked to run: a saved plan, or stacks to plan afresh. */
interface ApplyRequest {
  planFile: string | undefined;
  saved: SavedPlan | undefined;
  stacks: string[];
  flags: ApplyFlags;
}

/** Exit 0 when the run succeeded (or nothing was needed), 1 when it failed or was refused, 2 on bad input. */
export async function applyCommand(
  planFile: string | undefined,
  stacks: string[],
  flags: ApplyFlags,
  io: CliIo,
): Promise<number> {
  const saved = planFile === undefined ? undefined : readSaved(planFile, stacks, flags, io);
  const sessionFlags = saved ? { ...flags, file: saved.fleetFile } : flags;
  return withSession(sessionFlags, io, async (s) => {
    const journal = openJournal(stateDir(io.env), s.redactor);
    try {
      return await applyIn(s, journal, { planFile, saved, stacks, flags });
    } finally {
      journal.close();
    }
  });
}

/** The saved plan named on the command line; with stack names beside it, or another fleet file, a usage error. */
function readSaved(planFile: string, stacks: string[], flags: ApplyFlags, io: CliIo): SavedPlan {
  if (stacks.length > 0)
    throw new UsageError(
      'give either a saved plan or stack names, not both',
      'A saved plan already names its stacks.',
      planFile,
    );
  const saved = readPlan(resolve(io.cwd, planFile), planFile);
  if (flags.file && resolve(io.cwd, flags.file) !== saved.fleetFile)
    throw new UsageError(
      `the plan was made from ${saved.fleetFile}, not ${flags.file}`,
      'Leave out -f: a saved plan names its fleet file.',
      '-f',
    );
  return saved;
}

async function applyIn(
  s: Session,
  journal: Journal,
  { planFile, saved, stacks, flags }: ApplyRequest,
): Promise<number> {
  const resumed = flags.resume ? journal.lastUnfinished() : undefined;
  if (flags.resume && !resumed) s.io.err('nothing to resume: the last run finished; applying afresh\n');
  const names = saved ? saved.stacks : stacks;
  const servers = saved
    ? (saved.hardened ?? []).flatMap((n) => (s.loaded.fleet.servers[n] ? [s.loaded.fleet.servers[n]] : []))
    : hardenTargets(s.loaded, stacks);
  const fp = await planOf(s, names, servers, flags);
  const targets = fp.targets;
  const p = await preview(fp.plan, s.transports, s.redactor);
  if (saved) refuseStale(saved, planFile!, fp, p);
  await mayApply(s, p, flags);
  const command = `apply${resumed ? ` --resume ${resumed.id}` : ''}${saved ? ` ${planFile}` : ''}`;
  const summary = await execute(s, fp, command, flags, journal, resumed ? { resume: resumed.id } : {});
  const own = new Set(s.loaded.stacks.map((x) => x.def.name));
  const watched = [
    ...new Set([...targets.map((t) => t.stack.def.name).filter((n) => own.has(n)), ...servers.map((x) => x.name)]),
  ];
  if (summary.failed === 0 && summary.changed > 0 && !flags.json && watched.length > 0)
    s.io.err(
      `watch what changed: ferry watch ${watched.join(' ')} --for 72h (add --install to run it on the servers, without this machine)\n`,
    );
  return summary.failed > 0 ? 1 : 0;
}

/** Refuses (exit 1) a saved plan when the servers or the files changed since it was saved. */
function refuseStale(saved: SavedPlan, planFile: string, fp: FleetPlan, p: Preview): void {
  const why = staleness(saved, releases(fp), p.steps, p.fingerprint);
  if (why)
    throw new FerryError(
      'plan-stale',
      `the plan no longer matches the servers or the files; nothing was changed\n${why.map((w) => `  - ${w}`).join('\n')}`,
      planFile,
      'make a new plan with `ferry plan --out FILE`, read it, then apply that',
    );
}

/** Shows the plan; throws unless every step could be checked and the changes are approved (--yes, or asked). */
async function mayApply(s: Session, p: Preview, flags: ApplyFlags): Promise<void> {
  const counts = countChanges(p);
  if (!flags.json) s.io.out(renderPlanTable(p));
  if (counts.error > 0) throw planCheckFailed('nothing was changed', 'run apply again');
  if (counts.change === 0 || flags.yes) return;
  if (!(flags.interactive ?? process.stdin.isTTY))
    throw new UsageError(
      'apply changes servers and needs a confirmation, but no one can answer here (stdin is not a terminal)',
      'Read `ferry plan` first, then pass --yes.',
      '--yes',
    );
  if (!(await confirm(`apply ${counts.change} changes? [y/N] `))) throw declined(`apply of ${counts.change} changes`);
}

/** A stack moved away from a server (by `ferry migrate`) is not deployed there again by mistake. */
async function refuseMoved(s: Session, targets: Target[]): Promise<void> {
  for (const t of targets) {
    const r = await s
      .transports(t.server.name)
      .exec(quiet(cmd('cat', markerPath(t.stack.def.name))), { sudo: t.server.sudo ?? false });
    if (r.code === 0) {
      const to = r.stdout.trim();
      throw new UsageError(
        `stack ${t.stack.def.name} was moved from ${t.server.name} to ${to}; ferry.yml still names ${t.server.name}`,
        `Set \`server: ${to}\` for it in ferry.yml, or \`ferry rollback ${t.stack.def.name}\` to serve from ${t.server.name} again.`,
        `host ${t.server.name}`,
      );
    }
    // A service moved away (ferry migrate --service) is not deployed back beside stale data.
    const meta = (await currentRelease(s.transports(t.server.name), t.stack.def.name, t.server.sudo ?? false)).meta;
    for (const [service, server] of Object.entries(meta?.placed ?? {})) {
      if (t.stack.def.placement?.[service]?.server === server) continue;
      throw new UsageError(
        `${t.stack.def.name}/${service} runs on ${server} (with its data), but ferry.yml does not place it there`,
        `Add \`services: { ${service}: { server: ${server} } }\` to stacks/${t.stack.def.name} in ferry.yml. Deploying ${service} on ${t.server.name} again would start it on the data it had before it moved.`,
        `host ${server}`,
      );
    }
    // ...and a service that runs here with its data is moved, not redeployed empty elsewhere.
    for (const [service, p] of Object.entries(t.stack.def.placement ?? {})) {
      if (meta?.placed?.[service] === p.server || !meta?.services.some((x) => x.name === service)) continue;
      throw new UsageError(
        `ferry.yml places ${t.stack.def.name}/${service} on ${p.server}, but it runs on ${t.server.name} with its data`,
        `Move it there with its data: \`ferry migrate ${t.stack.def.name} --service ${service} --to ${p.server}\``,
        `host ${t.server.name}`,
      );
    }
  }
}
