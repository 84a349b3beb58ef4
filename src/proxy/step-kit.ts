/** Two small ways to make the proxy's steps: from an inspection, and around another step. */
import type { Command } from '../shell/command.js';
import type { Step, StepContext, StepDoc } from '../engine/step.js';
import { shown } from './commands.js';

/** What an inspection of the host found: what must change (undefined: nothing), and what was observed. */
export interface Inspection<O> {
  summary: string | undefined;
  observed: O;
}

export interface InspectedStepOptions<O> {
  id: string;
  host: string;
  title: string;
  dependsOn: string[];
  doc: StepDoc;
  /**
   * No side effects: what must change and what was observed. Also the verification
   * (`stage` says which), where only the summary counts.
   */
  inspect(ctx: StepContext, stage: 'check' | 'verify'): Promise<Inspection<O>>;
  apply(ctx: StepContext, observed: O): Promise<void>;
  /** Default: nothing to undo. */
  rollback?(ctx: StepContext, observed: O): Promise<void>;
}

/** A `proxy` step whose check and verify are one inspection of the host: verified when nothing is left to change. */
export function inspectedStep<O>(o: InspectedStepOptions<O>): Step<O> {
  return {
    id: o.id,
    host: o.host,
    phase: 'proxy',
    title: o.title,
    dependsOn: o.dependsOn,
    doc: () => o.doc,
    async check(ctx) {
      const { summary, observed } = await o.inspect(ctx, 'check');
      return summary === undefined ? { needed: false, observed } : { needed: true, change: { summary }, observed };
    },
    apply: (ctx, observed) => o.apply(ctx, observed),
    async verify(ctx) {
      const { summary } = await o.inspect(ctx, 'verify');
      return summary === undefined ? { ok: true } : { ok: false, message: `still to do: ${summary}` };
    },
    rollback: (ctx, observed) => (o.rollback ? o.rollback(ctx, observed) : Promise.resolve()),
  };
}

export interface AroundOptions {
  sudo: boolean;
  /** Run before `apply` (e.g. create the file's directory). */
  before?: Command[];
  /** Run after `apply` and after `rollback` (e.g. `systemctl daemon-reload`). */
  after?: Command[];
}

/** A new step: `inner` with commands run around its apply and rollback, shown in its runbook entry. */
export function around<O>(inner: Step<O>, o: AroundOptions): Step<O> {
  const run = async (ctx: StepContext, commands: Command[] = []) => {
    for (const c of commands) await ctx.transport.exec(c, { sudo: o.sudo, check: true });
  };
  return {
    ...inner,
    doc: () => {
      const d = inner.doc();
      return {
        ...d,
        commands: [
          ...(o.before ?? []).map((c) => shown(c, o.sudo)),
          ...d.commands,
          ...(o.after ?? []).map((c) => shown(c, o.sudo)),
        ],
      };
    },
    check: (ctx) => inner.check(ctx),
    async apply(ctx, observed) {
      await run(ctx, o.before);
      await inner.apply(ctx, observed);
      await run(ctx, o.after);
    },
    verify: (ctx, observed) => inner.verify(ctx, observed),
    async rollback(ctx, observed) {
      await inner.rollback(ctx, observed);
      await run(ctx, o.after);
    },
  };
}
