/**
 * `ferry rollback STACK` after a migration: the source serves again. What the target wrote
 * since its data came into use is carried back first (write-back), unless
 * `--discard-target-writes` says to drop it, which the plan then lists per table.
 */
import { UsageError } from '../core/errors.js';
import { makePlan } from '../engine/plan.js';
import { openJournal } from '../journal/journal.js';
import { preview } from '../plans/preview.js';
import { countChanges, renderPlanTable } from '../render/plan.js';
import { stateDir } from '../state/dir.js';
import { currentRelease, type ReleaseMeta } from '../deploy/release-meta.js';
import type { ServerDef, StackDef } from '../model/fleet.js';
import { migrationRollbackSteps } from '../migrate/rollback-plan.js';
import { movedParts, newMigration, volumeCopies } from '../migrate/plan.js';
import { writesLeftBehind } from '../migrate/write-back.js';
import { isMigrationOf } from '../migrate/runs.js';
import { endpoint } from './endpoint.js';
import { confirm, declined, execute, planCheckFailed, type ApplyFlags } from './run-plan.js';
import type { Session } from './session.js';

export interface RollbackFlags extends ApplyFlags {
  to?: string;
  /** After a migration: roll back without carrying the target's writes back (they are dropped). */
  discardTargetWrites?: boolean;
}

async function currentMeta(s: Session, stack: string, server: ServerDef): Promise<ReleaseMeta | undefined> {
  return (await currentRelease(s.transports(server.name), stack, server.sudo ?? false)).meta;
}

/** The target of a migration rollback's journaled command (`rollback STACK (migration to TARGET from SOURCE)`). */
function rolledBackTo(command: string, stack: string): string | undefined {
  return rollbackOf(command, stack)?.target;
}

/** Target and source (absent in runs journaled before it was) of a migration rollback's command. */
export function rollbackOf(command: string, stack: string): { target: string; source?: string } | undefined {
  const m = /^rollback (\S+) \(migration to (\S+?)(?: from (\S+))?\)$/.exec(command);
  if (!m || m[1] !== stack) return undefined;
  return { target: m[2]!, ...(m[3] ? { source: m[3] } : {}) };
}

/**
 * A rollback of a migration that a kill cut short after it removed the markers that
 * `migrationOf` reads: the newest run of the stack's migrations and rollbacks, unfinished.
 * Its servers, from its journaled command; the source, for a run journaled without it, is
 * the stack's server unless that is the target.
 */
export function cutShortRollback(
  s: Session,
  stack: string,
  server: ServerDef,
): { source: ServerDef; target: ServerDef } | undefined {
  const journal = openJournal(stateDir(s.io.env), s.redactor);
  try {
    const run = journal.lastUnfinished(
      (r) => r.command.startsWith(`rollback ${stack} `) || r.command.startsWith(`migrate ${stack} `),
    );
    const was = run ? rollbackOf(run.command, stack) : undefined;
    if (!was) return undefined;
    const source = s.loaded.fleet.servers[was.source ?? (server.name !== was.target ? server.name : '')];
    const target = s.loaded.fleet.servers[was.target];
    return source && target ? { source, target } : undefined;
  } finally {
    journal.close();
  }
}

