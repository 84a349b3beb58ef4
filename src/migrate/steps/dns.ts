/**
 * DNS in a migration, as two kinds of step. Both act from this machine (the resolvers
 * it asks, the hook it runs); they are filed under the target's name, whose transport
 * they never use.
 *
 * - `dns-preflight` (prepare): every domain's records and TTLs read and judged; an error
 *   finding fails the check, so the migration stops before anything changes anywhere.
 * - `dns/DOMAIN` (proxy, after the switch): with `dns.hook`, the hook moves each record
 *   that points at the source to the target, then the resolvers are asked until they
 *   answer the new address (at most `dns.wait`); rollback calls the hook with the
 *   addresses swapped. Without a hook it changes nothing: its title and runbook say which
 *   record to change to what.
 */
import { basename } from 'node:path';
import { isStepErrorCode } from '../../tools/codes.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepDoc } from '../../engine/step.js';
import type { Transport } from '../../transport/transport.js';
import { render } from '../../shell/command.js';
import { readDomain, resolversText, type DnsLookup, type DomainRecords } from '../dns.js';
import {
  changeText,
  DEFAULT_WAIT_MS,
  instruction,
  judgeDomain,
  readingText,
  ttlText,
  type RecordChange,
} from '../dns-judge.js';
import { HOOK_TIMEOUT_MS, hookCommand, reversed, runHook } from '../dns-hook.js';
import { dnsPreflight, lookupFor, type DnsInput, type DnsPreflight, type DnsSides } from '../dns-preflight.js';

export interface DnsPreflightStepOptions extends DnsInput {
  id: string;
  /** The target's name: the step is filed under it. */
  host: string;
  dependsOn?: string[];
  /** What was read when the plan was made, for the title. */
  seen?: DnsPreflight;
}

/** What the DNS preflight saw: the codes of its findings (an error finding fails the check instead). */
export interface DnsPreflightObserved {
  findings: string[];
}

export function dnsPreflightStep(o: DnsPreflightStepOptions): Step<DnsPreflightObserved> {
  return {
    id: o.id,
    host: o.host,
    phase: 'prepare',
    title: o.seen
      ? `DNS: ${o.seen.domains.map(readingText).join('; ')}`
      : `DNS: the records of ${o.domains.join(', ')} and their TTL`,
    dependsOn: o.dependsOn ?? [],
    doc: () => ({
      purpose: `Read the A and AAAA records of ${o.domains.join(', ')} and their TTL from ${resolversText(o.dns?.resolvers)}, before anything changes anywhere. The migration stops here when a record cannot be read, when its TTL is over dns.max_ttl, or, with dns.hook, when the hook is missing or a record does not point at ${o.source.name}.`,
      commands: o.domains.flatMap((d) => [`dig +noall +answer ${d} A`, `dig +noall +answer ${d} AAAA`]),
      verify: 'Nothing to verify: the check changes nothing.',
      undo: 'Nothing to undo.',
    }),
    async check() {
      const findings = (await dnsPreflight(o)).findings;
      const errors = findings.filter((f) => f.severity === 'error');
      if (errors.length === 0) return { needed: false, observed: { findings: findings.map((f) => f.code) } };
      const hints = [...new Set(errors.map((f) => f.hint))].join(' ');
      throw new StepError(
        'dns-preflight-failed',
        errors.map((f) => `${f.code}: ${f.message}`).join('; '),
        `Nothing was changed on ${o.source.name} or ${o.target.name}. ${hints}`,
      );
    },
    async apply() {},
    async verify() {
      return { ok: true };
    },
    async rollback() {},
  };
}

export interface DnsCutoverOptions extends DnsSides {
  id: string;
  host: string;
  domain: string;
  /** Its index in `proxy.domains`, for the places findings name. */
  index: number;
  /**
   * This machine: the hook runs here. It is no server of the plan (the engine reaches only
   * those), so the step is given it; the transport of the host it is filed under is never used.
   */
  local: Transport;
  dependsOn: string[];
  /** The changes expected when the plan was made, for the title and the runbook. */
  expected?: RecordChange[];
  /** Between two reads while waiting for the change. Default 2 s. */
  pollMs?: number;
}

const waitText = (ms: number): string => (ms < 1000 ? `${ms} ms` : ttlText(Math.round(ms / 1000)));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const holds = (c: RecordChange, r: DomainRecords): boolean =>
  [...r[c.type].addresses].sort().join(' ') === [...c.to].sort().join(' ');

function cutoverTitle(o: DnsCutoverOptions): string {
  const expected = o.expected ?? [];
  if (expected.length === 0) return `DNS of ${o.domain}: no record expected to change`;
  if (o.dns?.hook === undefined) return `DNS by hand: ${expected.map(instruction).join('; ')}`;
  return `DNS by dns.hook: ${expected.map((c) => `${c.type} ${o.domain} → ${c.to.join(' ')}`).join(', ')}`;
}

