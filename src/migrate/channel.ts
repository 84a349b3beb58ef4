/**
 * A temporary SSH channel from the source server to the target server, so that volume
 * data goes straight between them and never through the operator's machine. `open`
 * makes a key pair on the source (the private key never leaves it), authorizes it on the
 * target restricted to the source's address (`from=`) and to plain commands (`restrict`),
 * and pins the target's host keys, read over Ferry's own verified connection, in a
 * known-hosts file beside the key. `close` removes all of it.
 */
import { NAME_PATTERN } from '../fleet/schema.js';
import { and, cmd, or, quiet, raw, render, write, type Command } from '../shell/command.js';
import { sudoLine } from '../transport/ssh/file-commands.js';
import type { Transport } from '../transport/transport.js';
import { StepError } from '../engine/errors.js';
import type { Step, StepContext } from '../engine/step.js';

export interface Endpoint {
  /** The server's name in the fleet. */
  name: string;
  /** The address Ferry reaches it by. */
  address: string;
  port: number;
  user: string;
  /** Commands need `sudo -n` (ignored for root). */
  sudo: boolean;
}

export interface Channel {
  stack: string;
  source: Endpoint;
  target: Endpoint;
  /** On the source. */
  keyPath: string;
  /** On the source: the target's host keys only. */
  knownHostsPath: string;
}

const STACK = new RegExp(NAME_PATTERN);
const home = (user: string): string => (user === 'root' ? '/root' : `/home/${user}`);
/** Whether commands for `e` go through `sudo -n`. */
export const needsSudo = (e: Endpoint): boolean => e.sudo && e.user !== 'root';
const dirOf = (path: string): string => path.slice(0, path.lastIndexOf('/'));

/** The comment on the key and its authorized_keys line, by which `close` finds the line. */
export const marker = (stack: string): string => `ferry-migrate-${stack}`;
export const authorizedKeysPath = (e: Endpoint): string => `${home(e.user)}/.ssh/authorized_keys`;

/** Pure. The key lives in root's ~/.ssh when Ferry is root (or sudo) on the source, else in the user's. */
export function channelFor(stack: string, source: Endpoint, target: Endpoint): Channel {
  if (!STACK.test(stack)) throw new Error(`channelFor: "${stack}" is not a stack name (${NAME_PATTERN})`);
  const dir = `${source.user === 'root' || source.sudo ? '/root' : home(source.user)}/.ssh`;
  const keyPath = `${dir}/${marker(stack)}`;
  return { stack, source, target, keyPath, knownHostsPath: `${keyPath}.known_hosts` };
}

/** `user@address`, with brackets around an IPv6 address when a path follows (rsync's `user@[::1]:path`). */
export function destination(e: Endpoint, forPath = false): string {
  return `${e.user}@${forPath && e.address.includes(':') ? `[${e.address}]` : e.address}`;
}

const CIPHERS =
  'aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr';

