/**
 * A step of a service move (`ferry migrate --service`) that is done for good once the source
 * runs the stack's new release: a run resumed after that point must not stop the writers
 * again, nor dump again over the data the target has taken since. Until then, the step is
 * the step it wraps: its check, apply, verify and rollback, with its observation kept
 * inside this one's.
 */
import type { Step, StepContext } from '../../engine/step.js';
import { currentCommand, idOfLink } from '../../deploy/release-meta.js';
import { render } from '../../shell/command.js';

export interface DoneOnceReleasedObserved<O = unknown> {
  /** The source's `current` link named the new release at the check: nothing to do. */
  released: boolean;
  /** What the wrapped step's check observed (absent once released). */
  inner?: O;
}

export interface DoneOnceReleasedOptions<O> {
  step: Step<O>;
  stack: string;
  /** The server whose `current` release is read (the source), and whether it needs sudo. */
  source: { name: string; sudo: boolean };
  /** The release the source runs once the move has passed this step. */
  releaseId: string;
}

/** The wrapped step's context, with its own part of a resumed run's observation as `prior`. */
function innerContext<O>(ctx: StepContext): StepContext {
  const { prior, ...rest } = ctx;
  const inner = (prior as DoneOnceReleasedObserved<O> | undefined)?.inner;
  return inner === undefined ? rest : { ...rest, prior: inner };
}

export function doneOnceReleasedStep<O>(o: DoneOnceReleasedOptions<O>): Step<DoneOnceReleasedObserved<O>> {
  const { step, source } = o;
  const reaches = [...new Set([...(step.reaches ?? []), ...(source.name === step.host ? [] : [source.name])])];
  const released = async (ctx: StepContext) => {
    const cur = await ctx.on(source.name).exec(currentCommand(o.stack), { sudo: source.sudo });
    return cur.code === 0 && idOfLink(cur.stdout) === o.releaseId;
  };
  // Observations come from check; one that holds no inner part (released) gives the step nothing to undo.
  const inner = (observed: DoneOnceReleasedObserved<O>) => observed.inner as O;
  return {
    ...step,
    ...(reaches.length > 0 ? { reaches } : {}),
    doc: () => {
      const d = step.doc();
      return {
        ...d,
        purpose: `${d.purpose} Nothing to do once ${source.name} runs release ${o.releaseId} (\`${render(currentCommand(o.stack))}\`): the move is past this step.`,
      };
    },
    async check(ctx) {
      if (await released(ctx)) return { needed: false, observed: { released: true } };
      const checked = await step.check(innerContext<O>(ctx));
      const observed: DoneOnceReleasedObserved<O> = {
        released: false,
        ...(checked.observed === undefined ? {} : { inner: checked.observed }),
      };
      return { ...checked, observed };
    },
    apply: (ctx, observed) => step.apply(innerContext<O>(ctx), inner(observed)),
    verify: (ctx, observed) => step.verify(innerContext<O>(ctx), inner(observed)),
    async rollback(ctx, observed) {
      if (!observed.released) await step.rollback(innerContext<O>(ctx), inner(observed));
    },
  };
}
