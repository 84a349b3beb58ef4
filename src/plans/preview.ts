/**
 * What a plan would do, read from the servers without changing them: every step's
 * `check`, steps of one host in plan order, hosts in parallel. The fingerprint of the
 * result is what a saved plan is tied to: if the servers change, it changes.
 */
import { createHash } from 'node:crypto';
import type { Redactor } from '../core/redact.js';
import { eventError, redactChange, type EventError } from '../engine/events.js';
import type { Plan } from '../engine/plan.js';
import type { Change, Phase, StepDoc } from '../engine/step.js';
import type { Transport } from '../transport/transport.js';
import { stepContext } from '../engine/context.js';

export interface PreviewStep {
  id: string;
  host: string;
  phase: Phase;
  title: string;
  /** `change`: apply would change something; `ok`: nothing to do; `error`: the check failed. */
  status: 'change' | 'ok' | 'error';
  change?: Change;
  error?: EventError;
  doc: StepDoc;
}

export interface Preview {
  steps: PreviewStep[];
  fingerprint: string;
}

/**
 * Steps of one host in plan order, hosts in parallel. A check that fails while a step it
 * depends on (directly or not) is still to change something is not an error: it may
 * only lack what that step will make (a volume, a running database), and it runs again
 * right before its step applies. It is shown as a change to be checked then.
 */
export async function preview(
  plan: Plan,
  transports: (host: string) => Transport,
  redactor: Redactor,
): Promise<Preview> {
  const out: PreviewStep[] = new Array(plan.steps.length);
  const index = new Map(plan.steps.map((s, i) => [s.id, i]));
  const done = new Map<string, Promise<void>>();
  const changing = (id: string, seen = new Set<string>()): boolean => {
    const s = plan.steps[index.get(id)!]!;
    return s.dependsOn.some(
      (d) =>
        !seen.has(d) &&
        (seen.add(d),
        !plan.steps[index.get(d)!]!.recordOnly && (out[index.get(d)!]?.status === 'change' || changing(d, seen))),
    );
  };
  const hostQueue = new Map<string, Promise<void>>();
  for (const [i, s] of plan.steps.entries()) {
    const prior = hostQueue.get(s.host) ?? Promise.resolve();
    const task = prior.then(async () => {
      await Promise.all(s.dependsOn.map((d) => done.get(d)));
      const base = {
        id: s.id,
        host: s.host,
        phase: s.phase,
        title: redactor.redact(s.title),
        doc: redactDoc(s.doc(), redactor),
      };
      try {
        const r = await s.check(stepContext(s, transports, redactor));
        out[i] = r.needed
          ? { ...base, status: 'change', ...(r.change ? { change: redactChange(r.change, redactor) } : {}) }
          : { ...base, status: 'ok' };
      } catch (e) {
        const error = eventError(e, redactor);
        out[i] = changing(s.id)
          ? {
              ...base,
              status: 'change',
              change: { summary: `checked when it runs, after the steps it depends on (now: ${error.code})` },
            }
          : { ...base, status: 'error', error };
      }
    });
    hostQueue.set(s.host, task);
    done.set(s.id, task);
  }
  await Promise.all(done.values());
  return { steps: out, fingerprint: fingerprint(out) };
}

function redactDoc(d: StepDoc, r: Redactor): StepDoc {
  return {
    purpose: r.redact(d.purpose),
    commands: d.commands.map((c) => r.redact(c)),
    verify: r.redact(d.verify),
    undo: r.redact(d.undo),
  };
}

/** sha256 of each step's id, status and predicted change. */
export function fingerprint(steps: PreviewStep[]): string {
  const h = createHash('sha256');
  for (const s of steps)
    h.update(
      JSON.stringify([
        s.id,
        s.host,
        s.status,
        s.change?.summary ?? '',
        s.change?.before ?? '',
        s.change?.after ?? '',
        s.error?.code ?? '',
      ]),
    ).update('\n');
  return `sha256:${h.digest('hex')}`;
}
