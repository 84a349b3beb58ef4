/**
 * `harden` in ferry.yml: fleet-wide at the top level, per server under `servers.NAME.harden`
 * (merged over the fleet's, key by key; `false` leaves a server alone). Every section is
 * on with safe defaults unless set to `false`; see docs/harden.md.
 */
import { z } from 'zod';
import { SIZE_PATTERN } from '../core/size.js';

const MAPPING = 'must be a mapping (indented `key: value` lines)';
const BOOL = 'must be true or false';
const SIZE_ERROR = 'must be a size: a whole number of bytes, or a number with a unit such as 512MiB or 2GiB';
const DURATION = 'must be a duration such as 30s, 2m or 1h30m';

const bool = (what: string) => z.boolean({ error: BOOL }).optional().describe(what);
const whole = (min: number, max: number, what: string) =>
  z
    .number({ error: `must be a whole number from ${min} to ${max}` })
    .int()
    .min(min)
    .max(max)
    .optional()
    .describe(what);
const duration = (what: string) =>
  z
    .string({ error: DURATION })
    .regex(/^(\d+(\.\d+)?(ms|s|m|h|d))+$/, { error: DURATION })
    .optional()
    .describe(what);
const size = (what: string) =>
  z
    .union(
      [z.number({ error: SIZE_ERROR }).int().min(0), z.string({ error: SIZE_ERROR }).regex(new RegExp(SIZE_PATTERN))],
      {
        error: SIZE_ERROR,
      },
    )
    .optional()
    .describe(what);
/** A section that is on by default: a mapping of its settings, or false. */
const section = <T extends z.ZodType>(schema: T) =>
  z.union([z.literal(false), schema], { error: `${MAPPING}, or false` });

/** Unix user names as useradd accepts them. */
export const USER_PATTERN = '^[a-z_][a-z0-9_-]{0,31}$';
const userName = z
  .string({ error: 'must be a user name: lower-case letters, digits, "_" and "-", starting with a letter' })
  .regex(new RegExp(USER_PATTERN), {
    error: 'must be a user name: lower-case letters, digits, "_" and "-", starting with a letter',
  });
/** One OpenSSH public key line: type, base64 key, optional comment. */
export const PUBLIC_KEY_PATTERN =
  '^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,3}( [^\\n]*)?$';
const publicKey = z
  .string({ error: 'must be an OpenSSH public key line (ssh-ed25519 AAAA... comment)' })
  .regex(new RegExp(PUBLIC_KEY_PATTERN), { error: 'must be an OpenSSH public key line (ssh-ed25519 AAAA... comment)' });
/** An IPv4 or IPv6 address, optionally with a prefix length. */
const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(\/\d{1,3})?)$/;
const address = z
  .string({ error: 'must be an IP address or network (203.0.113.7, 10.0.0.0/8)' })
  .regex(ADDRESS, { error: 'must be an IP address or network (203.0.113.7, 10.0.0.0/8)' });
/** A server of the fleet (by name) or an address. */
const source = z
  .string({ error: 'must be the name of a server of the fleet, or an IP address or network' })
  .regex(/^[a-z0-9][a-z0-9_-]*$|^[0-9A-Fa-f:./]+$/, {
    error: 'must be the name of a server of the fleet, or an IP address or network',
  });

export const AdminSchema = z
  .strictObject(
    {
      user: userName.describe('The admin user: created with a home, in the `sudo` group, with passwordless sudo.'),
      keys: z
        .array(publicKey, { error: 'must be a list of public key lines' })
        .min(1, { error: 'must name at least one key' })
        .optional()
        .describe(
          'Public keys allowed to log in as the admin (authorized_keys). Default: the public key of the private key Ferry logs in with (`identity_file`, `-i`); the plan refuses a list that leaves that key out, since Ferry could not come back in.',
        ),
    },
    { error: MAPPING },
  )
  .describe('A non-root admin user holding your keys, with sudo: Ferry logs in as it once root login is off.');

