/**
 * Requests held, not refused, during a replicated cut-over. Before the source's nginx is
 * pointed at the target, the target drops (does not answer) the source's connections to
 * its port 80. nginx's connection attempts then wait, and the kernel sends them again
 * (after 1, 3, 7, 15 s...). Once the target serves, the rule goes, and the next attempt
 * of each held request is served by the target. No request is answered with an error.
 */
import { cmd, render, type Command } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import type { Migration } from '../context.js';

const comment = (stack: string): string => `ferry-hold-${stack}`;

/** The rule's spec (for -I, -C and -D): the source's TCP connections to port 80. */
export function holdRule(stack: string, from: string): string[] {
  return [
    'INPUT',
    '-p',
    'tcp',
    '-s',
    from,
    '--dport',
    '80',
    '-m',
    'comment',
    '--comment',
    comment(stack),
    '-j',
    'DROP',
  ];
}

const tool = (from: string): string => (from.includes(':') ? 'ip6tables' : 'iptables');
export const holdCommand = (stack: string, from: string, op: '-I' | '-C' | '-D'): Command =>
  cmd(tool(from), '-w', op, ...holdRule(stack, from));

/** What either step's check saw: whether the hold rule was there. */
export interface HoldObserved {
  held: boolean;
}

/** Rules removed at most by one undo (one is inserted per run; a few killed runs may have left more). */
const MAX_RULES = 10;

export function holdSteps(o: {
  m: Pick<Migration, 'stack' | 'ch' | 'target' | 'source'>;
  holdId: string;
  releaseId: string;
  holdDependsOn: string[];
  releaseDependsOn: string[];
}): { hold: Step<HoldObserved>; release: Step<HoldObserved> } {
  const { m } = o;
  const from = m.ch.source.address;
  const sudo = m.target.sudo;
  const held = async (ctx: StepContext) =>
    (await ctx.transport.exec(holdCommand(m.stack, from, '-C'), { sudo })).code === 0;
  const drop = async (ctx: StepContext) => {
    for (let removed = 0; await held(ctx); removed++) {
      if (removed === MAX_RULES)
        throw new StepError(
          'hold-failed',
          `${m.target.name}: the hold rule is still there after ${MAX_RULES} removals`,
          `List them (iptables -S INPUT | grep ${comment(m.stack)}) and remove them by hand: ${render(holdCommand(m.stack, from, '-D'))}`,
        );
      const r = await ctx.transport.exec(holdCommand(m.stack, from, '-D'), { sudo });
      if (r.code !== 0)
        throw new StepError(
          'hold-failed',
          `${m.target.name}: removing the hold rule failed: ${ctx.redactor.redact(r.stderr.trim())}`,
          `Remove it by hand: ${render(holdCommand(m.stack, from, '-D'))}`,
        );
    }
  };
  const undo = `${render(holdCommand(m.stack, from, '-D'))}, as long as ${render(holdCommand(m.stack, from, '-C'))} finds it (at most ${MAX_RULES} times)`;
  const hold: Step<HoldObserved> = {
    id: o.holdId,
    host: m.target.name,
    phase: 'deploy',
    title: `hold ${m.source.name}'s requests at ${m.target.name} (the pause begins)`,
    dependsOn: o.holdDependsOn,
    doc: () => ({
      purpose: `Make ${m.target.name} leave ${m.source.name}'s connections to port 80 unanswered, so that requests the source's nginx sends during the cut-over wait instead of failing.`,
      commands: [render(holdCommand(m.stack, from, '-I'))],
      verify: render(holdCommand(m.stack, from, '-C')),
      undo,
    }),
    async check(ctx) {
      return (await held(ctx))
        ? { needed: false, observed: { held: true } }
        : {
            needed: true,
            change: { summary: `drop ${from} -> port 80 until the target serves` },
            observed: { held: false },
          };
    },
    async apply(ctx) {
      const r = await ctx.transport.exec(holdCommand(m.stack, from, '-I'), { sudo });
      if (r.code !== 0)
        throw new StepError(
          'hold-failed',
          `${m.target.name}: ${tool(from)} refused the hold rule: ${ctx.redactor.redact(r.stderr.trim())}`,
          `${m.target.name} needs ${tool(from)} (Debian: apt-get install iptables) and root or sudo; run migrate again after.`,
        );
    },
    async verify(ctx) {
      return (await held(ctx)) ? { ok: true } : { ok: false, message: 'the hold rule is not there' };
    },
    // Check found no rule (else no apply): every rule of this stack there now is this run's.
    rollback: drop,
  };
  const release: Step<HoldObserved> = {
    id: o.releaseId,
    host: m.target.name,
    phase: 'deploy',
    title: `release the held requests: ${m.target.name} serves (the pause ends)`,
    dependsOn: o.releaseDependsOn,
    doc: () => ({
      purpose: `Remove the hold: the held requests reach ${m.target.name} on their next attempt and are served there.`,
      commands: [undo],
      verify: 'The rule is gone.',
      undo: 'Nothing.',
    }),
    async check(ctx) {
      return (await held(ctx))
        ? { needed: true, change: { summary: `accept ${from} on port 80 again` }, observed: { held: true } }
        : { needed: false, observed: { held: false } };
    },
    apply: drop,
    async verify(ctx) {
      return (await held(ctx)) ? { ok: false, message: 'the hold rule is still there' } : { ok: true };
    },
    async rollback() {},
  };
  return { hold, release };
}
