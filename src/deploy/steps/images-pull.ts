/** Images the server pulls from its registry (`deploy.images: pull`): only those it lacks. */
import { cmd, render } from '../../shell/command.js';
import { imageIdCommand, imageIds } from '../../engine/steps/images.js';
import { StepError } from '../../engine/errors.js';
import type { Step } from '../../engine/step.js';

export function pullStep(o: { id: string; host: string; images: string[]; sudo: boolean; dependsOn: string[] }): Step {
  let missing: string[] = [];
  const find = async (t: Parameters<Step['check']>[0]['transport']) => {
    const ids = await imageIds(t, o.images, o.sudo);
    return o.images.filter((img) => !ids.get(img));
  };
  return {
    id: o.id,
    host: o.host,
    phase: 'transfer',
    title: `pull ${o.images.join(', ')}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Have ${o.host} pull the images it does not have yet: ${o.images.join(', ')}.`,
      commands: o.images.map((i) => `${render(imageIdCommand(i))} || ${render(cmd('docker', 'pull', i))}`),
      verify: 'docker image inspect finds every image.',
      undo: 'Nothing: pulled images stay (unused ones go with `docker image prune`).',
    }),
    async check(ctx) {
      missing = await find(ctx.transport);
      return missing.length === 0
        ? { needed: false }
        : { needed: true, change: { summary: `pull ${missing.join(', ')}` } };
    },
    async apply(ctx) {
      for (const img of missing) {
        const r = await ctx.transport.exec(cmd('docker', 'pull', '-q', img), { sudo: o.sudo, timeoutMs: 30 * 60_000 });
        if (r.code !== 0)
          throw new StepError(
            'image-pull-failed',
            `${o.host}: docker pull ${img} failed: ${ctx.redactor.redact(r.stderr.trim().split('\n').pop() ?? '')}`,
            'Check the image name and that the server can reach and log in to its registry (`docker login` on the server), or use deploy.images: push.',
          );
      }
    },
    async verify(ctx) {
      const still = await find(ctx.transport);
      return still.length === 0 ? { ok: true } : { ok: false, message: `still missing: ${still.join(', ')}` };
    },
    async rollback() {},
  };
}
