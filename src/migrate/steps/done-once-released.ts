/**
 * A step of a service move (`ferry migrate --service`) that is done for good once the source
 * runs the stack's new release: a run resumed after that point must not stop the writers
 * again, nor dump again over the data the target has taken since (see done-once.ts).
 */
import type { Step } from '../../engine/step.js';
import { StepError } from '../../engine/errors.js';
import { currentCommand, idOfLink } from '../../deploy/release-meta.js';
import { render } from '../../shell/command.js';
import { doneOnceStep, type DoneOnceObserved } from './done-once.js';

export type DoneOnceReleasedObserved<O = unknown> = DoneOnceObserved<O>;

export interface DoneOnceReleasedOptions<O> {
  step: Step<O>;
  stack: string;
  /** The server whose `current` release is read (the source), and whether it needs sudo. */
  source: { name: string; sudo: boolean };
  /** The release the source runs once the move has passed this step. */
  releaseId: string;
}

export function doneOnceReleasedStep<O>(o: DoneOnceReleasedOptions<O>): Step<DoneOnceObserved<O>> {
  const { source } = o;
  return doneOnceStep({
    step: o.step,
    readsOn: source.name,
    async passed(ctx) {
      const cur = await ctx.on(source.name).exec(currentCommand(o.stack), { sudo: source.sudo });
      return cur.code === 0 && idOfLink(cur.stdout) === o.releaseId;
    },
    afterwards: `Nothing to do once ${source.name} runs release ${o.releaseId} (\`${render(currentCommand(o.stack))}\`): the move is past this step.`,
    refusal: async () =>
      new StepError(
        'source-in-use',
        `${source.name} runs release ${o.releaseId} already: ${o.step.id} must not run again`,
        `Finish the move with --resume, or roll it back with \`ferry rollback ${o.stack}\`.`,
      ),
  });
}
