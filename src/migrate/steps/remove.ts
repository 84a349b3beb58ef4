/** A file removed (a marker of a finished migration); `check` says nothing to do when it is gone. */
import { cmd, render } from '../../shell/command.js';
import type { Step } from '../../engine/step.js';

export function removeStep(o: { id: string; host: string; path: string; sudo: boolean; dependsOn: string[] }): Step {
  let content: Buffer | undefined;
  const exists = async (t: Parameters<Step['check']>[0]['transport']) =>
    (await t.exec(cmd('test', '-e', o.path), { sudo: o.sudo })).code === 0;
  return {
    id: o.id,
    host: o.host,
    phase: 'verify',
    title: `remove ${o.path}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Remove ${o.path}.`,
      commands: [render(cmd('rm', '-f', o.path))],
      verify: 'It is gone.',
      undo: 'Put it back as it was.',
    }),
    async check(ctx) {
      return (await exists(ctx.transport))
        ? { needed: true, change: { summary: `remove ${o.path}` } }
        : { needed: false };
    },
    async apply(ctx) {
      content = await ctx.transport.download(o.path, { sudo: o.sudo });
      await ctx.transport.exec(cmd('rm', '-f', o.path), { sudo: o.sudo, check: true });
    },
    async verify(ctx) {
      return (await exists(ctx.transport)) ? { ok: false, message: `${o.path} is still there` } : { ok: true };
    },
    async rollback(ctx) {
      if (content !== undefined) await ctx.transport.upload(o.path, content, { mode: 0o644, sudo: o.sudo });
    },
  };
}
