/**
 * When the target's copy became the one in use. A migration writes
 * `/srv/ferry/STACK/migration-live` on the target right before the stack starts there: from
 * then on its databases and volumes take writes the source does not have (requests, and
 * the stack's own workers). Every step that would drop, truncate or overwrite the target's
 * data reads the marker first: present, the step's work was done before it (the marker is
 * written only after the proof), and it must never run again, so it does nothing; and if
 * it were ever asked to act, it refuses (`target-in-use`). The marker goes only once a
 * rollback has carried the target's writes back to the source and proven both equal.
 */
import { cmd, quiet } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import type { Transport } from '../transport/transport.js';
import { stackDir } from '../deploy/layout.js';
import type { Step, StepContext } from '../engine/step.js';
import type { Migration } from './context.js';
import { doneOnceStep } from './steps/done-once.js';

export const livePath = (stack: string): string => `${stackDir(stack)}/migration-live`;

/** What the marker holds. */
export interface LiveMark {
  from: string;
  to: string;
  /** When the stack was about to start on the target (ISO time). */
  at: string;
}

/** The marker on the server `t` reaches, when there is one. */
export async function readLive(t: Transport, stack: string, sudo: boolean): Promise<LiveMark | undefined> {
  const r = await t.exec(quiet(cmd('cat', livePath(stack))), { sudo });
  if (r.code !== 0) return undefined;
  try {
    return JSON.parse(r.stdout) as LiveMark;
  } catch {
    // Unreadable, but there: the data is in use all the same.
    return { from: '?', to: t.name, at: '?' };
  }
}

/** `t` reaches the target: the marker there, when any (whatever migration wrote it). */
export const targetLive = (t: Transport, m: Pick<Migration, 'stack' | 'target'>): Promise<LiveMark | undefined> =>
  readLive(t, m.stack, m.target.sudo);

/** The refusal of a step asked to drop or overwrite the target's data while it is in use (since `since`). */
export function targetInUse(m: Pick<Migration, 'stack' | 'target' | 'source'>, what: string, since: string): StepError {
  return new StepError(
    'target-in-use',
    `${m.target.name}: refusing to ${what}: ${m.stack} has been in use there since ${since} (${livePath(m.stack)}), so its data may hold writes that exist nowhere else`,
    `Finish the migration with \`ferry migrate ${m.stack} --to ${m.target.name} --resume\`, or roll it back with \`ferry rollback ${m.stack}\`, which carries those writes back to ${m.source.name} first.`,
  );
}

/** Throws `target-in-use` when the target's copy is in use: for a step right before it drops or overwrites data there. */
export async function refuseLiveTarget(
  t: Transport,
  m: Pick<Migration, 'stack' | 'target' | 'source'>,
  what: string,
): Promise<void> {
  const live = await targetLive(t, m);
  if (live) throw targetInUse(m, what, live.at);
}

/**
 * `step` done for good once the target's data is in use: every step the plan puts before
 * that point (its work was needed for the proof the marker follows). A resumed run finds
 * it done; an apply asked for all the same refuses with `target-in-use`.
 */
export function doneOnceLive<O>(step: Step<O>, m: Pick<Migration, 'stack' | 'source' | 'target'>): Step {
  const on = (ctx: StepContext) => (step.host === m.target.name ? ctx.transport : ctx.on(m.target.name));
  return doneOnceStep({
    step,
    readsOn: m.target.name,
    passed: async (ctx) => (await targetLive(on(ctx), m)) !== undefined,
    afterwards: `Nothing to do once ${livePath(m.stack)} is on ${m.target.name}: the move is past this step, and the data there is in use.`,
    refusal: async (ctx) => targetInUse(m, `run ${step.id} again`, (await targetLive(on(ctx), m))?.at ?? 'now'),
  }) as Step;
}

/** Ids of every step `id` depends on, directly or not. */
export function ancestors(steps: Pick<Step, 'id' | 'dependsOn'>[], id: string): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const out = new Set<string>();
  const visit = (x: string): void => {
    for (const d of byId.get(x)?.dependsOn ?? []) {
      if (out.has(d)) continue;
      out.add(d);
      visit(d);
    }
  };
  visit(id);
  return out;
}
