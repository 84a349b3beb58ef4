/** The project's named volumes created on the target, labelled so that Compose adopts them as its own. */
import { cmd, quiet, render } from '../../shell/command.js';
import type { Step, StepContext } from '../../engine/step.js';
import { toolFailure } from '../../tools/classify.js';
import { runTool } from '../../tools/run.js';
import type { Migration } from '../context.js';
import { ensureVolumeCommand } from '../volumes.js';

const inspect = (full: string) => quiet(cmd('docker', 'volume', 'inspect', full));

/** What the check saw: the volumes (short names) that were not there, which rollback removes. */
export interface EnsureVolumesObserved {
  /** On `--resume`, also those the interrupted run created. */
  missing: string[];
}

export function ensureVolumesStep(o: {
  id: string;
  m: Pick<Migration, 'release' | 'target'>;
  volumes: string[];
  dependsOn: string[];
}): Step<EnsureVolumesObserved> {
  const { m } = o;
  const sudo = m.target.sudo;
  const full = (v: string) => `${m.release.project}_${v}`;
  const exists = async (ctx: StepContext, v: string) =>
    (await ctx.transport.exec(inspect(full(v)), { sudo })).code === 0;
  const find = async (ctx: StepContext) => {
    const out: string[] = [];
    for (const v of o.volumes) if (!(await exists(ctx, v))) out.push(v);
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
      undo: 'Removes the volumes this run created (they hold only copied data); one still used by a container stays.',
    }),
    async check(ctx) {
      const now = await find(ctx);
      const prior = (ctx.prior as Partial<EnsureVolumesObserved> | undefined)?.missing ?? [];
      const missing = [...new Set([...prior, ...now])];
      if (missing.length === 0) return { needed: false, observed: { missing } };
      const summary =
        now.length > 0
          ? `create ${now.map(full).join(', ')}`
          : `${missing.map(full).join(', ')} created by the interrupted run`;
      return { needed: true, change: { summary }, observed: { missing } };
    },
    async apply(ctx) {
      for (const v of await find(ctx))
        await runTool(ctx, 'docker', ensureVolumeCommand(m.release.project, v), {
          what: `docker volume create ${full(v)}`,
          sudo,
        });
    },
    async verify(ctx) {
      const left = await find(ctx);
      return left.length === 0 ? { ok: true } : { ok: false, message: `missing: ${left.join(', ')}` };
    },
    async rollback(ctx, { missing }) {
      for (const v of missing) {
        if (!(await exists(ctx, v))) continue;
        const r = await ctx.transport.exec(cmd('docker', 'volume', 'rm', full(v)), { sudo });
        // A container of the project still holds it (stopped, not removed): the copy stays with it.
        if (/volume is in use/i.test(r.stderr)) continue;
        const failed = toolFailure('docker', r, {
          host: ctx.transport.name,
          what: `removing the volume ${full(v)}`,
          redact: (s) => ctx.redactor.redact(s),
        });
        if (failed) throw failed;
      }
    },
  };
}