/** The ssh command line that reaches the target from the source, destination excluded. */
export function sshOptions(ch: Channel): string[] {
  return [
    'ssh',
    '-i',
    ch.keyPath,
    '-o',
    `UserKnownHostsFile=${ch.knownHostsPath}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    // Without these a dropped packet hangs a probe for minutes and a dead link a transfer for ever.
    '-o',
    'ConnectTimeout=10',
    '-o',
    'ServerAliveInterval=15',
    // AES-GCM first: with AES instructions (any recent x86 or ARM server) ssh carried 1 GiB
    // between two test bed hosts in 3.2 s against 4.7 s with OpenSSH's default, ChaCha20.
    // The rest of the list keeps a hardened sshd's choices reachable.
    '-o',
    `Ciphers=${CIPHERS}`,
    '-p',
    String(ch.target.port),
  ];
}

/** Run on the source: ssh through the channel to the target. */
export const sshArgv = (ch: Channel): string[] => [...sshOptions(ch), destination(ch.target)];

/** `remote`, with `sudo -n` in front when the target needs it. */
export function remoteLine(e: Endpoint, remote: Command): string {
  if (!needsSudo(e)) return render(remote);
  return remote.kind === 'argv' ? render(cmd('sudo', '-n', ...remote.argv)) : sudoLine(render(remote));
}

/** A command to run ON THE SOURCE that runs `remote` on the target through the channel, as one quoted argument. */
export const onTarget = (ch: Channel, remote: Command): Command => cmd(...sshArgv(ch), remoteLine(ch.target, remote));

/** Succeeds when the channel works. */
export const probeCommand = (ch: Channel): Command => and(cmd('test', '-f', ch.keyPath), onTarget(ch, cmd('true')));

export const keygenCommand = (ch: Channel): Command =>
  and(
    cmd('mkdir', '-p', '-m', '700', dirOf(ch.keyPath)),
    or(
      cmd('test', '-f', ch.keyPath),
      cmd('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', marker(ch.stack), '-f', ch.keyPath),
    ),
  );
export const publicKeyCommand = (ch: Channel): Command => cmd('cat', `${ch.keyPath}.pub`);
/** Host public keys are world-readable; the glob needs a shell. */
export const hostKeysCommand: Command = raw`cat /etc/ssh/ssh_host_*_key.pub`;
export const removeKeyCommand = (ch: Channel): Command =>
  cmd('rm', '-f', ch.keyPath, `${ch.keyPath}.pub`, ch.knownHostsPath);
/** Prints the channel's files still on the source. */
export const keyFilesCommand = (ch: Channel): Command =>
  quiet(cmd('ls', '-1d', ch.keyPath, `${ch.keyPath}.pub`, ch.knownHostsPath));

const dropLine = (ch: Channel): Command =>
  cmd('sed', '--follow-symlinks', '-i', `/ ${marker(ch.stack)}$/d`, authorizedKeysPath(ch.target));

/** Replaces any earlier line of this channel by `line`; creates ~/.ssh and authorized_keys (700/600) when missing. */
export function authorizeCommand(ch: Channel, line: string): Command {
  const file = authorizedKeysPath(ch.target);
  return and(
    cmd('mkdir', '-p', '-m', '700', dirOf(file)),
    or(cmd('test', '-f', file), cmd('install', '-m', '600', '/dev/null', file)),
    dropLine(ch),
    write(cmd('printf', '%s\\n', line), file, true),
  );
}

export const unauthorizeCommand = (ch: Channel): Command =>
  or(cmd('test', '!', '-f', authorizedKeysPath(ch.target)), dropLine(ch));
/** Prints how many lines of this channel the target's authorized_keys holds (nothing when it has no such file). */
export const authorizedCountCommand = (ch: Channel): Command =>
  quiet(cmd('grep', '-c', '-e', ` ${marker(ch.stack)}$`, authorizedKeysPath(ch.target)));

/** The authorized_keys line for the source's public key `pub` (`type base64 [comment]`). */
export function authorizedLine(ch: Channel, pub: string, from: string | false, permitOpen: string[] = []): string {
  const [type, key] = pub.trim().split(/\s+/);
  if (!type || !key || !/^ssh-ed25519$/.test(type)) {
    throw new StepError(
      'channel-key-invalid',
      `${ch.source.name}: ${ch.keyPath}.pub is not an ed25519 public key`,
      `remove ${ch.keyPath} and ${ch.keyPath}.pub on ${ch.source.name} and run again`,
    );
  }
  return `${from ? `from="${from}",` : ''}restrict${forwarding(permitOpen)} ${type} ${key} ${marker(ch.stack)}`;
}

/** Local forwarding back on, to exactly these `host:port` (and no remote forwarding). */
const forwarding = (permitOpen: string[]): string =>
  permitOpen.length === 0
    ? ''
    : `,port-forwarding,${permitOpen.map((p) => `permitopen="${p}"`).join(',')},permitlisten="127.0.0.1:1"`;

/** known_hosts lines for the target from its `ssh_host_*_key.pub` files. */
export function knownHostsText(ch: Channel, hostKeys: string): string {
  const pattern = ch.target.port === 22 ? ch.target.address : `[${ch.target.address}]:${ch.target.port}`;
  const lines = hostKeys
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([type, key]) => type && key && /^(ssh-|ecdsa-)/.test(type));
  if (lines.length === 0)
    throw new StepError(
      'host-keys-unreadable',
      `${ch.target.name}: no host public key in /etc/ssh/ssh_host_*_key.pub`,
      `check that sshd on ${ch.target.name} keeps its host keys in /etc/ssh`,
    );
  return lines.map(([type, key]) => `${pattern} ${type} ${key}\n`).join('');
}

/** What went wrong with a probe that failed, from ssh's stderr, and what to do. */
export function channelError(ch: Channel, stderr: string, from: string | false): StepError {
  const s = ch.source.name;
  const t = ch.target.name;
  const where = `${ch.target.address}:${ch.target.port}`;
  const last = stderr.trim().split('\n').pop() ?? '';
  const hint = /Permission denied/.test(stderr)
    ? `${t} refused ${s}'s key${from ? `: if ${t} sees ${s} under another address than ${from} (NAT, a private network), give that address for the from= restriction, or turn the restriction off` : ''}`
    : /Host key verification failed/.test(stderr)
      ? `the host keys ${t} presented differ from its /etc/ssh/ssh_host_*_key.pub: check that ${where} is ${t} and not another machine`
      : /timed out|No route to host|Connection refused|Could not resolve/.test(stderr)
        ? `${s} cannot reach ${where}: allow ${s} through ${t}'s firewall to port ${ch.target.port} (e.g. \`ufw allow from ${ch.source.address} to any port ${ch.target.port}\` on ${t})`
        : `run the same ssh from ${s} by hand to see why: ${render(onTarget(ch, cmd('true')))}`;
  return new StepError(
    'channel-failed',
    `${s}: cannot reach ${t} over the migration channel: ${last || 'ssh failed'}`,
    hint,
  );
}

export interface ChannelStepOptions {
  ch: Channel;
  /** @deprecated Not used: both steps run on the channel's source and reach its target through their context. */
  source?: () => Transport;
  /** @deprecated Not used (see `source`). */
  target?: () => Transport;
  dependsOn: string[];
  /** The source's address as the target sees it, for `from=`; false: no restriction. Default: the source's address. */
  from?: string | false;
  /** Steps that use the channel: `close` waits for them (and for `open`). */
  closeAfter?: string[];
  /** `host:port` the key may forward to (`ssh -L`), read when the channel opens; none by default. */
  permitOpen?: (ctx: StepContext) => Promise<string[]>;
  /** Default `STACK/channel/open` and `STACK/channel/close`. */
  openId?: string;
  closeId?: string;
  /** The open step's title; default `SSH channel SOURCE → TARGET for STACK`. */
  title?: string;
}

/** What open's check saw: whether the channel worked already. */
export interface ChannelOpenObserved {
  works: boolean;
}

/** What close's check saw: the channel's pieces left on either server. */
export interface ChannelCloseObserved {
  left: string[];
}

export function channelSteps(o: ChannelStepOptions): {
  open: Step<ChannelOpenObserved>;
  close: Step<ChannelCloseObserved>;
} {
  const open = openStep(o);
  return { open, close: closeStep(o, open.id) };
}

/**
 * Commands on either server, from a step on the channel's source: the source is its own
 * host, the target one it reaches. Both steps do two things: remove the channel, list what
 * is left of it.
 */
function hosts(ch: Channel, ctx: StepContext) {
  const source = (c: Command) => ctx.transport.exec(c, { sudo: ch.source.sudo });
  // The target user's own authorized_keys: never through sudo, so that the file stays theirs.
  const target = (c: Command) => ctx.on(ch.target.name).exec(c, { sudo: false });
  return {
    source,
    target,
    works: async () => (await source(probeCommand(ch))).code === 0,
    async remove(): Promise<void> {
      await target(unauthorizeCommand(ch)).then(must(ch.target.name, 'removing the channel key from authorized_keys'));
      await source(removeKeyCommand(ch)).then(must(ch.source.name, 'removing the channel key'));
    },
    async left(): Promise<string[]> {
      const [count, files] = await Promise.all([target(authorizedCountCommand(ch)), source(keyFilesCommand(ch))]);
      const n = Number(count.stdout.trim() || '0');
      return [
        ...(n > 0 ? [`${n} line(s) in ${ch.target.name}:${authorizedKeysPath(ch.target)}`] : []),
        ...files.stdout
          .split('\n')
          .filter(Boolean)
          .map((f) => `${ch.source.name}:${f}`),
      ];
    },
  };
}

const titleOf = (ch: Channel): string => `SSH channel ${ch.source.name} → ${ch.target.name} for ${ch.stack}`;

function openStep(o: ChannelStepOptions): Step<ChannelOpenObserved> {
  const { ch } = o;
  const from = o.from ?? ch.source.address;
  return {
    id: o.openId ?? `${ch.stack}/channel/open`,
    host: ch.source.name,
    reaches: [ch.target.name],
    phase: 'prepare',
    title: o.title ?? titleOf(ch),
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Let ${ch.source.name} reach ${ch.target.name} over SSH with a key made for this migration, so that data goes directly between the servers. The private key stays on ${ch.source.name}; ${ch.target.name} accepts it only${from ? ` from ${from},` : ''} for plain commands (restrict), and ${ch.source.name} trusts only ${ch.target.name}'s own host keys. Each ssh gives up after 10 s without a connection.`,
      commands: [
        `${render(keygenCommand(ch))}  (on ${ch.source.name})`,
        `${render(hostKeysCommand)}  (on ${ch.target.name}) → ${ch.knownHostsPath} (on ${ch.source.name})`,
        `${render(authorizeCommand(ch, `${from ? `from="${from}",` : ''}restrict ssh-ed25519 KEY ${marker(ch.stack)}`))}  (on ${ch.target.name})`,
      ],
      verify: `${render(onTarget(ch, cmd('true')))}  (on ${ch.source.name})`,
      undo: `${render(unauthorizeCommand(ch))} (on ${ch.target.name}); ${render(removeKeyCommand(ch))} (on ${ch.source.name})`,
    }),
    async check(ctx) {
      if (await hosts(ch, ctx).works()) return { needed: false, observed: { works: true } };
      return {
        needed: true,
        change: {
          summary: `key ${ch.keyPath} on ${ch.source.name}, authorized for ${ch.target.user} on ${ch.target.name}${from ? ` from ${from}` : ''}; ${ch.target.name}'s host keys pinned`,
        },
        observed: { works: false },
      };
    },
    apply: async (ctx) => openChannel(ctx, ch, from, (await o.permitOpen?.(ctx)) ?? []),
    async verify(ctx) {
      return (await hosts(ch, ctx).works())
        ? { ok: true }
        : { ok: false, message: `${ch.source.name} cannot run a command on ${ch.target.name} through the channel` };
    },
    // Removing what is there is right whatever apply reached: a channel that worked before needed no apply.
    rollback: (ctx) => hosts(ch, ctx).remove(),
  };
}

