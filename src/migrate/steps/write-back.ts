/**
 * `ferry rollback` of a migration whose target's data came into use: before the source
 * serves again, what the target wrote since is carried back to it and proven equal (see
 * ../write-back.ts). Nothing to do when the target's data never came into use. A table
 * that exists on one side only refuses the rollback (`write-back-impossible`, with the rows
 * on each side): `--discard-target-writes` is the way to roll back regardless.
 */
import { cmd } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext, StepPlace } from '../../engine/step.js';
import type { Migration } from '../context.js';
import { livePath, targetLive } from '../live.js';
import type { VolumeCopy } from '../volumes.js';
import {
  backChannel,
  carryAllBack,
  databaseDifference,
  databaseEnds,
  refuseUnmatched,
  rowsPhrase,
  same,
} from '../write-back.js';

export interface WriteBackObserved {
  /** When the target's data came into use; absent when it never did. */
  since?: string;
  /** Per table that differs now: rows on both sides (as read at the check). */
  differing: string[];
}

export interface WriteBackOptions extends StepPlace {
  m: Migration;
  copies: (ctx: StepContext) => Promise<VolumeCopy[]>;
  /**
   * Since when the target's data has been in use, or undefined when it never was (nothing to
   * carry back). Default: the migration's marker on the target (`migration-live`).
   */
  inUse?: (ctx: StepContext) => Promise<string | undefined>;
}

/** What differs, as phrases; a database that cannot be read yet (the source's stopped) says so. */
async function differing(ctx: StepContext, m: Migration): Promise<string[]> {
  const out: string[] = [];
  for (const d of m.databases) {
    const ends = await databaseEnds(ctx, m, d).catch((e: unknown) => {
      if (e instanceof StepError && e.code === 'database-not-running') return undefined;
      throw e;
    });
    if (!ends) {
      out.push(`${d.db}: compared once both databases run`);
      continue;
    }
    const x = await databaseDifference(ends, d, (s) => ctx.redactor.redact(s));
    refuseUnmatched(m, x);
    if (same(x)) continue;
    out.push(
      ...x.tables.map((t) => `${d.db} ${rowsPhrase(t, m.target.name, m.source.name)}`),
      ...(x.sequences.length > 0 ? [`${d.db}: ${x.sequences.length} sequences`] : []),
    );
  }
  return out;
}

/** Acts on the target (its writers stopped, the marker removed) and reaches the source (written back to). */
export function writeBackStep(o: WriteBackOptions): Step<WriteBackObserved> {
  const { m } = o;
  const inUse = o.inUse ?? (async (ctx: StepContext) => (await targetLive(ctx.transport, m))?.at);
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'deploy',
    title: `carry back to ${m.source.name} what ${m.stack} wrote on ${m.target.name} since the move`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `${m.target.name} served ${m.stack} since the move: its writes exist only there. Before ${m.source.name} serves again, they are carried back: ${m.target.name}'s writers stopped (Redis saved first), the tables that differ copied back in one transaction each database (with every sequence), the volumes (${m.volumes.join(', ') || 'none'}) by rsync, over an SSH channel ${m.target.name} → ${m.source.name} made for it (${backChannel(m).keyPath}); then every table, sequence and volume proven equal on both sides, and ${livePath(m.stack)} removed.`,
      commands: [
        'pg_dump --data-only -t TABLE... (on the target) | psql (on the source) in one transaction: DELETE FROM TABLE...; the rows; COMMIT',
        'rsync -aHAX --numeric-ids --delete --inplace TARGET_VOLUME/ SOURCE:SOURCE_VOLUME/',
      ],
      verify: `${livePath(m.stack)} is gone from ${m.target.name} (it goes only once both sides are proven equal).`,
      undo: `Nothing: ${m.source.name} now holds what ${m.target.name} holds.`,
    }),
    async check(ctx) {
      const since = await inUse(ctx);
      if (since === undefined) return { needed: false, observed: { differing: [] } };
      const d = await differing(ctx, m);
      return {
        needed: true,
        change: {
          summary:
            d.length > 0
              ? `carry back ${d.join('; ')}${m.volumes.length > 0 ? `, and the volumes ${m.volumes.join(', ')}` : ''}`
              : `prove ${m.target.name} and ${m.source.name} equal (no table differs now)${m.volumes.length > 0 ? `, the volumes ${m.volumes.join(', ')} copied back` : ''}`,
        },
        observed: { since, differing: d },
      };
    },
    async apply(ctx) {
      await carryAllBack(ctx, m, await o.copies(ctx));
      await ctx.transport.exec(cmd('rm', '-f', livePath(m.stack)), { sudo: m.target.sudo, check: true });
    },
    async verify(ctx) {
      if (await targetLive(ctx.transport, m)) return { ok: false, message: `${livePath(m.stack)} is still there` };
      const d = await differing(ctx, m);
      return d.length === 0 ? { ok: true } : { ok: false, message: `still different: ${d.join('; ')}` };
    },
    async rollback() {},
  };
}
