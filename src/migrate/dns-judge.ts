/**
 * What a domain's records mean for a migration, decided from what was read: each record
 * points at the source (the change to make), at the target already (nothing to do), at
 * something else (a CDN or a load balancer: changing the record would not move the
 * traffic), or nowhere (a new domain); and whether its TTL is acceptable. Pure: findings
 * with stable codes, and the record changes to make.
 */
import { isIP } from 'node:net';
import type { FindingCode } from '../core/codes.js';
import { finding, type Finding, type Severity } from '../core/finding.js';
import type { DnsDef } from '../model/fleet.js';
import { familyOf, RECORD_TYPES, type DomainRecords, type RecordSet, type RecordType } from './dns.js';

export interface ServerAddresses {
  name: string;
  addresses: string[];
}

export const DEFAULT_WAIT_MS = 5 * 60_000;
/** Above this TTL, without dns.max_ttl, the plan says how long the source keeps receiving clients. */
export const HIGH_TTL_SECONDS = 300;
/** The TTL of a record the hook creates, unless dns.max_ttl is lower. */
export const NEW_RECORD_TTL_SECONDS = 300;

export type Pointing = 'source' | 'target' | 'elsewhere' | 'missing';

/** One record to change: what it holds now (empty: it is created) and what it gets (empty: it is removed). */
export interface RecordChange {
  domain: string;
  type: RecordType;
  from: string[];
  to: string[];
  ttl: number;
}

export interface DomainJudgement {
  domain: string;
  /** Absent when the records could not be read. */
  records?: DomainRecords;
  changes: RecordChange[];
  findings: Finding[];
}

export interface JudgeInput {
  stack: string;
  source: ServerAddresses;
  target: ServerAddresses;
  dns?: DnsDef;
}

export function pointing(set: RecordSet, source: string[], target: string[]): Pointing {
  if (set.addresses.length === 0) return 'missing';
  if (set.addresses.every((a) => target.includes(a))) return 'target';
  if (set.addresses.every((a) => source.includes(a))) return 'source';
  return 'elsewhere';
}

export const addressesFor = (s: ServerAddresses, type: RecordType): string[] =>
  s.addresses.filter((a) => isIP(a) === familyOf(type));

/** `300 s (5 min)`. */
export function ttlText(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) parts.push(`${Math.floor(rest / size)} ${unit}`);
    rest %= size;
  }
  return `${seconds} s (${parts.join(' ')})`;
}

const list = (addresses: string[]): string => addresses.join(' ');
const server = (s: ServerAddresses, type: RecordType): string =>
  `${s.name} (${list(addressesFor(s, type)) || `no ${type === 'A' ? 'IPv4' : 'IPv6'} address`})`;

/** `A 192.0.2.10 → 192.0.2.20, TTL 300 s`. */
export function changeText(c: RecordChange): string {
  return `${c.type} ${c.domain} ${list(c.from) || '(none)'} → ${list(c.to) || '(removed)'}, TTL ${c.ttl} s`;
}

/** What to do by hand at the DNS provider. */
export function instruction(c: RecordChange): string {
  return c.from.length === 0
    ? `create the ${c.type} record of ${c.domain} pointing at ${list(c.to)} (TTL ${c.ttl} s)`
    : `point the ${c.type} record of ${c.domain} at ${list(c.to)} (now: ${list(c.from)}, TTL ${c.ttl} s)`;
}

/** The records of a domain in a few words: `shop.example.com A 192.0.2.10 TTL 300 s`. */
export function readingText(j: DomainJudgement): string {
  if (!j.records) return `${j.domain} not read`;
  const sets = RECORD_TYPES.filter((t) => j.records![t].addresses.length > 0).map(
    (t) => `${t} ${list(j.records![t].addresses)} TTL ${j.records![t].ttl} s`,
  );
  return `${j.domain} ${sets.length > 0 ? sets.join(', ') : 'does not resolve'}`;
}

type Found = (code: FindingCode, severity: Severity, message: string, hint: string) => Finding;

