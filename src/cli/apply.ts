/**
 * `ferry plan` and `ferry apply`. Plan: gather facts, show what would change (table,
 * markdown runbook or JSON), optionally save it tied to those facts. Apply: lock each
 * stack on its server, ask (unless --yes), run the plan with the journal recording
 * every event, release the locks, print the summary.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { runPlan } from '../engine/run.js';
import type { RunEvent, RunSummary } from '../engine/events.js';
import { openJournal, type Journal } from '../journal/journal.js';
import { currentRelease } from '../deploy/release-meta.js';
import { acquireLock, lockStatus, releaseLock, LockHeldError } from '../lock/lock.js';
import { buildPlan, selectTargets, type FleetPlan, type Target } from '../apply/build.js';
import { cmd, quiet } from '../shell/command.js';
import { markerPath } from '../migrate/steps/switch.js';
import { preview, type Preview } from '../apply/preview.js';
import { PLAN_FORMAT, readPlan, staleness, writePlan, type SavedPlan } from '../apply/saved.js';
import { countChanges, progressLine, renderPlanTable, renderRunbook, renderSummary } from '../render/plan.js';
import { stateDir } from '../state/dir.js';
import { TransportError } from '../transport/transport.js';
import type { Io } from './io.js';
import { openSession, operator, type Session, type SessionFlags } from './session.js';

export interface PlanFlags extends SessionFlags {
  json?: boolean;
  markdown?: boolean;
  out?: string;
}

export interface ApplyFlags extends SessionFlags {
  json?: boolean;
  yes?: boolean;
  resume?: boolean;
  /** Stdin is a terminal a person can answer on (injectable for tests). */
  interactive?: boolean;
}

const releases = (fp: FleetPlan): Record<string, string> =>
  Object.fromEntries(Object.entries(fp.stacks).map(([s, p]) => [s, p.bundle.id]));

/** Runs `use` with a session, turning transport and lock errors into coded messages (exit 1). */
export async function withSession(flags: SessionFlags, io: Io, use: (s: Session) => Promise<number>): Promise<number> {
  const s = openSession(flags, io);
  if (typeof s === 'number') return s;
  try {
    return await use(s);
  } catch (e) {
    if (e instanceof TransportError || e instanceof LockHeldError) {
      s.io.err(`error ${e.code}: ${e.message}\n  hint: ${e.hint}\n`);
      return 1;
    }
    throw e;
  } finally {
    await s.close();
  }
}

