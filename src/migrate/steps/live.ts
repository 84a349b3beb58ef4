/**
 * The moment the target's copy comes into use (see ../live.ts): the marker written right
 * before the stack starts on the target, after the proof. Its rollback is the way back
 * from there: the target's writes carried back to the source and proven equal (see
 * ../write-back.ts), then the marker removed. Until that succeeds, no step before it may
 * be undone (the source's writers would start on data without those writes), so the step
 * holds the rollback of every step before it.
 */
import { cmd } from '../../shell/command.js';
import type { Step, StepContext, StepPlace } from '../../engine/step.js';
import type { Migration } from '../context.js';
import { livePath, targetLive, type LiveMark } from '../live.js';
import type { VolumeCopy } from '../volumes.js';
import { backChannel, carryAllBack } from '../write-back.js';

export interface LiveObserved {
  /** When the marker was written, by this run or one before it. */
  since?: string;
}

export interface LiveOptions extends StepPlace {
  m: Migration;
  /** The volumes' copies, found from the step's context (it reaches the source). */
  copies: (ctx: StepContext) => Promise<VolumeCopy[]>;
}

/** Acts on the target (the marker; on rollback its writers stopped) and reaches the source (written back to). */
export function liveStep(o: LiveOptions): Step<LiveObserved> {
  const { m } = o;
  const path = livePath(m.stack);
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'deploy',
    title: `${m.stack}'s data is in use on ${m.target.name} from here (${path})`,
    dependsOn: o.dependsOn,
    holdsRollback: true,
    doc: () => ({
      purpose: `Record on ${m.target.name}, before the stack starts there, that its data is in use from now on: no later run drops or overwrites it, and a rollback first carries its writes back to ${m.source.name}.`,
      commands: [`write ${path} (mode 600): {"from", "to", "at"}`],
      verify: `${path} is there.`,
      undo: `Carry back what ${m.target.name} wrote since: its writers stopped (Redis saved first), over an SSH channel ${m.target.name} → ${m.source.name} (${backChannel(m).keyPath}), each table that differs copied back in one transaction with its sequences, each volume by rsync; then every table, sequence and volume proven equal, and the marker removed. If that fails, nothing before this step is undone.`,
    }),
    async check(ctx) {
      const live = await targetLive(ctx.transport, m);
      if (live) return { needed: false, observed: { since: live.at } };
      return { needed: true, change: { summary: `mark ${m.target.name}'s data as in use` }, observed: {} };
    },
    async apply(ctx) {
      const mark: LiveMark = { from: m.source.name, to: m.target.name, at: new Date().toISOString() };
      await ctx.transport.upload(path, `${JSON.stringify(mark)}\n`, { mode: 0o600, sudo: m.target.sudo });
    },
    async verify(ctx) {
      return (await targetLive(ctx.transport, m)) ? { ok: true } : { ok: false, message: `${path} was not written` };
    },
    async rollback(ctx) {
      if (!(await targetLive(ctx.transport, m))) return;
      await carryAllBack(ctx, m, await o.copies(ctx));
      await ctx.transport.exec(cmd('rm', '-f', path), { sudo: m.target.sudo, check: true });
    },
  };
}