function cutoverDoc(o: DnsCutoverOptions, waitMs: number): StepDoc {
  const expected = o.expected ?? [];
  const hook = o.dns?.hook;
  const to = expected.map((c) => `${c.type} ${c.to.join(' ')}`).join(', ') || `the addresses of ${o.target.name}`;
  if (hook === undefined) {
    return {
      purpose: `Ferry changes nothing here (no dns.hook in ferry.yml). At your DNS provider: ${expected.map(instruction).join('; ') || `nothing to change for ${o.domain}`}. Until clients see it, ${o.source.name}'s nginx sends the requests it gets to ${o.target.name}.`,
      commands: [],
      verify: `\`dig +short ${o.domain} ${expected[0]?.type ?? 'A'}\` answers ${to}.`,
      undo: 'Nothing to undo.',
    };
  }
  return {
    purpose: `Point the records of ${o.domain} at ${o.target.name} with dns.hook (each call stopped after ${waitText(HOOK_TIMEOUT_MS)}), then ask ${resolversText(o.dns?.resolvers)} until the answer is the new address.`,
    commands: expected.map((c) => `${render(hookCommand(hook, o.stack, c))}  (here)`),
    verify: `The answer of ${resolversText(o.dns?.resolvers)} for ${o.domain} is ${to}, asked every ${waitText(o.pollMs ?? 2000)} for up to ${waitText(waitMs)}.`,
    undo: `dns.hook again with the addresses swapped, for every record the step was to change, last first (a record still holding its old address is set to it again: the hook's change is idempotent)${
      expected.length > 0
        ? `: ${[...expected]
            .reverse()
            .map((c) => render(hookCommand(hook, o.stack, reversed(c))))
            .join('; ')}`
        : ''
    }.`,
  };
}

/** What the cut-over's check saw: the record changes the hook is to make (none without a hook). */
export interface DnsCutoverObserved {
  planned: RecordChange[];
}

export function dnsCutoverStep(o: DnsCutoverOptions): Step<DnsCutoverObserved> {
  const ask = lookupFor(o);
  const waitMs = o.dns?.waitMs ?? DEFAULT_WAIT_MS;
  const hook = o.dns?.hook;
  return {
    id: o.id,
    host: o.host,
    phase: 'proxy',
    title: cutoverTitle(o),
    dependsOn: o.dependsOn,
    doc: () => cutoverDoc(o, waitMs),
    async check() {
      if (hook === undefined) return { needed: false, observed: { planned: [] } };
      const j = judgeDomain(o, o.index, await readDomain(ask, o.domain));
      const error = j.findings.find((f) => f.severity === 'error');
      if (error) {
        throw new StepError(
          isStepErrorCode(error.code) ? error.code : 'dns-preflight-failed',
          error.message,
          error.hint,
        );
      }
      const planned = j.changes;
      if (planned.length === 0) return { needed: false, observed: { planned } };
      const side = (pick: (c: RecordChange) => string[]) =>
        planned.map((c) => `${c.type} ${pick(c).join(' ') || '(none)'}`).join(', ');
      return {
        needed: true,
        change: {
          summary: `${planned.map(changeText).join('; ')}, by ${basename(hook)}`,
          before: side((c) => c.from),
          after: side((c) => c.to),
        },
        observed: { planned },
      };
    },
    async apply(ctx, { planned }) {
      if (hook === undefined) return;
      for (const change of planned)
        await runHook({ local: o.local, hook, stack: o.stack, change, redactor: ctx.redactor });
    },
    verify: (_ctx, { planned }) => awaitRecords(o, ask, planned, waitMs),
    async rollback(ctx, observed) {
      if (hook === undefined) return;
      // Which hooks ran is not known after a kill, and resolvers may still answer the old
      // address when the provider holds the new one: every planned change is undone, last
      // first; the hook sets a record that was not changed to the value it holds. Without
      // an observation (a rollback outside a run), the changes expected at plan time.
      const planned = observed?.planned ?? o.expected ?? [];
      for (const change of [...planned].reverse())
        await runHook({ local: o.local, hook, stack: o.stack, change: reversed(change), redactor: ctx.redactor });
    },
  };
}

/** Asks the resolvers every `pollMs` until each planned record holds its new addresses, for at most `waitMs`. */
async function awaitRecords(o: DnsCutoverOptions, ask: DnsLookup, planned: RecordChange[], waitMs: number) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let seen: string;
    try {
      const r = await readDomain(ask, o.domain);
      const wrong = planned.filter((c) => !holds(c, r));
      if (wrong.length === 0) return { ok: true };
      seen = wrong
        .map((c) => `${c.type} ${r[c.type].addresses.join(' ') || '(none)'} (expected ${c.to.join(' ')})`)
        .join(', ');
    } catch (e) {
      seen = (e as Error).message;
    }
    const left = deadline - Date.now();
    if (left <= 0)
      return {
        ok: false,
        message: `after ${waitText(waitMs)}, the answer of ${resolversText(o.dns?.resolvers)} for ${o.domain} is still ${seen}`,
      };
    await sleep(Math.min(o.pollMs ?? 2000, left));
  }
}

export interface DnsStepsInput extends DnsInput {
  /** The step id for a name, as the migration plan makes them (`STACK/migrate/NAME`). */
  id: (name: string) => string;
  host: string;
  local: Transport;
  /** What the cut-over steps wait for: the switch of the source's nginx. */
  cutoverDependsOn: string[];
  pollMs?: number;
}

/** Reads the records once, for the titles, and makes the preflight step and one cut-over step per domain. */
export async function dnsSteps(
  i: DnsStepsInput,
): Promise<{ preflight: Step<DnsPreflightObserved>; cutover: Step<DnsCutoverObserved>[]; seen: DnsPreflight }> {
  const lookup = lookupFor(i);
  const seen = await dnsPreflight({ ...i, lookup });
  const preflight = dnsPreflightStep({ ...i, lookup, id: i.id('dns-preflight'), seen });
  const cutover = i.domains.map((domain, index) =>
    dnsCutoverStep({
      ...i,
      lookup,
      id: i.id(`dns/${domain}`),
      domain,
      index,
      dependsOn: i.cutoverDependsOn,
      expected: seen.domains[index]?.changes ?? [],
    }),
  );
  return { preflight, cutover, seen };
}
