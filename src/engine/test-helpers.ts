/**
 * In-memory steps for the engine's tests: each sets one key of a Map (the "world") and
 * logs what it does; failures and delays are asked for by option.
 */
import { Redactor } from '../core/redact.js';
import { RecordingTransport } from '../transport/recording.js';
import type { RunEvent } from './events.js';
import type { Phase, Step } from './step.js';

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

export function memoryStep(o: MemoryOptions): Step {
  const host = o.host ?? 'h1';
  const log = (what: string) => o.log?.push(`${what} ${o.id}`);
  let before: string | undefined;
  return {
    id: o.id,
    host,
    phase: o.phase ?? 'deploy',
    title: `set ${o.id}`,
    dependsOn: o.dependsOn ?? [],
    doc: () => ({ purpose: `set ${o.id}`, commands: [], verify: 'read it back', undo: 'restore the old value' }),
    async check() {
      log('check');
      before = o.world.get(o.id);
      const needed = before !== o.value;
      return needed ? { needed, change: { summary: `${o.id}: ${before ?? '(none)'} -> ${o.value}` } } : { needed };
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
    async rollback() {
      log('rollback');
      if (o.failRollback) throw o.failRollback;
      if (before === undefined) o.world.delete(o.id);
      else o.world.set(o.id, before);
    },
  };
}

/** Options for runPlan that collect events, with a fixed clock. */
export function collecting(extra: { maxPerHost?: number; rollbackOnFailure?: boolean; redactor?: Redactor } = {}) {
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
    },
  };
}
