/**
 * known_hosts as OpenSSH reads it: plain host lists (`web1,203.0.113.20`), the
 * `[host]:port` form for ports other than 22, hashed entries (`|1|salt|hash`, an
 * HMAC-SHA1 of the host name keyed by the salt), `@revoked` keys, which are refused, and
 * `@cert-authority` lines, which are parsed and otherwise ignored. Wildcard patterns are
 * not matched. Pure: the SSH transport reads the files and asks `checkHostKey`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type KnownHostsMarker = 'revoked' | 'cert-authority';

export type HostPatterns = { kind: 'plain'; patterns: string[] } | { kind: 'hashed'; salt: Buffer; hash: Buffer };

export interface KnownHostEntry {
  /** 1-based line number in its file. */
  line: number;
  marker?: KnownHostsMarker;
  hosts: HostPatterns;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { kind: 'known'; line: number }
  | { kind: 'unknown' }
  | { kind: 'changed'; line: number }
  | { kind: 'revoked'; line: number };

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const entry = parseLine(raw.trim(), index + 1);
    if (entry) entries.push(entry);
  });
  return entries;
}

function parseLine(text: string, line: number): KnownHostEntry | undefined {
  if (text === '' || text.startsWith('#')) return undefined;
  const fields = text.split(/\s+/);
  let marker: KnownHostsMarker | undefined;
  if (fields[0]?.startsWith('@')) {
    const name = fields.shift();
    if (name !== '@revoked' && name !== '@cert-authority') return undefined;
    marker = name === '@revoked' ? 'revoked' : 'cert-authority';
  }
  const [hostField, keyType, keyText] = fields;
  if (!hostField || !keyType || !keyText) return undefined;
  const hosts = parseHosts(hostField);
  const key = Buffer.from(keyText, 'base64');
  if (!hosts || key.length === 0) return undefined;
  return marker ? { line, marker, hosts, keyType, key } : { line, hosts, keyType, key };
}

function parseHosts(field: string): HostPatterns | undefined {
  if (!field.startsWith('|')) return { kind: 'plain', patterns: field.split(',').filter((p) => p !== '') };
  const [, version, salt, hash] = field.split('|');
  if (version !== '1' || !salt || !hash) return undefined;
  return { kind: 'hashed', salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
}

/** The name OpenSSH records a host under: `host` on port 22, else `[host]:port`. */
export function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function matchesHost(hosts: HostPatterns, name: string): boolean {
  if (hosts.kind === 'hashed') {
    const digest = createHmac('sha1', hosts.salt).update(name).digest();
    return digest.length === hosts.hash.length && timingSafeEqual(digest, hosts.hash);
  }
  if (hosts.patterns.includes(`!${name}`)) return false;
  return hosts.patterns.includes(name);
}

/** What known_hosts says about `key` (an SSH wire-format public key) offered by `host:port`. */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = hostPattern(host, port);
  const type = keyTypeOf(key);
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && matchesHost(e.hosts, name));
  // A revoked key is refused whichever host it is listed for.
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { kind: 'revoked', line: revoked.line };
  const normal = forHost.filter((e) => e.marker === undefined);
  const same = normal.find((e) => e.key.equals(key));
  if (same) return { kind: 'known', line: same.line };
  const sameType = normal.find((e) => keyTypeOf(e.key) === type);
  return sameType ? { kind: 'changed', line: sameType.line } : { kind: 'unknown' };
}

/** Key types recorded for a host (to prefer them when negotiating, as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = hostPattern(host, port);
  const types = entries
    .filter((e) => e.marker === undefined && matchesHost(e.hosts, name))
    .map((e) => keyTypeOf(e.key));
  return [...new Set(types)];
}

/** OpenSSH's fingerprint format: `SHA256:` and unpadded base64 of the key's SHA-256. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type written inside an SSH wire-format public key (its first string). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

/** The line to append to known_hosts to trust `key` for `host:port`. */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  return `${hostPattern(host, port)} ${keyTypeOf(key)} ${key.toString('base64')}`;
}
