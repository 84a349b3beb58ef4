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

export async function preview(plan: Plan, transports: (host: string) => Transport, redactor: Redactor): Promise<Preview> {
  const byHost = new Map<string, number[]>();
  plan.steps.forEach((s, i) => byHost.set(s.host, [...(byHost.get(s.host) ?? []), i]));
  const out: PreviewStep[] = new Array(plan.steps.length);
  await Promise.all([...byHost.entries()].map(async ([host, indexes]) => {
    for (const i of indexes) {
      const s = plan.steps[i]!;
      const base = { id: s.id, host: s.host, phase: s.phase, title: redactor.redact(s.title), doc: redactDoc(s.doc(), redactor) };
      try {
        const r = await s.check({ transport: transports(host), redactor });
        out[i] = r.needed ? { ...base, status: 'change', ...(r.change ? { change: redactChange(r.change, redactor) } : {}) } : { ...base, status: 'ok' };
      } catch (e) {
        out[i] = { ...base, status: 'error', error: eventError(e, redactor) };
      }
    }
  }));
  return { steps: out, fingerprint: fingerprint(out) };
}

function redactDoc(d: StepDoc, r: Redactor): StepDoc {
  return { purpose: r.redact(d.purpose), commands: d.commands.map((c) => r.redact(c)), verify: r.redact(d.verify), undo: r.redact(d.undo) };
}

/** sha256 of each step's id, status and predicted change. */
export function fingerprint(steps: PreviewStep[]): string {
  const h = createHash('sha256');
  for (const s of steps) h.update(JSON.stringify([s.id, s.host, s.status, s.change?.summary ?? '', s.change?.before ?? '', s.change?.after ?? '', s.error?.code ?? ''])).update('\n');
  return `sha256:${h.digest('hex')}`;
}
