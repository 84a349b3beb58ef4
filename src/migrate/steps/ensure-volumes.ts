/** The project's named volumes created on the target, labelled so that Compose adopts them as its own. */
import { cmd, quiet, render } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import type { Migration } from '../context.js';
import { ensureVolumeCommand } from '../volumes.js';

const inspect = (full: string) => quiet(cmd('docker', 'volume', 'inspect', full));

export function ensureVolumesStep(o: { id: string; m: Migration; volumes: string[]; dependsOn: string[] }): Step {
  const { m } = o;
  const full = (v: string) => `${m.release.project}_${v}`;
  let missing: string[] = [];
  const find = async (ctx: StepContext) => {
    const out: string[] = [];
    for (const v of o.volumes)
      if ((await ctx.transport.exec(inspect(full(v)), { sudo: m.target.sudo })).code !== 0) out.push(v);
    return out;
  };
  return {
    id: o.id,
    host: m.target.name,
    phase: 'transfer',
    title: `volumes of ${m.release.project} on ${m.target.name}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Create the named volumes of project ${m.release.project} on ${m.target.name} (${o.volumes.join(', ') || 'none'}), with Compose's labels so that it adopts them.`,
      commands: o.volumes.map((v) => render(ensureVolumeCommand(m.release.project, v))),
      verify: 'docker volume inspect finds each.',
      undo: 'Removes the volumes this run created (they hold only copied data).',
    }),
    async check(ctx) {
      missing = await find(ctx);
      return missing.length === 0
        ? { needed: false }
        : { needed: true, change: { summary: `create ${missing.map(full).join(', ')}` } };
    },
    async apply(ctx) {
      for (const v of missing) {
        const r = await ctx.transport.exec(ensureVolumeCommand(m.release.project, v), { sudo: m.target.sudo });
        if (r.code !== 0)
          throw new StepError(
            'volume-create-failed',
            `${m.target.name}: docker volume create ${full(v)} failed: ${r.stderr.trim()}`,
            'Check that Docker runs there and has disk space.',
          );
      }
    },
    async verify(ctx) {
      const left = await find(ctx);
      return left.length === 0 ? { ok: true } : { ok: false, message: `missing: ${left.join(', ')}` };
    },
    async rollback(ctx) {
      for (const v of missing)
        await ctx.transport.exec(cmd('docker', 'volume', 'rm', full(v)), { sudo: m.target.sudo });
    },
  };
}