/** Exit 0 when every step could be checked, 1 otherwise. */
export function planCommand(stacks: string[], flags: PlanFlags, rawIo: Io): Promise<number> {
  return withSession(flags, rawIo, async (s) => {
    const fp = await buildPlan(s.loaded, selectTargets(s.loaded, stacks), s.local);
    const p = await preview(fp.plan, s.transports, s.redactor);
    const saved = savedPlan(s, fp, p);
    if (flags.out) {
      writePlan(resolve(rawIo.cwd, flags.out), saved);
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

function savedPlan(s: Session, fp: FleetPlan, p: Preview): SavedPlan {
  return {
    format: PLAN_FORMAT,
    createdAt: new Date().toISOString(),
    fleetFile: s.fleetFile,
    stacks: [...new Set(fp.targets.map((t) => t.stack.def.name))],
    releases: releases(fp),
    fingerprint: p.fingerprint,
    steps: p.steps.map(({ doc: _doc, ...rest }) => rest),
  };
}

/** Exit 0 when the run succeeded (or nothing was needed), 1 when it failed or was refused, 2 on bad input. */
export async function applyCommand(
  planFile: string | undefined,
  stacks: string[],
  flags: ApplyFlags,
  rawIo: Io,
): Promise<number> {
  let saved: SavedPlan | undefined;
  if (planFile !== undefined) {
    if (stacks.length > 0)
      throw new UsageError(
        'give either a saved plan or stack names, not both',
        'A saved plan already names its stacks.',
      );
    saved = readPlan(resolve(rawIo.cwd, planFile));
    if (flags.file && resolve(rawIo.cwd, flags.file) !== saved.fleetFile)
      throw new UsageError(
        `the plan was made from ${saved.fleetFile}, not ${flags.file}`,
        'Leave out -f: a saved plan names its fleet file.',
      );
  }
  const sessionFlags = saved ? { ...flags, file: saved.fleetFile } : flags;
  return withSession(sessionFlags, rawIo, async (s) => {
    const journal = openJournal(stateDir(rawIo.env), s.redactor);
    try {
      const resumed = flags.resume ? journal.lastUnfinished() : undefined;
      if (flags.resume && !resumed) s.io.err('nothing to resume: the last run finished; applying afresh\n');
      const targets = selectTargets(s.loaded, saved ? saved.stacks : stacks);
      await refuseMoved(s, targets);
      const fp = await buildPlan(s.loaded, targets, s.local);
      const p = await preview(fp.plan, s.transports, s.redactor);
      if (saved) {
        const why = staleness(saved, releases(fp), p.steps, p.fingerprint);
        if (why) {
          s.io.err(
            `error plan-stale: the plan no longer matches the servers or the files; nothing was changed\n${why.map((w) => `  - ${w}`).join('\n')}\n  hint: make a new plan with \`ferry plan --out FILE\`, read it, then apply that\n`,
          );
          return 1;
        }
      }
      const counts = countChanges(p);
      if (!flags.json) s.io.out(renderPlanTable(p));
      if (counts.error > 0) {
        s.io.err(
          'error plan-check-failed: some steps could not be checked (see the table); nothing was changed\n  hint: fix what the errors name, then run apply again\n',
        );
        return 1;
      }
      if (counts.change > 0 && !flags.yes) {
        if (!(flags.interactive ?? process.stdin.isTTY))
          throw new UsageError(
            'apply changes servers and needs a confirmation, but no one can answer here (stdin is not a terminal)',
            'Read `ferry plan` first, then pass --yes.',
          );
        if (!(await confirm(`apply ${counts.change} changes? [y/N] `))) {
          s.io.err('nothing was changed\n');
          return 1;
        }
      }
      const command = `apply${resumed ? ` --resume ${resumed.id}` : ''}${saved ? ` ${planFile}` : ''}`;
      const summary = await execute(s, fp, command, flags, journal, resumed ? { resume: resumed.id } : {});
      return summary.failed > 0 ? 1 : 0;
    } finally {
      journal.close();
    }
  });
}

/** How a run follows an earlier one that was killed. */
export interface Continuing {
  /** The run whose locks are taken over. */
  takeOver?: string;
  /** The run resumed: its steps' journaled observations are their `prior`. */
  resume?: string;
}

/** Locks, runs with the journal and progress lines, unlocks, prints the summary. */
export async function execute(
  s: Session,
  fp: Pick<FleetPlan, 'plan' | 'targets'>,
  command: string,
  flags: { json?: boolean; noSummary?: boolean },
  journal: Journal,
  continuing: Continuing = {},
): Promise<RunSummary & { runId: string }> {
  const runId = randomUUID();
  const locked = await lockAll(s, fp, runId, command, continuing.takeOver ?? continuing.resume);
  let summary: RunSummary;
  try {
    const titles = new Map(fp.plan.steps.map((st) => [st.id, s.redactor.redact(st.title)]));
    const record = journal.recorder(runId, {
      command,
      fleetFile: s.fleetFile,
      onError: (e) => s.io.err(`warning journal-write-failed: ${String(e)}\n`),
    });
    summary = await runPlan(fp.plan, {
      ...(continuing.resume ? { prior: journal.observations(continuing.resume) } : {}),
      transports: s.transports,
      redactor: s.redactor,
      runId,
      onEvent: (e: RunEvent) => {
        record(e);
        const failure = (e.kind === 'step-end' && e.outcome === 'failed') || (e.kind === 'rollback-end' && !e.ok);
        const line = flags.json && !failure ? undefined : progressLine(e, titles);
        if (line !== undefined) s.io.err(`${line}\n`);
      },
    });
  } finally {
    await unlockAll(s, locked, runId);
  }
  if (flags.noSummary) s.io.err(renderSummary(summary, runId));
  else if (flags.json)
    s.io.out(
      `${JSON.stringify({ changed: summary.changed, ok: summary.ok, failed: summary.failed, skipped: summary.skipped, run: runId })}\n`,
    );
  else s.io.out(renderSummary(summary, runId));
  return { ...summary, runId };
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
      );
    }
    // A service moved away (ferry migrate --service) is not deployed back beside stale data.
    const meta = (await currentRelease(s.transports(t.server.name), t.stack.def.name, t.server.sudo ?? false)).meta;
    for (const [service, server] of Object.entries(meta?.placed ?? {})) {
      if (t.stack.def.placement?.[service]?.server === server) continue;
      throw new UsageError(
        `${t.stack.def.name}/${service} runs on ${server} (with its data), but ferry.yml does not place it there`,
        `Add \`services: { ${service}: { server: ${server} } }\` to stacks/${t.stack.def.name} in ferry.yml. Deploying ${service} on ${t.server.name} again would start it on the data it had before it moved.`,
      );
    }
    // ...and a service that runs here with its data is moved, not redeployed empty elsewhere.
    for (const [service, p] of Object.entries(t.stack.def.placement ?? {})) {
      if (meta?.placed?.[service] === p.server || !meta?.services.some((x) => x.name === service)) continue;
      throw new UsageError(
        `ferry.yml places ${t.stack.def.name}/${service} on ${p.server}, but it runs on ${t.server.name} with its data`,
        `Move it there with its data: \`ferry migrate ${t.stack.def.name} --service ${service} --to ${p.server}\``,
      );
    }
  }
}

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

type Locked = { stack: string; server: string; sudo: boolean }[];

/**
 * Takes every stack's lock, or none: on a refusal the locks already taken are released.
 * With --resume, a lock still held by the interrupted run is taken over.
 */
async function lockAll(
  s: Session,
  fp: Pick<FleetPlan, 'targets'>,
  runId: string,
  command: string,
  resumeOf: string | undefined,
): Promise<Locked> {
  const taken: Locked = [];
  try {
    for (const t of fp.targets) {
      const stack = t.stack.def.name;
      const sudo = t.server.sudo ?? false;
      const tr = s.transports(t.server.name);
      const owner = { run: runId, by: operator(), at: new Date().toISOString(), command };
      if (resumeOf) {
        const held = await lockStatus(tr, stack, sudo);
        if (held !== undefined && held !== 'unowned' && held.run === resumeOf)
          await releaseLock(tr, stack, resumeOf, sudo);
      }
      await acquireLock(tr, stack, owner, sudo);
      taken.push({ stack, server: t.server.name, sudo });
    }
  } catch (e) {
    await unlockAll(s, taken, runId);
    throw e;
  }
  return taken;
}

async function unlockAll(s: Session, locked: Locked, runId: string): Promise<void> {
  for (const l of locked) {
    try {
      await releaseLock(s.transports(l.server), l.stack, runId, l.sudo);
    } catch (e) {
      s.io.err(
        `warning lock-not-released: stack ${l.stack} on ${l.server}: ${e instanceof Error ? e.message : String(e)}\n  hint: \`ferry lock release ${l.stack} --id ${runId}\`\n`,
      );
    }
  }
}