/**
 * Opens `ch` from a step that acts on its source and reaches its target: the key made there,
 * the target's host keys pinned, the key authorized on the target, the channel probed.
 */
export async function openChannel(
  ctx: StepContext,
  ch: Channel,
  from: string | false = ch.source.address,
  permitOpen: string[] = [],
): Promise<void> {
  const on = hosts(ch, ctx);
  await on.source(keygenCommand(ch)).then(must(ch.source.name, `creating ${ch.keyPath}`));
  const pub = await on.source(publicKeyCommand(ch)).then(must(ch.source.name, `reading ${ch.keyPath}.pub`));
  const keys = await on.target(hostKeysCommand).then(must(ch.target.name, 'reading the host keys'));
  await ctx.transport.upload(ch.knownHostsPath, knownHostsText(ch, keys.stdout), {
    mode: 0o600,
    sudo: ch.source.sudo,
  });
  await on
    .target(authorizeCommand(ch, authorizedLine(ch, pub.stdout, from, permitOpen)))
    .then(must(ch.target.name, `adding the channel key to ${authorizedKeysPath(ch.target)}`));
  const probe = await on.source(probeCommand(ch));
  if (probe.code !== 0) throw channelError(ch, ctx.redactor.redact(probe.stderr), from);
}

/** Whether `ch` works, from a step on its source. */
export const channelWorks = (ctx: StepContext, ch: Channel): Promise<boolean> => hosts(ch, ctx).works();

