/**
 * A server's `HardenDef`: the fleet's `harden` with the server's over it (key by key, one
 * level into each section; lists are replaced, not joined), defaults filled in, durations
 * in seconds, sizes in bytes, servers named in `from` resolved to their addresses.
 */
import { parseDuration } from '../compose/normalize/duration.js';
import { parseSize } from '../core/size.js';
import type { FirewallAllow, HardenDef } from '../model/harden.js';
import type { HardenEntry } from './harden-schema.js';

/** Network settings that keep Docker working and close what a server does not need; all namespaced per network. */
export const DEFAULT_SYSCTL: Record<string, string> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.conf.all.accept_redirects': '0',
  'net.ipv4.conf.default.accept_redirects': '0',
  'net.ipv4.conf.all.send_redirects': '0',
  'net.ipv4.conf.default.send_redirects': '0',
  'net.ipv4.conf.all.accept_source_route': '0',
  'net.ipv4.conf.all.log_martians': '1',
  'net.ipv4.icmp_echo_ignore_broadcasts': '1',
  'net.ipv4.tcp_syncookies': '1',
  'net.ipv6.conf.all.accept_redirects': '0',
  'net.ipv6.conf.default.accept_redirects': '0',
};

export const DEFAULT_SWITCH_SECONDS = 120;
export const DEFAULT_JOURNAL_BYTES = 512 * 2 ** 20;

const seconds = (d: string | undefined, fallback: number): number =>
  d === undefined ? fallback : Math.max(1, Math.round(parseDuration(d)! / 1000));

type Section<K extends keyof HardenEntry> = Exclude<HardenEntry[K], false | undefined>;

/** A section of the server's over the fleet's: false wins, else keys of the server's replace the fleet's. */
function merged<K extends keyof HardenEntry>(
  fleet: HardenEntry | undefined,
  server: HardenEntry | undefined,
  key: K,
): Section<K> | false {
  const a = fleet?.[key];
  const b = server?.[key];
  if (b === false || (b === undefined && a === false)) return false;
  return { ...(typeof a === 'object' ? a : {}), ...(typeof b === 'object' ? b : {}) } as Section<K>;
}

/** Where a server of the fleet is reached from its peers. */
export type AddressOf = (server: string) => string | undefined;

export function hardenDef(
  fleet: HardenEntry | undefined,
  server: HardenEntry | false | undefined,
  addressOf: AddressOf,
): HardenDef | undefined {
  if (server === false || (fleet === undefined && server === undefined)) return undefined;
  const own = server ?? undefined;
  const pick = <K extends keyof HardenEntry>(k: K): HardenEntry[K] => (own?.[k] !== undefined ? own[k] : fleet?.[k]);
  const def: HardenDef = {
    sysctl: { ...DEFAULT_SYSCTL, ...strings(fleet?.sysctl), ...strings(own?.sysctl) },
    timeSync: pick('time_sync') ?? true,
    switchTimeoutSeconds: seconds(pick('switch_timeout'), DEFAULT_SWITCH_SECONDS),
  };
  const admin = merged(fleet, own, 'admin');
  if (admin && admin.user !== undefined)
    def.admin = admin.keys ? { user: admin.user, keys: [...admin.keys] } : { user: admin.user };
  const ssh = merged(fleet, own, 'ssh');
  if (ssh)
    def.ssh = {
      ...(ssh.port !== undefined ? { port: ssh.port } : {}),
      rootLogin: ssh.root_login ?? false,
      passwordLogin: ssh.password_login ?? false,
      ...(ssh.allow_users ? { allowUsers: [...ssh.allow_users] } : {}),
      maxAuthTries: ssh.max_auth_tries ?? 3,
      maxSessions: ssh.max_sessions ?? 10,
      loginGraceSeconds: seconds(ssh.login_grace_time, 30),
      clientAliveSeconds: seconds(ssh.client_alive_interval, 300),
      clientAliveCountMax: ssh.client_alive_count_max ?? 2,
      forwarding: ssh.forwarding ?? false,
    };
  const firewall = merged(fleet, own, 'firewall');
  if (firewall) def.firewall = { allow: (firewall.allow ?? []).map((a) => allowDef(a, addressOf)) };
  const f2b = merged(fleet, own, 'fail2ban');
  if (f2b)
    def.fail2ban = {
      maxRetry: f2b.max_retry ?? 5,
      findSeconds: seconds(f2b.find_time, 600),
      banSeconds: seconds(f2b.ban_time, 3600),
      ignore: [...(f2b.ignore ?? [])],
      ...(f2b.nginx !== undefined ? { nginx: f2b.nginx } : {}),
    };
  const upgrades = merged(fleet, own, 'upgrades');
  if (upgrades) def.upgrades = { reboot: upgrades.reboot ?? false, rebootTime: upgrades.reboot_time ?? '04:00' };
  const swap = pick('swap');
  if (swap !== undefined) def.swapBytes = parseSize(swap)!;
  const journald = merged(fleet, own, 'journald');
  if (journald)
    def.journald = {
      maxUseBytes: journald.max_use === undefined ? DEFAULT_JOURNAL_BYTES : parseSize(journald.max_use)!,
    };
  const docker = merged(fleet, own, 'docker');
  if (docker)
    def.docker = {
      logMaxSize: docker.log_max_size ?? '10m',
      logMaxFiles: docker.log_max_files ?? 3,
      liveRestore: docker.live_restore ?? true,
    };
  const timezone = pick('timezone');
  if (timezone !== undefined) def.timezone = timezone;
  return def;
}

const strings = (r: Record<string, string | number> | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(r ?? {}).map(([k, v]) => [k, String(v)]));

function allowDef(a: NonNullable<Section<'firewall'>['allow']>[number], addressOf: AddressOf): FirewallAllow {
  return {
    port: String(a.port),
    proto: a.proto ?? 'tcp',
    from: (a.from ?? []).map((f) => addressOf(f) ?? f),
    why: 'ferry.yml',
  };
}
