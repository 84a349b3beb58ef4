/**
 * A file removed (a marker of a finished migration); `check` says nothing to do when it is
 * gone. The file is moved aside to PATH.ferry-prev rather than deleted, so that rollback,
 * even after a kill, puts back exactly what was there (content, mode, owner).
 */
import { cmd, or, render, type Command } from '../../shell/command.js';
import type { Step, StepContext } from '../../engine/step.js';

/** Where the removed file is kept for rollback. */
export const keptPath = (path: string): string => `${path}.ferry-prev`;

/** What the check saw: whether the file was there (before the interrupted run, on `--resume`). */
export interface RemoveObserved {
  existed: boolean;
}

export const existsCommand = (path: string): Command => cmd('test', '-e', path);
/** Moves the file aside; nothing when it is gone already (a resumed run). */
export const keepAsideCommand = (path: string): Command =>
  or(cmd('test', '!', '-e', path), cmd('mv', '-f', path, keptPath(path)));
/** Puts the kept file back, unless the file is there again or nothing was kept. */
export const restoreCommand = (path: string): Command =>
  or(existsCommand(path), cmd('test', '!', '-e', keptPath(path)), cmd('mv', '-f', keptPath(path), path));

export function removeStep(o: {
  id: string;
  host: string;
  path: string;
  sudo: boolean;
  dependsOn: string[];
}): Step<RemoveObserved> {
  const exists = async (ctx: StepContext) =>
    (await ctx.transport.exec(existsCommand(o.path), { sudo: o.sudo })).code === 0;
  // mv and test are no tool with a classifier: a failure is the transport's command-failed, with their words.
  const run = async (ctx: StepContext, c: Command) => {
    await ctx.transport.exec(c, { sudo: o.sudo, check: true });
  };
  return {
    id: o.id,
    host: o.host,
    phase: 'verify',
    title: `remove ${o.path}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Remove ${o.path} (kept as ${keptPath(o.path)} for rollback).`,
      commands: [render(keepAsideCommand(o.path))],
      verify: 'It is gone.',
      undo: `Put it back as it was: ${render(restoreCommand(o.path))}`,
    }),
    async check(ctx) {
      const now = await exists(ctx);
      // Resumed after the interrupted run moved it aside: still this step's change to undo.
      const existed = now || (ctx.prior as Partial<RemoveObserved> | undefined)?.existed === true;
      return existed
        ? { needed: true, change: { summary: `remove ${o.path}` }, observed: { existed } }
        : { needed: false, observed: { existed } };
    },
    apply: (ctx) => run(ctx, keepAsideCommand(o.path)),
    async verify(ctx) {
      return (await exists(ctx)) ? { ok: false, message: `${o.path} is still there` } : { ok: true };
    },
    async rollback(ctx, { existed }) {
      if (existed) await run(ctx, restoreCommand(o.path));
    },
  };
}