/** Removes `ch` from both servers, from a step on its source; what is left of it, listed. */
export const closeChannel = (ctx: StepContext, ch: Channel): Promise<void> => hosts(ch, ctx).remove();
export const channelLeft = (ctx: StepContext, ch: Channel): Promise<string[]> => hosts(ch, ctx).left();

function closeStep(o: ChannelStepOptions, openId: string): Step<ChannelCloseObserved> {
  const { ch } = o;
  const ak = authorizedKeysPath(ch.target);
  return {
    id: o.closeId ?? `${ch.stack}/channel/close`,
    host: ch.source.name,
    reaches: [ch.target.name],
    phase: 'verify',
    title: `close ${titleOf(ch)}`,
    dependsOn: [openId, ...(o.closeAfter ?? [])],
    doc: () => ({
      purpose: `Remove the migration key of ${ch.stack}: its line in ${ch.target.name}:${ak} and its files on ${ch.source.name}.`,
      commands: [
        `${render(unauthorizeCommand(ch))}  (on ${ch.target.name})`,
        `${render(removeKeyCommand(ch))}  (on ${ch.source.name})`,
      ],
      verify: `No line ending in ${marker(ch.stack)} in ${ak} and no ${ch.keyPath}* on ${ch.source.name}.`,
      undo: 'Nothing: run the migration again to open a new channel.',
    }),
    async check(ctx) {
      const left = await hosts(ch, ctx).left();
      return left.length === 0
        ? { needed: false, observed: { left } }
        : { needed: true, change: { summary: `remove ${left.join(', ')}` }, observed: { left } };
    },
    apply: (ctx) => hosts(ch, ctx).remove(),
    async verify(ctx) {
      const rest = await hosts(ch, ctx).left();
      return rest.length === 0 ? { ok: true } : { ok: false, message: `still there: ${rest.join(', ')}` };
    },
    async rollback() {
      // Removing a key cannot be undone, nor needs to be.
    },
  };
}

/** Throws a coded error naming the host when a command of the channel fails. */
function must(host: string, what: string) {
  return <R extends { code: number; stderr: string }>(r: R): R => {
    if (r.code === 0) return r;
    throw new StepError(
      'channel-setup-failed',
      `${host}: ${what} failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`}`,
      `check that the SSH user on ${host} may write its ~/.ssh (or has sudo), then run again`,
    );
  };
}
