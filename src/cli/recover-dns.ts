/**
 * DNS in `ferry recover`: the stack's domains moved from the lost server to the new one.
 * With `dns.hook`, by the same steps as a migration's cut-over (each record that points at
 * the lost server changed by the hook, then the resolvers asked until they answer the new
 * address), as a third journaled run once the data is proven; the records are read and
 * judged before anything else, so that a hook that cannot move them stops the recovery
 * before it starts. Without a hook, nothing changes: the report says which record to
 * change to what. Everything here acts from this machine; the lost server is never asked.
 */
import { FerryError } from '../core/errors.js';
import { makePlan } from '../engine/plan.js';
import type { Journal } from '../journal/journal.js';
import { instruction, type RecordChange } from '../migrate/dns-judge.js';
import { dnsPreflight, type DnsInput } from '../migrate/dns-preflight.js';
import { serverAddresses } from '../migrate/dns.js';
import { dnsSteps } from '../migrate/steps/dns.js';
import type { ServerDef } from '../model/fleet.js';
import { endpoint } from './endpoint.js';
import { executeStage } from './run-plan.js';
import type { Session } from './session.js';

/** The domains of `stack` between the lost server and `to`; undefined when the stack has none. */
export async function recoveryDns(
  s: Session,
  stack: string,
  lost: ServerDef,
  to: ServerDef,
): Promise<DnsInput | undefined> {
  const domains = s.loaded.fleet.stacks[stack]?.proxy?.domains ?? [];
  if (domains.length === 0) return undefined;
  const there = await endpoint(s.transports(to.name), to);
  return {
    stack,
    domains,
    ...(s.loaded.fleet.dns ? { dns: s.loaded.fleet.dns } : {}),
    source: { name: lost.name, addresses: await serverAddresses(lost.host) },
    target: { name: to.name, addresses: await serverAddresses(there.address) },
  };
}

/**
 * With dns.hook, before anything changes: every record read and judged as a migration's
 * preflight does; `dns-preflight-failed` when one cannot be moved (unread, pointing
 * elsewhere, a TTL over dns.max_ttl, the hook missing).
 */
export async function requireMovableDns(i: DnsInput | undefined): Promise<void> {
  if (i?.dns?.hook === undefined) return;
  const errors = (await dnsPreflight(i)).findings.filter((f) => f.severity === 'error');
  if (errors.length === 0) return;
  throw new FerryError(
    'dns-preflight-failed',
    `the records of ${i.stack} cannot be moved to ${i.target.name} by dns.hook: ${errors.map((f) => `${f.code}: ${f.message}`).join('; ')}`,
    errors[0]?.where?.path ? `ferry.yml: ${errors[0].where.path}` : 'dns',
    `Nothing was changed. ${[...new Set(errors.map((f) => f.hint))].join(' ')}`,
    2,
  );
}

/** With dns.hook: the records moved by a journaled run (`recover STACK --to SERVER dns`), resumed after a kill. */
export async function moveDns(
  s: Session,
  i: DnsInput | undefined,
  journal: Journal,
  flags: { json?: boolean; resume?: boolean },
): Promise<{ changed: number; journal_run: string } | undefined> {
  if (i?.dns?.hook === undefined) return undefined;
  const id = (name: string) => `${i.stack}/recover/${name}`;
  const { preflight, cutover } = await dnsSteps({
    ...i,
    id,
    host: i.target.name,
    local: s.local,
    cutoverDependsOn: [id('dns-preflight')],
  });
  const command = `recover ${i.stack} --to ${i.target.name} dns`;
  const summary = await executeStage(
    s,
    { plan: makePlan([preflight, ...cutover]), targets: [] },
    command,
    flags,
    journal,
    {
      fallback: 'dns-preflight-failed',
      place: `host ${i.target.name}`,
      message: (why) =>
        `${i.stack} is recovered and serves on ${i.target.name}, but moving its DNS records failed: ${why ?? 'see the run'}`,
      hint: 'Point the records by hand, or run recover again with --resume once the hook works.',
    },
  );
  return { changed: summary.changed, journal_run: summary.runId };
}

/** Per domain, the record changes still to make by hand (none once the hook moved them), read now. */
export async function dnsLeft(
  i: DnsInput | undefined,
): Promise<{ domain: string; pending: Pick<RecordChange, 'type' | 'from' | 'to' | 'ttl'>[]; lines: string[] }[]> {
  if (!i) return [];
  return (await dnsPreflight(i)).domains.map((j) => ({
    domain: j.domain,
    pending: j.changes.map((c) => ({ type: c.type, from: c.from, to: c.to, ttl: c.ttl })),
    lines: j.records
      ? j.changes.map((c) => `DNS: ${instruction(c)}`)
      : [`DNS: ${j.domain} could not be read: point its records at ${i.target.addresses.join(' ')}`],
  }));
}
