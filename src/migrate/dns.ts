/**
 * The edge of the DNS part of a migration: reading a domain's A and AAAA records with
 * their TTLs (Node's resolver, against this machine's name servers or those of
 * `dns.resolvers`), and the addresses of a server. What a record means is decided by the
 * pure functions of `dns-judge.ts`.
 */
import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { StepError } from '../engine/errors.js';

export type RecordType = 'A' | 'AAAA';
export const RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA'];

/** The answer for one name and type: addresses sorted, without repeats; `ttl` the least of theirs, absent without an answer. */
export interface RecordSet {
  addresses: string[];
  ttl?: number;
}

export interface DomainRecords {
  domain: string;
  A: RecordSet;
  AAAA: RecordSet;
}

/** Asks one question. A name without records (NXDOMAIN, NODATA) is an empty set; no answer at all throws `DnsLookupError`. */
export type DnsLookup = (domain: string, type: RecordType) => Promise<RecordSet>;

/** Per question: how long one try waits, and how many tries. */
export interface LookupOptions {
  resolvers?: string[];
  timeoutMs?: number;
  tries?: number;
}

const NO_RECORD = new Set(['ENOTFOUND', 'ENODATA']);

const REASONS: Record<string, string> = {
  ETIMEOUT: 'no answer in time',
  ECONNREFUSED: 'the connection was refused (no name server listens there)',
  EREFUSED: 'the name server refused the query (it neither serves nor forwards this name)',
  ESERVFAIL: 'the name server failed (SERVFAIL)',
};

/** Where the records were asked, for messages. */
export function resolversText(resolvers: string[] | undefined): string {
  return resolvers && resolvers.length > 0 ? resolvers.join(', ') : "this machine's name servers (/etc/resolv.conf)";
}

/** No answer for a record: the name servers could not be reached or failed. */
export class DnsLookupError extends StepError {
  constructor(domain: string, type: RecordType, errno: string, resolvers: string[] | undefined) {
    const reason = REASONS[errno] ?? errno;
    super(
      'dns-lookup-failed',
      `no answer for the ${type} record of ${domain} from ${resolversText(resolvers)}: ${errno === reason ? errno : `${errno}, ${reason}`}`,
      `Check that ${resolversText(resolvers)} answer${resolvers && resolvers.length === 1 ? 's' : ''} for ${domain} (\`dig ${domain} ${type}\`${resolvers?.[0] ? ` against ${resolvers[0]}` : ''}), or name other servers in dns.resolvers of ferry.yml.`,
    );
    this.name = 'DnsLookupError';
  }
}

/** The written form of an address that answers compare with: IPv6 compressed and lower-case. */
export function canonicalAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

export const familyOf = (type: RecordType): 4 | 6 => (type === 'A' ? 4 : 6);

/** A lookup through Node's resolver (c-ares): DNS only, never /etc/hosts. */
export function resolverLookup(o: LookupOptions = {}): DnsLookup {
  const resolver = new Resolver({ timeout: o.timeoutMs ?? 2000, tries: o.tries ?? 2 });
  if (o.resolvers && o.resolvers.length > 0) resolver.setServers(o.resolvers);
  return async (domain, type) => {
    try {
      const answers =
        type === 'A' ? await resolver.resolve4(domain, { ttl: true }) : await resolver.resolve6(domain, { ttl: true });
      return recordSet(answers);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && NO_RECORD.has(code)) return { addresses: [] };
      throw new DnsLookupError(domain, type, typeof code === 'string' ? code : String(e), o.resolvers);
    }
  };
}

/** Answers as a set: sorted addresses without repeats, the least TTL. */
export function recordSet(answers: { address: string; ttl: number }[]): RecordSet {
  if (answers.length === 0) return { addresses: [] };
  const addresses = [...new Set(answers.map((a) => canonicalAddress(a.address)))].sort();
  return { addresses, ttl: Math.min(...answers.map((a) => a.ttl)) };
}

/** Both record types of a domain, asked at once. */
export async function readDomain(ask: DnsLookup, domain: string): Promise<DomainRecords> {
  const [A, AAAA] = await Promise.all([ask(domain, 'A'), ask(domain, 'AAAA')]);
  return { domain, A, AAAA };
}

/**
 * The addresses a server is reached at: the address itself, or what its host name
 * resolves to on this machine (as SSH resolves it); empty when it does not resolve.
 */
export async function serverAddresses(host: string): Promise<string[]> {
  if (isIP(host)) return [canonicalAddress(host)];
  try {
    return [...new Set((await lookup(host, { all: true })).map((a) => canonicalAddress(a.address)))].sort();
  } catch {
    return [];
  }
}
