/**
 * A small file removed (a marker of a migration, its report); `check` says nothing to do when
 * it is gone. The check observes the file's text, so that rollback, even after a kill, puts
 * back exactly what was there (mode 600), and nothing is left behind once the run succeeded.
 * Markers hold names and times, never secrets.
 */
import { cmd, quiet, render } from '../../shell/command.js';
import type { Step, StepContext } from '../../engine/step.js';

/** What the check saw: the file's text, when it was there (before the interrupted run, on `--resume`). */
export interface RemoveObserved {
  existed: boolean;
  content?: string;
}

export function removeStep(o: {
  id: string;
  host: string;
  path: string;
  sudo: boolean;
  dependsOn: string[];
}): Step<RemoveObserved> {
  const read = async (ctx: StepContext) => {
    const r = await ctx.transport.exec(quiet(cmd('cat', o.path)), { sudo: o.sudo });
    return r.code === 0 ? r.stdout : undefined;
  };
  return {
    id: o.id,
    host: o.host,
    phase: 'verify',
    title: `remove ${o.path}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Remove ${o.path} (its text kept in the journal for rollback).`,
      commands: [render(cmd('rm', '-f', o.path))],
      verify: 'It is gone.',
      undo: `Write it back as it was (mode 600).`,
    }),
    async check(ctx) {
      const now = await read(ctx);
      // Resumed after the interrupted run removed it: still this step's change to undo.
      const prior = ctx.prior as Partial<RemoveObserved> | undefined;
      if (now === undefined && prior?.existed)
        return { needed: true, change: { summary: `remove ${o.path}` }, observed: prior as RemoveObserved };
      return now === undefined
        ? { needed: false, observed: { existed: false } }
        : { needed: true, change: { summary: `remove ${o.path}` }, observed: { existed: true, content: now } };
    },
    // rm is no tool with a classifier: a failure is the transport's command-failed, with its words.
    apply: async (ctx) => {
      await ctx.transport.exec(cmd('rm', '-f', o.path), { sudo: o.sudo, check: true });
    },
    async verify(ctx) {
      return (await read(ctx)) === undefined ? { ok: true } : { ok: false, message: `${o.path} is still there` };
    },
    async rollback(ctx, observed) {
      if (!observed.existed || observed.content === undefined || (await read(ctx)) !== undefined) return;
      await ctx.transport.upload(o.path, observed.content, { mode: 0o600, sudo: o.sudo });
    },
  };
}