export const SshHardenSchema = z
  .strictObject(
    {
      port: z
        .number({ error: 'must be a whole number from 1 to 65535' })
        .int()
        .min(1)
        .max(65535)
        .optional()
        .describe(
          'The port sshd listens on. Default: the port it listens on now (read from the server). A new port is opened in ufw, proven with a new connection, and only then is the old one closed.',
        ),
      root_login: bool('Allow root to log in (with a key only). Default: false (`PermitRootLogin no`).'),
      password_login: bool('Allow passwords (and keyboard-interactive). Default: false: keys only.'),
      allow_users: z
        .array(
          z
            .string({ error: 'must be a user name, optionally @ADDRESS (ops@203.0.113.0/24)' })
            .regex(/^[a-z_][a-z0-9_-]{0,31}(@[0-9A-Fa-f.:/*?]+)?$/, {
              error: 'must be a user name, optionally @ADDRESS (ops@203.0.113.0/24)',
            }),
          { error: 'must be a list of user names' },
        )
        .min(1, { error: 'must name at least one user' })
        .optional()
        .describe(
          'Only these users may log in over SSH (`AllowUsers`), each optionally from an address or network only (`ops@203.0.113.0/24`). Default: the admin user, and the user Ferry logs in as when root login stays allowed or it is not root.',
        ),
      max_auth_tries: whole(1, 10, 'Authentication attempts per connection (`MaxAuthTries`). Default: 3.'),
      max_sessions: whole(1, 100, 'Sessions per connection (`MaxSessions`). Default: 10 (Ferry runs up to 8 at once).'),
      login_grace_time: duration('Time to log in before sshd hangs up (`LoginGraceTime`). Default: 30s.'),
      client_alive_interval: duration('Idle time before sshd asks the client for a sign of life. Default: 5m.'),
      client_alive_count_max: whole(0, 10, 'Unanswered asks before sshd hangs up. Default: 2.'),
      forwarding: bool('Allow TCP, agent, X11 and stream-local forwarding. Default: false.'),
    },
    { error: MAPPING },
  )
  .describe('sshd settings, written as a drop-in (/etc/ssh/sshd_config.d/), judged by `sshd -t` before any reload.');

export const FirewallAllowSchema = z
  .strictObject(
    {
      port: z
        .union(
          [
            z.number({ error: 'must be a port number' }).int().min(1).max(65535),
            z.string({ error: 'must be a port or a range' }).regex(/^\d{1,5}:\d{1,5}$/, {
              error: 'must be a port (8080) or a range (6000:6010)',
            }),
          ],
          { error: 'must be a port (8080) or a range (6000:6010)' },
        )
        .describe('A port, or a range FIRST:LAST.'),
      proto: z.enum(['tcp', 'udp'], { error: 'must be tcp or udp' }).optional().describe('Default: tcp.'),
      from: z
        .array(source, { error: 'must be a list of server names or addresses' })
        .min(1, { error: 'must name at least one server or address' })
        .optional()
        .describe(
          'Only from these: servers of the fleet (by name: their `private_address`, else `host`) or addresses and networks. Default: from anywhere.',
        ),
    },
    { error: MAPPING },
  )
  .describe('A port to open, on the host and on published container ports alike.');

export const FirewallSchema = z
  .strictObject(
    {
      allow: z
        .array(FirewallAllowSchema, { error: 'must be a list of ports to open' })
        .optional()
        .describe(
          "Ports to open besides sshd's (always) and 80/443 (when a stack of the server has a proxy). A port Docker publishes that is not listed here is dropped from other hosts.",
        ),
    },
    { error: MAPPING },
  )
  .describe('ufw with incoming denied by default, and Docker published ports closed unless opened here.');

export const Fail2banSchema = z
  .strictObject(
    {
      max_retry: whole(1, 100, 'Failures within `find_time` that get an address banned. Default: 5.'),
      find_time: duration('Window the failures are counted in. Default: 10m.'),
      ban_time: duration('How long a ban lasts. Default: 1h.'),
      ignore: z
        .array(address, { error: 'must be a list of addresses' })
        .optional()
        .describe('Addresses never banned (your office, a monitoring host). 127.0.0.1/8 and ::1 always are.'),
      nginx: bool('nginx jails (auth failures, rate limit, bot scans). Default: true when nginx is installed.'),
    },
    { error: MAPPING },
  )
  .describe(
    'fail2ban (systemd backend) with an sshd jail on the port sshd really uses; bans reach published container ports too.',
  );

export const UpgradesSchema = z
  .strictObject(
    {
      reboot: bool('Reboot by itself when an upgrade needs it. Default: false.'),
      reboot_time: z
        .string({ error: 'must be a time of day such as 04:00' })
        .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'must be a time of day such as 04:00' })
        .optional()
        .describe('When to reboot, with `reboot: true`. Default: 04:00.'),
    },
    { error: MAPPING },
  )
  .describe('Unattended security upgrades (unattended-upgrades), every day.');

export const DockerHardenSchema = z
  .strictObject(
    {
      log_max_size: z
        .string({ error: 'must be a size such as 10m' })
        .regex(/^\d+[kmg]$/, { error: 'must be a size such as 10m (k, m or g)' })
        .optional()
        .describe("Largest log file of a container (json-file's max-size). Default: 10m."),
      log_max_files: whole(1, 100, 'Log files kept per container. Default: 3.'),
      live_restore: bool('Containers keep running while Docker restarts (`live-restore`). Default: true.'),
    },
    { error: MAPPING },
  )
  .describe("Docker's daemon.json: log rotation and live-restore (other keys of the file are kept).");

export const HardenSchema = z
  .strictObject(
    {
      admin: AdminSchema.optional(),
      ssh: section(SshHardenSchema).optional().describe('sshd settings (see below), or false to leave sshd alone.'),
      firewall: section(FirewallSchema)
        .optional()
        .describe('ufw and Docker published ports (see below), or false to leave the firewall alone.'),
      fail2ban: section(Fail2banSchema).optional().describe('fail2ban jails (see below), or false.'),
      upgrades: section(UpgradesSchema).optional().describe('Unattended security upgrades (see below), or false.'),
      swap: size('A swap file of this size (/swapfile). Default: none made.'),
      sysctl: z
        .record(
          z
            .string()
            .regex(/^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/, { error: 'must be a sysctl key such as net.core.somaxconn' }),
          z.union([z.string().min(1), z.number().int()], { error: 'must be a value (a word or a whole number)' }),
          { error: 'must be a mapping of sysctl keys to values' },
        )
        .optional()
        .describe(
          "Kernel settings, over Ferry's (net.ipv4.ip_forward = 1, which Docker needs, and network hardening); see docs/harden.md.",
        ),
      journald: section(
        z.strictObject({ max_use: size('Largest size of the journal on disk. Default: 512MiB.') }, { error: MAPPING }),
      )
        .optional()
        .describe("A cap on the journal's size."),
      docker: section(DockerHardenSchema).optional().describe("Docker's daemon.json (see below), or false."),
      time_sync: bool('Keep the clock in sync (systemd-timesyncd). Default: true.'),
      timezone: z
        .string({ error: 'must be a time zone such as UTC or Europe/Paris' })
        .regex(/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/, {
          error: 'must be a time zone such as UTC or Europe/Paris',
        })
        .optional()
        .describe('The time zone. Default: left as it is.'),
      switch_timeout: duration(
        "How long the dead man's switch waits for Ferry to confirm a change of sshd or the firewall before the server puts the previous configuration back by itself. Default: 2m.",
      ),
    },
    { error: MAPPING },
  )
  .describe("Hardening of a server, planned and applied as steps; sshd and firewall changes can't lock you out.");

/** `servers.NAME.harden`: settings over the fleet's, or false to leave the server alone. */
export const ServerHardenSchema = z
  .union([z.literal(false), HardenSchema], { error: `${MAPPING}, or false` })
  .describe(
    'Hardening of this server, merged over the top-level `harden` key by key; false leaves the server unhardened.',
  );

export type HardenEntry = z.output<typeof HardenSchema>;
