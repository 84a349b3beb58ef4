/**
 * The part of `~/.ssh/config` Ferry honours when a fleet's host is an alias: `Host`
 * sections (patterns with `*`, `?` and `!`), and in them `HostName`, `User`, `Port`,
 * `IdentityFile` and `ProxyJump`. As in OpenSSH the first value found wins, except for
 * `IdentityFile`, which accumulates. `Match` blocks are skipped and `Include` is not
 * followed. Pure: the caller reads the file.
 */
import { TransportError } from './transport.js';

export interface SshConfigOption {
  keyword: string;
  value: string;
  line: number;
}

export interface SshConfigSection {
  /** `Host` patterns; the options before the first `Host` are a section with `['*']`. */
  patterns: string[];
  options: SshConfigOption[];
}

export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
}

export interface JumpHop {
  host: string;
  user?: string;
  port?: number;
}

export function parseSshConfig(text: string): SshConfigSection[] {
  const sections: SshConfigSection[] = [{ patterns: ['*'], options: [] }];
  text.split(/\r?\n/).forEach((raw, index) => {
    const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*?)\s*$/.exec(raw);
    if (!m || raw.trim().startsWith('#')) return;
    const keyword = m[1]!.toLowerCase();
    const value = unquote(m[2]!);
    if (keyword === 'host') sections.push({ patterns: value.split(/\s+/), options: [] });
    // A Match block's options apply under conditions Ferry does not evaluate: never.
    else if (keyword === 'match') sections.push({ patterns: [], options: [] });
    else sections[sections.length - 1]!.options.push({ keyword, value, line: index + 1 });
  });
  return sections;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** OpenSSH's host pattern matching: any positive pattern matches and no `!pattern` does. */
export function hostMatches(patterns: string[], alias: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (glob(p.slice(1), alias)) return false;
    } else if (glob(p, alias)) matched = true;
  }
  return matched;
}

function glob(pattern: string, text: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(text);
}

/**
 * The settings for `alias`. `source` names the file in error messages; `home` expands
 * `~` and `%d` in IdentityFile, which also expands `%h` (host name) and `%r` (user).
 */
export function resolveSshHost(
  sections: SshConfigSection[],
  alias: string,
  source: string,
  home: string,
): SshHostConfig {
  const first = new Map<string, SshConfigOption>();
  const identities: string[] = [];
  for (const section of sections.filter((s) => hostMatches(s.patterns, alias))) {
    for (const option of section.options) {
      if (option.keyword === 'identityfile') identities.push(option.value);
      else if (!first.has(option.keyword)) first.set(option.keyword, option);
    }
  }
  const hostName = first.get('hostname')?.value.replace(/%h/g, alias);
  const user = first.get('user')?.value;
  const port = first.get('port');
  const proxyJump = first.get('proxyjump')?.value;
  const tokens = { '%d': home, '%h': hostName ?? alias, '%r': user ?? '', '%%': '%' };
  const out: SshHostConfig = { identityFiles: identities.map((f) => expandPath(f, home, tokens)) };
  if (hostName) out.hostName = hostName;
  if (user) out.user = user;
  if (port) out.port = parsePort(port.value, `${source}:${port.line}: Port`, alias, `fix the Port line in ${source}`);
  if (proxyJump && proxyJump.toLowerCase() !== 'none') out.proxyJump = proxyJump;
  return out;
}

function expandPath(path: string, home: string, tokens: Record<string, string>): string {
  const withTokens = path.replace(/%[dhr%]/g, (t) => tokens[t] ?? t);
  return withTokens === '~' || withTokens.startsWith('~/') ? home + withTokens.slice(1) : withTokens;
}

function parsePort(value: string, what: string, host: string, hint: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (port >= 1 && port <= 65535) return port;
  throw new TransportError('ssh-config', host, `${what} must be a whole number from 1 to 65535, got "${value}"`, hint);
}

/** `ProxyJump` hops: `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated; `none` is no hop. */
export function parseProxyJump(value: string, host: string): JumpHop[] {
  if (value.trim().toLowerCase() === 'none') return [];
  return value.split(',').map((part) => parseHop(part.trim().replace(/^ssh:\/\//, ''), value, host));
}

function parseHop(text: string, whole: string, host: string): JumpHop {
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d+))?$/.exec(text);
  if (!m) {
    throw new TransportError(
      'ssh-config',
      host,
      `ProxyJump "${whole}" is not of the form [user@]host[:port]`,
      'write each hop as user@host:port, separated by commas',
    );
  }
  const hop: JumpHop = { host: m[2]!.replace(/^\[|\]$/g, '') };
  if (m[1]) hop.user = m[1];
  if (m[3]) hop.port = parsePort(m[3], `the port in ProxyJump "${whole}"`, host, 'write each hop as user@host:port');
  return hop;
}
