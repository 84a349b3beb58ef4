/**
 * In-memory steps for the engine's tests: each sets one key of a Map (the "world") and
 * logs what it does; failures and delays are asked for by option.
 */
import { Redactor } from '../core/redact.js';
import { RecordingTransport } from '../transport/recording.js';
import type { RunEvent } from './events.js';
import type { Transport } from '../transport/transport.js';
import { stepContext } from './context.js';
import type { Phase, Step, StepContext } from './step.js';

export interface MemoryOptions {
  id: string;
  host?: string;
  phase?: Phase;
  dependsOn?: string[];
  world: Map<string, string>;
  value: string;
  log?: string[];
  delayMs?: number;
  failApply?: Error;
  failVerify?: string;
  failRollback?: Error;
  /** Counts steps inside apply at once, per host. */
  gauge?: Gauge;
}

export class Gauge {
  private readonly now = new Map<string, number>();
  readonly max = new Map<string, number>();
  total = 0;
  maxTotal = 0;
  enter(host: string): void {
    const n = (this.now.get(host) ?? 0) + 1;
    this.now.set(host, n);
    this.max.set(host, Math.max(this.max.get(host) ?? 0, n));
    this.maxTotal = Math.max(this.maxTotal, ++this.total);
  }
  leave(host: string): void {
    this.now.set(host, (this.now.get(host) ?? 1) - 1);
    this.total -= 1;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a memory step's check saw: the key's value before (absent: no value). */
export interface MemoryObserved {
  before?: string;
}

export function memoryStep(o: MemoryOptions): Step<MemoryObserved> {
  const host = o.host ?? 'h1';
  const log = (what: string) => o.log?.push(`${what} ${o.id}`);
  return {
    id: o.id,
    host,
    phase: o.phase ?? 'deploy',
    title: `set ${o.id}`,
    dependsOn: o.dependsOn ?? [],
    doc: () => ({ purpose: `set ${o.id}`, commands: [], verify: 'read it back', undo: 'restore the old value' }),
    async check(ctx) {
      log('check');
      const now = o.world.get(o.id);
      const prior = ctx.prior as MemoryObserved | undefined;
      const before = prior ? prior.before : now;
      const observed = before === undefined ? {} : { before };
      const needed = now !== o.value;
      return needed
        ? { needed, change: { summary: `${o.id}: ${now ?? '(none)'} -> ${o.value}` }, observed }
        : { needed, observed };
    },
    async apply() {
      log('apply');
      o.gauge?.enter(host);
      try {
        if (o.delayMs) await sleep(o.delayMs);
        if (o.failApply) throw o.failApply;
        o.world.set(o.id, o.value);
      } finally {
        o.gauge?.leave(host);
      }
    },
    async verify() {
      log('verify');
      return o.failVerify ? { ok: false, message: o.failVerify } : { ok: o.world.get(o.id) === o.value };
    },
    async rollback(_ctx, observed) {
      log('rollback');
      if (o.failRollback) throw o.failRollback;
      if (observed.before === undefined) o.world.delete(o.id);
      else o.world.set(o.id, observed.before);
    },
  };
}

/** Options for runPlan that collect events, with a fixed clock. */
export function collecting(
  extra: {
    maxPerHost?: number;
    rollbackOnFailure?: boolean;
    redactor?: Redactor;
    prior?: Record<string, unknown>;
  } = {},
) {
  const events: RunEvent[] = [];
  const transport = new RecordingTransport();
  return {
    events,
    opts: {
      transports: () => transport,
      redactor: extra.redactor ?? new Redactor(),
      onEvent: (e: RunEvent) => events.push(e),
      now: () => new Date('2025-01-02T03:04:05.000Z'),
      runId: 'run-1',
      ...(extra.maxPerHost !== undefined ? { maxPerHost: extra.maxPerHost } : {}),
      ...(extra.rollbackOnFailure !== undefined ? { rollbackOnFailure: extra.rollbackOnFailure } : {}),
      ...(extra.prior !== undefined ? { prior: extra.prior } : {}),
    },
  };
}

/**
 * A context for unit tests of a step: `t` is its host's transport, `others` the hosts it
 * reaches by name. The step's own `reaches` is enforced as the engine would.
 */
export function testContext(
  t: Transport,
  o: {
    step?: Pick<Step, 'id' | 'host' | 'reaches'>;
    others?: Record<string, Transport>;
    redactor?: Redactor;
    prior?: unknown;
  } = {},
): StepContext {
  const step = o.step ?? { id: 'test', host: t.name, reaches: Object.keys(o.others ?? {}) };
  const transports = (host: string) => (host === step.host ? t : (o.others?.[host] ?? t));
  return stepContext(step, transports, o.redactor ?? new Redactor(), o.prior);
}

/** What one pass of a step did: its check, then (when needed) apply and verify; rollback when asked. */
export async function drive<O>(step: Step<O>, ctx: StepContext, opts: { rollback?: boolean } = {}) {
  const checked = await step.check(ctx);
  if (!checked.needed && !opts.rollback) return { checked };
  const observed = checked.observed as O;
  if (checked.needed) await step.apply(ctx, observed);
  const verified = checked.needed ? await step.verify(ctx, observed) : undefined;
  if (opts.rollback) await step.rollback(ctx, observed);
  return { checked, verified };
}
