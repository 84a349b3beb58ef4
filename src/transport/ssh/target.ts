/**
 * A host to reach over SSH, and how it resolves: values written for the target win,
 * then `~/.ssh/config` for its alias (HostName, User, Port, IdentityFile, ProxyJump),
 * then Ferry's defaults (user root, port 22, the usual key files, ~/.ssh/known_hosts).
 */
import { join } from 'node:path';
import { parseProxyJump, resolveSshHost, type SshConfigSection } from '../ssh-config.js';

export interface SshTarget {
  /** The host's name in the fleet (for messages). */
  name: string;
  /** Address, or an alias from ~/.ssh/config. */
  host: string;
  /** Default: the alias's Port, else 22. */
  port?: number;
  /** Default: the alias's User, else root. */
  user?: string;
  /** Run commands through `sudo -n` unless a command says otherwise (ignored for root). */
  sudo?: boolean;
  /** Private keys to offer (`~` expanded). Default: the alias's IdentityFile lines, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa. */
  identityFiles?: string[];
  /** Default: ~/.ssh/known_hosts then /etc/ssh/ssh_known_hosts. A trusted new key goes into the first. */
  knownHostsFiles?: string[];
  /** Record an unknown host key in known_hosts and proceed. Never accepts a changed key. */
  trustNewHostKey?: boolean;
  /** TCP connect plus SSH handshake. Default 10 s. */
  connectTimeoutMs?: number;
  /** Per command unless the command says otherwise. Default 15 min. */
  commandTimeoutMs?: number;
  /** `[user@]host[:port]`, comma-separated for several hops; each hop may be an alias. Default: the alias's ProxyJump. */
  proxyJump?: string;
  /**
   * Where the server is reached once Ferry hardened it (`harden`: sshd's new port, the admin
   * user): tried first; the declared port and user are the fallback while it is not yet
   * hardened. Its host key may be the one known for the declared port.
   */
  hardened?: { port?: number; user?: string };
  /** Other ports of the host whose known host key this one may show (sshd moved). */
  knownAtPorts?: number[];
}

/** One SSH server to authenticate to: the target itself or a jump host. */
export interface Endpoint {
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
}

export interface ResolvedTarget {
  name: string;
  endpoint: Endpoint;
  /** The declared endpoint, when `endpoint` is the hardened one: tried when that one does not let Ferry in. */
  fallback?: Endpoint;
  knownAtPorts?: number[];
  /** Jump hosts, in the order they are crossed. */
  jumps: Endpoint[];
  sudo: boolean;
  knownHostsFiles: string[];
  trustNewHostKey: boolean;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export interface ResolveEnv {
  /** Parsed ~/.ssh/config (empty when there is none). */
  config: SshConfigSection[];
  /** Its path, for messages. */
  configPath: string;
  home: string;
}

export function resolveTarget(target: SshTarget, env: ResolveEnv): ResolvedTarget {
  const alias = resolveSshHost(env.config, target.host, env.configPath, env.home);
  const user = target.user ?? alias.user ?? 'root';
  const identityFiles =
    target.identityFiles?.map((f) => expandHome(f, env.home)) ??
    (alias.identityFiles.length > 0 ? alias.identityFiles : DEFAULT_KEYS.map((k) => join(env.home, '.ssh', k)));
  const endpoint: Endpoint = {
    host: alias.hostName ?? target.host,
    port: target.port ?? alias.port ?? 22,
    user,
    identityFiles,
  };
  const jumpSpec = target.proxyJump ?? alias.proxyJump;
  const jumps = jumpSpec
    ? parseProxyJump(jumpSpec, target.name).map((hop) => {
        const hopAlias = resolveSshHost(env.config, hop.host, env.configPath, env.home);
        return {
          host: hopAlias.hostName ?? hop.host,
          port: hop.port ?? hopAlias.port ?? 22,
          user: hop.user ?? hopAlias.user ?? user,
          identityFiles: hopAlias.identityFiles.length > 0 ? hopAlias.identityFiles : identityFiles,
        };
      })
    : [];
  const h = target.hardened;
  const hardened =
    h && ((h.port !== undefined && h.port !== endpoint.port) || (h.user !== undefined && h.user !== endpoint.user))
      ? { ...endpoint, port: h.port ?? endpoint.port, user: h.user ?? endpoint.user }
      : undefined;
  return {
    name: target.name,
    endpoint: hardened ?? endpoint,
    ...(hardened ? { fallback: endpoint } : {}),
    ...(target.knownAtPorts ? { knownAtPorts: target.knownAtPorts } : {}),
    jumps,
    sudo: target.sudo ?? false,
    knownHostsFiles: (
      target.knownHostsFiles ?? [join(env.home, '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts']
    ).map((f) => expandHome(f, env.home)),
    trustNewHostKey: target.trustNewHostKey ?? false,
    connectTimeoutMs: target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: target.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
  };
}

export function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? home + path.slice(1) : path;
}

/** `user@host:port` for messages. */
export function describeEndpoint(e: Endpoint): string {
  return `${e.user}@${e.host}:${e.port}`;
}
