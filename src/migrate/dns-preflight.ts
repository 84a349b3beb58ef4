/**
 * Before a migration changes anything: every domain of the stack read (A and AAAA with
 * their TTLs) and judged, and the hook, when configured, found executable on this
 * machine. Error findings refuse the migration; warnings and infos are shown in the plan.
 */
import { access, constants } from 'node:fs/promises';
import { isFindingCode } from '../core/codes.js';
import { finding, type Finding } from '../core/finding.js';
import type { DnsDef } from '../model/fleet.js';
import { readDomain, resolverLookup, type DnsLookup } from './dns.js';
import { judgeDomain, unreadDomain, type DomainJudgement, type ServerAddresses } from './dns-judge.js';

/** The two servers of a migration and how to read and change their domains' records. */
export interface DnsSides {
  stack: string;
  /** The source's and the target's addresses (`serverAddresses(host)`). */
  source: ServerAddresses;
  target: ServerAddresses;
  dns?: DnsDef;
  /** Default: Node's resolver, against dns.resolvers or else this machine's name servers. */
  lookup?: DnsLookup;
}

export interface DnsInput extends DnsSides {
  /** The stack's `proxy.domains`, in order. */
  domains: string[];
}

export interface DnsPreflight {
  domains: DomainJudgement[];
  /** Every finding, hook first, then domain by domain. */
  findings: Finding[];
}

export const lookupFor = (s: DnsSides): DnsLookup =>
  s.lookup ?? resolverLookup(s.dns?.resolvers ? { resolvers: s.dns.resolvers } : {});

/** Reads and judges one domain; a lookup that fails is a `dns-lookup-failed` error finding, not a throw. */
export async function judgeRead(s: DnsSides, ask: DnsLookup, domain: string, index: number): Promise<DomainJudgement> {
  try {
    return judgeDomain(s, index, await readDomain(ask, domain));
  } catch (e) {
    const err = e as { code?: unknown; message?: unknown; hint?: unknown };
    if (typeof err.code !== 'string' || typeof err.hint !== 'string') throw e;
    const code = isFindingCode(err.code) ? err.code : 'dns-lookup-failed';
    return unreadDomain(s, index, domain, { code, message: String(err.message), hint: err.hint });
  }
}

export async function hookFindings(dns: DnsDef | undefined): Promise<Finding[]> {
  if (dns?.hook === undefined) return [];
  try {
    await access(dns.hook, constants.X_OK);
    return [];
  } catch {
    return [
      finding(
        'dns-hook-missing',
        'error',
        `dns.hook ${dns.hook} is not an executable file on this machine`,
        { path: 'dns/hook' },
        'Correct the path in ferry.yml (relative to it), or make the file executable (`chmod +x`).',
      ),
    ];
  }
}

export async function dnsPreflight(i: DnsInput): Promise<DnsPreflight> {
  const ask = lookupFor(i);
  const domains = await Promise.all(i.domains.map((d, index) => judgeRead(i, ask, d, index)));
  return { domains, findings: [...(await hookFindings(i.dns)), ...domains.flatMap((d) => d.findings)] };
}