export function judgeDomain(i: JudgeInput, index: number, records: DomainRecords): DomainJudgement {
  const found: Found = (code, severity, message, hint) =>
    finding(
      code,
      severity,
      `${records.domain}: ${message}`,
      { path: `stacks/${i.stack}/proxy/domains/${index}` },
      hint,
      { stack: i.stack },
    );
  const out: DomainJudgement = { domain: records.domain, records, changes: [], findings: [] };
  if (RECORD_TYPES.every((t) => records[t].addresses.length === 0))
    return { ...out, ...newDomain(i, found, records.domain) };
  for (const type of RECORD_TYPES) {
    const r = judgeRecord(i, found, records.domain, type, records[type]);
    out.changes.push(...r.changes);
    out.findings.push(...r.findings);
  }
  return out;
}

type Judged = Pick<DomainJudgement, 'changes' | 'findings'>;

/** No record at all: the hook creates one (A when the target has an IPv4 address), or the user does. */
function newDomain(i: JudgeInput, found: Found, domain: string): Judged {
  const hook = i.dns?.hook !== undefined;
  const type = RECORD_TYPES.find((t) => addressesFor(i.target, t).length > 0);
  if (!type) {
    return {
      changes: [],
      findings: [
        found(
          'dns-no-target-address',
          hook ? 'error' : 'warning',
          `does not resolve, and no address of ${i.target.name} is known to point it at`,
          `Make the host of ${i.target.name} in ferry.yml an IP address, or a name that resolves on this machine.`,
        ),
      ],
    };
  }
  const change: RecordChange = {
    domain,
    type,
    from: [],
    to: [addressesFor(i.target, type)[0]!],
    ttl: Math.min(i.dns?.maxTtlSeconds ?? NEW_RECORD_TTL_SECONDS, NEW_RECORD_TTL_SECONDS),
  };
  const hint = hook
    ? `dns.hook is called to ${instruction(change)}.`
    : `Once the migration is done, ${instruction(change)}.`;
  return {
    changes: [change],
    findings: [
      found('dns-not-found', hook ? 'info' : 'warning', 'does not resolve (no A or AAAA record): a new domain', hint),
    ],
  };
}

function judgeRecord(i: JudgeInput, found: Found, domain: string, type: RecordType, set: RecordSet): Judged {
  const now = `${type} ${list(set.addresses)}, TTL ${set.ttl} s`;
  const to = addressesFor(i.target, type)[0];
  const neither = `points neither at ${server(i.source, type)} nor at ${server(i.target, type)}`;
  switch (pointing(set, i.source.addresses, i.target.addresses)) {
    case 'missing':
      return { changes: [], findings: [] };
    case 'target':
      return {
        changes: [],
        findings: [
          found(
            'dns-at-target',
            'info',
            `${now}: already points at ${i.target.name} (the target)`,
            'Nothing to change.',
          ),
        ],
      };
    case 'elsewhere':
      return {
        changes: [],
        findings: [
          i.dns?.hook !== undefined
            ? found(
                'dns-hook-wrong-record',
                'error',
                `${now}: ${neither}, so dns.hook would move the wrong thing`,
                `If a CDN or load balancer is in front, remove dns.hook and point its origin at ${i.target.name} after the migration; else correct the record at the provider and migrate again.`,
              )
            : found(
                'dns-points-elsewhere',
                'warning',
                `${now}: ${neither}: a CDN or load balancer in front?`,
                `Changing this record would not move the traffic: point the origin of the CDN or load balancer at ${server(i.target, type)}. Until then ${i.source.name}'s nginx sends the requests it gets to ${i.target.name}.`,
              ),
        ],
      };
    case 'source':
      if (to === undefined) {
        return {
          changes: [],
          findings: [
            found(
              'dns-no-target-address',
              'warning',
              `${now}: points at ${i.source.name}, and ${server(i.target, type)} has none to point it at`,
              `Clients using it keep reaching ${i.source.name}, whose nginx sends them to ${i.target.name}: remove the ${type} record (or point it at an address of ${i.target.name}) before ${i.source.name} goes away. dns.hook is not called for it.`,
            ),
          ],
        };
      }
      return {
        changes: [{ domain, type, from: set.addresses, to: [to], ttl: set.ttl ?? NEW_RECORD_TTL_SECONDS }],
        findings: [
          found(
            'dns-at-source',
            'info',
            `${now}: points at ${i.source.name} (the source)`,
            `The cut-over changes it to ${to}.`,
          ),
          ...ttlFindings(i, found, type, set.ttl ?? 0),
        ],
      };
  }
}

