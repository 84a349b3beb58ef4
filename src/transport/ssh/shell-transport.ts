/**
 * exec, upload and download for any transport that runs shell lines (ssh, local): the
 * subclass only runs a line. Here commands are rendered, wrapped in sudo, judged
 * (timeout, lost connection, sudo missing, `check`) and redacted.
 */
import { Redactor } from '../../core/redact.js';
import type { Secret } from '../../core/secret.js';
import { render, type Command } from '../../shell/command.js';
import { hiccuped, REPLAYS, replayable } from '../replay.js';
import type { ExecOptions, ExecResult, Transport, UploadOptions } from '../transport.js';
import { channelRefused, commandFailed, commandTimeout, connectionLost, isSudoMissing, sudoMissing } from './errors.js';
import type { TransportListener } from './events.js';
import { downloadCommand, sudoLine, uploadCommand } from './file-commands.js';
import type { RunIO, RunOutcome } from './run.js';

export interface ShellTransportOptions {
  /** Knows the secret values; every command line and error message passes through it. */
  redactor?: Redactor;
  onEvent?: TransportListener;
}

interface Judged {
  result: ExecResult;
  stdout: Buffer;
}

export abstract class ShellTransport implements Transport {
  abstract readonly name: string;
  protected readonly redactor: Redactor;
  protected readonly onEvent: TransportListener;

  constructor(options: ShellTransportOptions) {
    this.redactor = options.redactor ?? new Redactor();
    this.onEvent = options.onEvent ?? (() => undefined);
  }

  /** Runs one shell line as the logged-in user. */
  protected abstract runLine(line: string, io: RunIO): Promise<RunOutcome>;
  /** Whether a command asking for sudo (or not saying) is wrapped in sudo; never for root. */
  protected abstract wantsSudo(asked: boolean | undefined): Promise<boolean>;
  protected abstract readonly commandTimeoutMs: number;
  abstract close(): Promise<void>;

  async exec(command: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    const io: RunIO = { timeoutMs: opts.timeoutMs ?? this.commandTimeoutMs };
    if (opts.stdin !== undefined) io.stdin = opts.stdin;
    if (opts.onStdout) io.onStdout = opts.onStdout;
    if (opts.onStderr) io.onStderr = opts.onStderr;
    const again = replayable(command, opts);
    for (let attempt = 1; ; attempt++) {
      const { result } = await this.run(render(command), opts.sudo, false, io);
      if (again && hiccuped(result) && attempt < REPLAYS) {
        await new Promise((r) => setTimeout(r, this.replayPauseMs * attempt));
        continue;
      }
      if (attempt > 1) result.tries = attempt;
      if (opts.check && result.code !== 0)
        throw commandFailed(this.name, result.command, result.code, result.stderr, (t) => this.redactor.redact(t));
      return result;
    }
  }

  /** The pause before a command the runtime could not start runs again (times the tries so far). */
  protected readonly replayPauseMs: number = 2000;

  async upload(path: string, content: string | Buffer | Secret, opts: UploadOptions): Promise<void> {
    await this.exec(uploadCommand(path, opts.mode, opts.owner), { stdin: content, sudo: opts.sudo, check: true });
  }

  async download(path: string, opts: { sudo?: boolean } = {}): Promise<Buffer> {
    return (await this.run(render(downloadCommand(path)), opts.sudo, true, { timeoutMs: this.commandTimeoutMs }))
      .stdout;
  }

  private async run(inner: string, askedSudo: boolean | undefined, check: boolean, io: RunIO): Promise<Judged> {
    const sudo = await this.wantsSudo(askedSudo);
    const line = sudo ? sudoLine(inner) : inner;
    return this.judge(await this.runLine(line, { ...io, sudo }), line, sudo, check, io.timeoutMs);
  }

  private judge(outcome: RunOutcome, line: string, sudo: boolean, check: boolean, timeoutMs: number): Judged {
    const redact = (text: string) => this.redactor.redact(text);
    const shown = redact(line);
    if (outcome.kind === 'timeout') throw commandTimeout(this.name, shown, timeoutMs, redact);
    if (outcome.kind === 'lost') throw connectionLost(this.name, shown, redact);
    if (outcome.kind === 'refused') throw channelRefused(this.name, shown, outcome.reason, redact);
    const stderr = outcome.stderr.toString('utf8');
    const result: ExecResult = {
      code: outcome.code,
      stdout: outcome.stdout.toString('utf8'),
      stderr,
      durationMs: outcome.durationMs,
      command: shown,
    };
    this.onEvent({ kind: 'exec', host: this.name, result });
    if (sudo && isSudoMissing(outcome.code, stderr)) throw sudoMissing(this.name, stderr, redact);
    if (check && outcome.code !== 0) throw commandFailed(this.name, shown, outcome.code, stderr, redact);
    return { result, stdout: outcome.stdout };
  }
}
