/**
 * The SSH transport: one connection per host, opened on first use and reused by every
 * command of a run (each command in its own channel). Connecting is bounded by a
 * Limiter shared through the pool and retried with backoff; a command is never retried,
 * but a lone `docker exec` whose process runc could not start (ShellTransport.exec).
 * A connection that drops is reopened by the next command.
 */
import { INPUT_LIMITS, readInput } from '../../core/files.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseSshConfig, type SshConfigSection } from '../ssh-config.js';
import { openConnection, type ConnectSettings, type Connection } from './connect.js';
import { isRetryable, redactError } from './errors.js';
import { runOnChannel } from './exec.js';
import { Limiter } from './limiter.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.js';
import type { RunIO, RunOutcome } from './run.js';
import { ShellTransport, type ShellTransportOptions } from './shell-transport.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, resolveTarget, type ResolvedTarget, type SshTarget } from './target.js';
import { TransportError } from '../transport.js';

export interface SshOptions extends ShellTransportOptions {
  /** Default ~/.ssh/config; null reads none. */
  sshConfigPath?: string | null;
  /** Where `~` points. Default: the user's home. */
  home?: string;
  /** ssh-agent socket. Default: $SSH_AUTH_SOCK; null uses no agent. */
  agentSocket?: string | null;
  /** Default 15 s, and 3 unanswered keepalives close the connection. */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Default: 2 retries after 250 ms and 500 ms. */
  retry?: RetryPolicy;
  /** Bounds concurrent handshakes; the pool shares one among its transports. Default: 8 of its own. */
  limiter?: Limiter;
  /** Commands running at once on one connection; more wait. sshd's MaxSessions is 10 by default. Default 8. */
  maxChannels?: number;
}

export const DEFAULT_MAX_HANDSHAKES = 8;
/** What the hardened endpoint answers while the server is not hardened yet: nothing there, or no such user. */
const FALL_BACK_ON = new Set<string>(['host-unreachable', 'connect-timeout', 'auth-failed']);
export const DEFAULT_MAX_CHANNELS = 8;

export class SshTransport extends ShellTransport {
  readonly name: string;
  protected readonly commandTimeoutMs: number;
  private readonly limiter: Limiter;
  private readonly channels: Limiter;
  private resolved?: Promise<ResolvedTarget>;
  private connection?: Promise<Connection>;
  /** The user of the open connection (the hardened one, or the declared fallback). */
  private user?: string;

  constructor(
    private readonly target: SshTarget,
    private readonly options: SshOptions = {},
  ) {
    super(options);
    this.name = target.name;
    this.commandTimeoutMs = target.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.limiter = options.limiter ?? new Limiter(DEFAULT_MAX_HANDSHAKES);
    this.channels = new Limiter(options.maxChannels ?? DEFAULT_MAX_CHANNELS);
  }

  /** Where the target resolves to (after ~/.ssh/config). */
  resolve(): Promise<ResolvedTarget> {
    this.resolved ??= this.loadTarget();
    return this.resolved;
  }

  /** Connects now rather than on the first command. */
  async connect(): Promise<void> {
    await this.connected();
  }

  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    const connection = await pending?.catch(() => undefined);
    connection?.close();
  }

  protected async runLine(line: string, io: RunIO): Promise<RunOutcome> {
    return this.channels.run(async () => runOnChannel((await this.connected()).client, line, io));
  }

  protected async wantsSudo(asked: boolean | undefined): Promise<boolean> {
    const target = await this.resolve();
    if (!(asked ?? target.sudo)) return false;
    if (target.fallback) await this.connected();
    return (this.user ?? target.endpoint.user) !== 'root';
  }

  /** The endpoint the open connection uses (after a fallback, the declared one). */
  async endpointInUse(): Promise<{ user: string; port: number }> {
    const target = await this.resolve();
    await this.connected();
    const e = this.user === target.endpoint.user ? target.endpoint : (target.fallback ?? target.endpoint);
    return { user: e.user, port: e.port };
  }

  private connected(): Promise<Connection> {
    if (this.connection) return this.connection;
    const pending = this.open();
    this.connection = pending;
    const forget = () => {
      if (this.connection === pending) this.connection = undefined;
    };
    pending.then(
      (c) =>
        c.onClose(() => {
          forget();
          this.onEvent({ kind: 'disconnected', host: this.name });
        }),
      forget,
    );
    return pending;
  }

  /** The hardened endpoint first, when there is one; the declared one when that does not let Ferry in. */
  private async open(): Promise<Connection> {
    const target = await this.resolve();
    if (!target.fallback) return this.openTo(target, target.endpoint.user);
    try {
      return await this.openTo({ ...target, fallback: undefined } as ResolvedTarget, target.endpoint.user, [
        target.fallback.port,
      ]);
    } catch (e) {
      if (!(e instanceof TransportError) || !FALL_BACK_ON.has(e.code)) throw e;
      return this.openTo({ ...target, endpoint: target.fallback }, target.fallback.user);
    }
  }

  private async openTo(target: ResolvedTarget, user: string, samePorts?: number[]): Promise<Connection> {
    const connection = await this.attempts(target, samePorts);
    this.user = user;
    return connection;
  }

  private async attempts(target: ResolvedTarget, samePorts?: number[]): Promise<Connection> {
    const same = samePorts ?? target.knownAtPorts;
    const settings = { ...this.settings(target), ...(same ? { samePorts: same } : {}) };
    const attempts = withRetry(
      (attempt) =>
        this.limiter.run(async () => {
          this.onEvent({ kind: 'connecting', host: this.name, attempt });
          const started = Date.now();
          const connection = await openConnection(target, settings);
          this.onEvent({ kind: 'connected', host: this.name, durationMs: Date.now() - started });
          return connection;
        }),
      this.options.retry ?? DEFAULT_RETRY,
      {
        shouldRetry: isRetryable,
        onRetry: (e, attempt, delayMs) =>
          this.onEvent({ kind: 'connect-retry', host: this.name, attempt, delayMs, code: (e as TransportError).code }),
      },
    );
    return attempts.catch((e: unknown) => {
      throw redactError(e, (text) => this.redactor.redact(text));
    });
  }

  private settings(target: ResolvedTarget): ConnectSettings {
    const agent = this.options.agentSocket === undefined ? process.env['SSH_AUTH_SOCK'] : this.options.agentSocket;
    return {
      knownHostsFiles: target.knownHostsFiles,
      trustNewHostKey: target.trustNewHostKey,
      connectTimeoutMs: target.connectTimeoutMs,
      keepaliveIntervalMs: this.options.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: this.options.keepaliveCountMax ?? 3,
      agentSocket: agent || undefined,
    };
  }

  private async loadTarget(): Promise<ResolvedTarget> {
    const home = this.options.home ?? homedir();
    const configPath =
      this.options.sshConfigPath === undefined ? join(home, '.ssh', 'config') : this.options.sshConfigPath;
    const config = configPath === null ? [] : await readSshConfig(this.name, configPath);
    return resolveTarget(this.target, { config, configPath: configPath ?? '', home });
  }
}

async function readSshConfig(name: string, path: string): Promise<SshConfigSection[]> {
  const read = readInput(path, path, INPUT_LIMITS.small);
  if (read.problem?.code === 'missing-file') return [];
  if (read.problem)
    throw new TransportError(
      'ssh-config',
      name,
      `${name}: ${read.problem.message}`,
      'name a readable SSH config file with --ssh-config, or fix ~/.ssh/config',
    );
  return parseSshConfig(read.bytes.toString('utf8'));
}