function ttlFindings(i: JudgeInput, found: Found, type: RecordType, ttl: number): Finding[] {
  const out: Finding[] = [];
  const max = i.dns?.maxTtlSeconds;
  const wait = i.dns?.waitMs ?? DEFAULT_WAIT_MS;
  if (max !== undefined && ttl > max) {
    out.push(
      found(
        'dns-ttl-over-max',
        'error',
        `the TTL of its ${type} record, ${ttlText(ttl)}, is over dns.max_ttl (${ttlText(max)})`,
        `Lower the TTL to ${max} s or less at your DNS provider, wait ${ttlText(ttl)} for the old one to run out, then migrate again.`,
      ),
    );
  } else if (max === undefined && ttl > HIGH_TTL_SECONDS) {
    out.push(
      found(
        'dns-ttl-high',
        'warning',
        `the TTL of its ${type} record is ${ttlText(ttl)}: resolvers and clients may keep the old address that long after the change`,
        `That is safe: ${i.source.name}'s nginx sends their requests to ${i.target.name} meanwhile. Keep ${i.source.name} running (no \`ferry retire\`) at least that long after the change; to shorten it, lower the TTL one TTL ahead, or set dns.max_ttl to refuse such records.`,
      ),
    );
  }
  if (i.dns?.hook !== undefined && !i.dns.resolvers && ttl * 1000 > wait) {
    out.push(
      found(
        'dns-ttl-over-wait',
        'error',
        `the TTL of its ${type} record, ${ttlText(ttl)}, is longer than dns.wait (${ttlText(Math.round(wait / 1000))}): this machine's resolvers may answer the old address that long after the hook, and the check of the change would fail`,
        "Set dns.resolvers to your DNS provider's name servers (they answer a change at once), set dns.wait longer than the TTL, or lower the TTL first.",
      ),
    );
  }
  return out;
}

/** A domain whose records could not be read: an error that refuses the migration. */
/** Unreadable records refuse the migration only when a hook is to change them; else the change is by hand anyway. */
export function unreadDomain(
  i: JudgeInput,
  index: number,
  domain: string,
  e: { code: FindingCode; message: string; hint: string },
): DomainJudgement {
  return {
    domain,
    changes: [],
    findings: [
      finding(
        e.code,
        i.dns?.hook !== undefined ? 'error' : 'warning',
        e.message,
        { path: `stacks/${i.stack}/proxy/domains/${index}` },
        e.hint,
        { stack: i.stack },
      ),
    ],
  };
}

/** Lines for the report after a migration: for each domain, what was done or what to do by hand. */
export function dnsReportLines(judged: DomainJudgement[], i: JudgeInput): string[] {
  const lines: string[] = [];
  for (const j of judged) {
    for (const c of j.changes)
      lines.push(`DNS: ${instruction(c)}; until then ${i.source.name}'s nginx sends its requests to ${i.target.name}.`);
    for (const f of j.findings) {
      if (f.code === 'dns-at-target')
        lines.push(
          `DNS: ${f.message}; clients that still have the old address are sent on by ${i.source.name}'s nginx.`,
        );
      else if (f.severity !== 'info' && f.code !== 'dns-not-found')
        lines.push(`DNS: ${f.message}${/[.?!]$/.test(f.message) ? '' : '.'} ${f.hint}`);
    }
  }
  return lines;
}
