/**
 * A step of a move that is done for good once the move has passed a point: a run resumed
 * after it must not do the step again (stop the writers again, dump or copy again over data
 * the target has taken since). Until then, the step is the step it wraps: its check, apply,
 * verify and rollback, with its observation kept inside this one's. Past the point its
 * check needs nothing; an apply asked for all the same (the point passed between check and
 * apply) refuses with the point's error.
 */
import type { Step, StepContext } from '../../engine/step.js';

export interface DoneOnceObserved<O = unknown> {
  /** The move had passed the point at the check: nothing to do. */
  done: boolean;
  /** What the wrapped step's check observed (absent once done). */
  inner?: O;
}

export interface DoneOnceOptions<O> {
  step: Step<O>;
  /** Whether the move has passed the point, read from a host the step acts on or reaches. */
  passed: (ctx: StepContext) => Promise<boolean>;
  /** The host `passed` reads (added to the step's `reaches` when it is not its own). */
  readsOn: string;
  /** For the runbook: why the step has nothing to do once the point is passed. */
  afterwards: string;
  /** The error an apply past the point throws. */
  refusal: (ctx: StepContext) => Promise<Error>;
}

/** The wrapped step's context, with its own part of a resumed run's observation as `prior`. */
function innerContext<O>(ctx: StepContext): StepContext {
  const { prior, ...rest } = ctx;
  const inner = (prior as DoneOnceObserved<O> | undefined)?.inner;
  return inner === undefined ? rest : { ...rest, prior: inner };
}

export function doneOnceStep<O>(o: DoneOnceOptions<O>): Step<DoneOnceObserved<O>> {
  const { step } = o;
  const reaches = [...new Set([...(step.reaches ?? []), ...(o.readsOn === step.host ? [] : [o.readsOn])])];
  // Observations come from check; one that holds no inner part (done) gives the step nothing to undo.
  const inner = (observed: DoneOnceObserved<O>) => observed.inner as O;
  return {
    ...step,
    ...(reaches.length > 0 ? { reaches } : {}),
    doc: () => {
      const d = step.doc();
      return { ...d, purpose: `${d.purpose} ${o.afterwards}` };
    },
    async check(ctx) {
      if (await o.passed(ctx)) return { needed: false, observed: { done: true } };
      const checked = await step.check(innerContext<O>(ctx));
      const observed: DoneOnceObserved<O> = {
        done: false,
        ...(checked.observed === undefined ? {} : { inner: checked.observed }),
      };
      return { ...checked, observed };
    },
    async apply(ctx, observed) {
      if (await o.passed(ctx)) throw await o.refusal(ctx);
      await step.apply(innerContext<O>(ctx), inner(observed));
    },
    verify: (ctx, observed) => step.verify(innerContext<O>(ctx), inner(observed)),
    async rollback(ctx, observed) {
      if (!observed.done) await step.rollback(innerContext<O>(ctx), inner(observed));
    },
  };
}
