/** Images the server pulls from its registry (`deploy.images: pull`): only those it lacks. */
import { cmd, render } from '../../shell/command.js';
import { imageIdCommand, imageIds } from '../../engine/steps/images.js';
import type { Step, StepContext } from '../../engine/step.js';
import { doing, failureAs } from './failure.js';

/** What the check of the pulled images saw. */
export interface PullObserved {
  /** Images the server lacked, in the stack's order: apply pulls these. */
  missing: string[];
}

/** Each pull gets this long (a large image over a slow link). */
const PULL_TIMEOUT_MS = 30 * 60_000;

const PULL_HINT =
  'Check the image name and that the server can reach and log in to its registry (`docker login` on the server), or use deploy.images: push.';

export const pullCommand = (image: string) => cmd('docker', 'pull', '-q', image);

export function pullStep(o: {
  id: string;
  host: string;
  images: string[];
  sudo: boolean;
  dependsOn: string[];
}): Step<PullObserved> {
  const find = async (ctx: StepContext) => {
    const ids = await imageIds(ctx.transport, o.images, o.sudo);
    return o.images.filter((img) => !ids.get(img));
  };
  return {
    id: o.id,
    host: o.host,
    phase: 'transfer',
    title: `pull ${o.images.join(', ')}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Have ${o.host} pull the images it does not have yet: ${o.images.join(', ')} (each pull at most 30 minutes).`,
      commands: o.images.map((i) => `${render(imageIdCommand(i))} || ${render(cmd('docker', 'pull', i))}`),
      verify: 'docker image inspect finds every image.',
      undo: 'Nothing: pulled images stay (unused ones go with `docker image prune`).',
    }),
    async check(ctx) {
      const missing = await find(ctx);
      return missing.length === 0
        ? { needed: false, observed: { missing } }
        : { needed: true, change: { summary: `pull ${missing.join(', ')}` }, observed: { missing } };
    },
    async apply(ctx, { missing }) {
      for (const img of missing) {
        const r = await ctx.transport.exec(pullCommand(img), { sudo: o.sudo, timeoutMs: PULL_TIMEOUT_MS });
        const failed = failureAs('docker', r, doing(ctx, `docker pull ${img}`), 'image-pull-failed', PULL_HINT);
        if (failed) throw failed;
      }
    },
    async verify(ctx) {
      const still = await find(ctx);
      return still.length === 0 ? { ok: true } : { ok: false, message: `still missing: ${still.join(', ')}` };
    },
    async rollback() {},
  };
}