export async function rollbackMigration(
  s: Session,
  stack: string,
  def: StackDef,
  mig: { source: ServerDef; target: ServerDef },
  flags: RollbackFlags,
): Promise<number> {
  const sourceRelease = await currentMeta(s, stack, mig.source);
  if (!sourceRelease)
    throw new UsageError(
      `stack ${stack} has no release left on ${mig.source.name} to serve from`,
      'It was retired; nothing to roll back to.',
    );
  const placedThere = Object.entries(sourceRelease.placed ?? {}).find(([, server]) => server === mig.target.name);
  if (placedThere) {
    throw new UsageError(
      `the move of ${stack}/${placedThere[0]} to ${mig.target.name} stopped just after ${mig.source.name} switched to its new release`,
      `Finish it with \`ferry migrate ${stack} --service ${placedThere[0]} --to ${mig.target.name} --resume\`, then roll back with \`ferry rollback ${stack}\`.`,
    );
  }
  const targetRelease = await currentMeta(s, stack, mig.target);
  const loaded = s.loaded.stacks.find((x) => x.def.name === stack)!;
  const parts = loaded.project ? movedParts(loaded.project) : { databases: [], volumes: [], redis: [] };
  const sourceEndpoint = await endpoint(s.transports(mig.source.name), mig.source);
  const targetEndpoint = await endpoint(s.transports(mig.target.name), mig.target);
  const m = targetRelease
    ? newMigration(
        {
          stack: loaded,
          ...mig,
          sourceEndpoint,
          targetEndpoint,
          sourceRelease,
          transports: s.transports,
          local: s.local,
          locate: s.loaded.fleet.locate,
        },
        { release: targetRelease, ...parts, mode: 'dump' },
      )
    : undefined;
  const discard = flags.discardTargetWrites === true;
  const plan = makePlan(
    migrationRollbackSteps({
      stack: def,
      source: mig.source,
      target: mig.target,
      sourceRelease,
      ...(targetRelease ? { targetRelease } : {}),
      transports: s.transports,
      // Replication never ran for a database kept in the source's own Postgres (replicate refuses it).
      leftovers: {
        databases: parts.databases.filter((d) => !m?.sourceInstalled?.[d.service]),
        sourceEndpoint,
        targetEndpoint,
      },
      ...(m && !discard ? { writeBack: { m, copies: volumeCopies({ sourceRelease }, m, parts.volumes) } } : {}),
    }),
  );
  const p = await preview(plan, s.transports, s.redactor);
  if (!flags.json) s.io.out(renderPlanTable(p));
  if (countChanges(p).error > 0)
    throw planCheckFailed(
      `nothing was changed on ${mig.source.name} or ${mig.target.name}`,
      `run rollback again${discard ? '' : `; --discard-target-writes rolls back without carrying ${mig.target.name}'s writes back, and drops them`}`,
    );
  const dropped =
    discard && m
      ? await writesLeftBehind(s.transports(mig.target.name), s.transports(mig.source.name), m, (x) =>
          s.redactor.redact(x),
        )
      : undefined;
  if (dropped) s.io.err(`warning target-writes-discarded: ${dropped.join('; ')}\n`);
  if (!flags.yes) {
    if (!(flags.interactive ?? process.stdin.isTTY))
      throw new UsageError(
        'rollback changes servers and needs a confirmation, but no one can answer here (stdin is not a terminal)',
        'Pass --yes.',
        '--yes',
      );
    const what = dropped
      ? `DROPPING what ${mig.target.name} wrote since the move (above)`
      : `what ${mig.target.name} wrote since the move is carried back first`;
    if (!(await confirm(`serve ${stack} from ${mig.source.name} again (${what})? [y/N] `)))
      throw declined(`the rollback of ${stack}`);
  }
  const journal = openJournal(stateDir(s.io.env), s.redactor);
  try {
    const stackOf = s.loaded.stacks.find((x) => x.def.name === stack)!;
    // A migration of this stack that stopped before its end holds both locks: its rollback takes them over.
    // So does a rollback of it that stopped before its end.
    const unfinished = journal.lastUnfinished(
      (r) => isMigrationOf(r.command, stack, mig.target.name) || rolledBackTo(r.command, stack) === mig.target.name,
    );
    const takeOver = unfinished?.id;
    if (takeOver && !flags.json)
      s.io.err(`rolling back the unfinished run ${takeOver} (${unfinished!.command}): taking over its locks\n`);
    const summary = await execute(
      s,
      {
        plan,
        targets: [
          { stack: stackOf, server: mig.source },
          { stack: stackOf, server: mig.target },
        ],
      },
      `rollback ${stack} (migration to ${mig.target.name} from ${mig.source.name})`,
      flags,
      journal,
      takeOver ? { takeOver } : {},
    );
    if (summary.failed === 0 && !flags.json)
      s.io.out(
        `${stack} serves from ${mig.source.name} again${def.server !== mig.source.name ? `: set \`server: ${mig.source.name}\` for it in ferry.yml` : ''}.\n`,
      );
    return summary.failed > 0 ? 1 : 0;
  } finally {
    journal.close();
  }
}
