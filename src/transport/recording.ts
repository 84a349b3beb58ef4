/**
 * A Transport for unit tests of the engine: it records every command line (rendered and
 * redacted, as a journal would show it), upload and download, and answers from a script
 * of canned results. A command nobody scripted fails loudly with UnexpectedCommandError,
 * which is not a TransportError, so that engine code cannot mistake it for a host's
 * answer. Uploaded files can be downloaded back.
 */
import { Readable } from 'node:stream';
import { Redactor } from '../core/redact.js';
import { isSecret, type Secret } from '../core/secret.js';
import { render, type Command } from '../shell/command.js';
import { commandFailed } from './ssh/errors.js';
import { downloadCommand } from './ssh/file-commands.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport, type UploadOptions } from './transport.js';

export type CommandMatcher = string | RegExp | ((line: string) => boolean);

export interface CannedResult {
  code?: number;
  stdout?: string;
  stderr?: string;
  durationMs?: number;
  /** Thrown instead of answering (e.g. a `connection-lost`). */
  error?: TransportError;
}

export type RecordedCall =
  | { kind: 'exec'; line: string; sudo: boolean; stdin?: string }
  | { kind: 'upload'; path: string; content: string | Buffer | Secret; mode: number; owner?: string; sudo: boolean }
  | { kind: 'download'; path: string; sudo: boolean };

interface Rule {
  matcher: CommandMatcher;
  reply: CannedResult | ((line: string) => CannedResult);
  /** Uses left; undefined answers forever. */
  times: number | undefined;
}

export class UnexpectedCommandError extends Error {
  constructor(host: string, what: string, scripted: string[]) {
    super(`${host}: unexpected ${what}\nscripted: ${scripted.length ? scripted.join('\n          ') : '(nothing)'}`);
    this.name = 'UnexpectedCommandError';
  }
}

export class RecordingTransport implements Transport {
  readonly calls: RecordedCall[] = [];
  private readonly rules: Rule[] = [];
  private readonly files = new Map<string, string | Buffer | Secret | null>();
  private readonly redactor: Redactor;
  closed = false;

  constructor(
    readonly name = 'test',
    options: { redactor?: Redactor } = {},
  ) {
    this.redactor = options.redactor ?? new Redactor();
  }

  /** Answers lines that match (a string matches the whole line); the first matching rule with uses left wins. */
  when(
    matcher: CommandMatcher,
    reply: CannedResult | ((line: string) => CannedResult),
    opts: { times?: number } = {},
  ): this {
    this.rules.push({ matcher, reply, times: opts.times });
    return this;
  }

  /** A file on the host, for download; null: the file does not exist. */
  file(path: string, content: string | Buffer | null): this {
    this.files.set(path, content);
    return this;
  }

  /** The exec lines, in order. */
  get lines(): string[] {
    return this.calls.flatMap((c) => (c.kind === 'exec' ? [c.line] : []));
  }

  /** Rules given a number of uses that were not all used. */
  unused(): string[] {
    return this.rules.filter((r) => r.times !== undefined && r.times > 0).map((r) => describe(r.matcher));
  }

  async exec(command: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    const line = this.redactor.redact(render(command));
    const call: RecordedCall = { kind: 'exec', line, sudo: opts.sudo ?? false };
    if (opts.stdin !== undefined)
      call.stdin = isSecret(opts.stdin)
        ? String(opts.stdin)
        : opts.stdin instanceof Readable
          ? '(stream)'
          : this.redactor.redact(opts.stdin.toString());
    this.calls.push(call);
    const rule = this.rules.find((r) => (r.times === undefined || r.times > 0) && matches(r.matcher, line));
    if (!rule)
      throw new UnexpectedCommandError(
        this.name,
        `command: ${line}`,
        this.rules.map((r) => describe(r.matcher)),
      );
    if (rule.times !== undefined) rule.times -= 1;
    const canned = typeof rule.reply === 'function' ? rule.reply(line) : rule.reply;
    if (canned.error) throw canned.error;
    const result: ExecResult = {
      code: canned.code ?? 0,
      stdout: canned.stdout ?? '',
      stderr: canned.stderr ?? '',
      durationMs: canned.durationMs ?? 0,
      command: line,
    };
    if (result.stdout) opts.onStdout?.(result.stdout);
    if (result.stderr) opts.onStderr?.(result.stderr);
    if (opts.check && result.code !== 0)
      throw commandFailed(this.name, line, result.code, result.stderr, (t) => this.redactor.redact(t));
    return result;
  }

  async upload(path: string, content: string | Buffer | Secret, opts: UploadOptions): Promise<void> {
    const call: RecordedCall = { kind: 'upload', path, content, mode: opts.mode, sudo: opts.sudo ?? false };
    if (opts.owner !== undefined) call.owner = opts.owner;
    this.calls.push(call);
    this.files.set(path, content);
  }

  async download(path: string, opts: { sudo?: boolean } = {}): Promise<Buffer> {
    this.calls.push({ kind: 'download', path, sudo: opts.sudo ?? false });
    if (!this.files.has(path))
      throw new UnexpectedCommandError(
        this.name,
        `download of ${path}`,
        [...this.files.keys()].map((p) => `file ${p}`),
      );
    const content = this.files.get(path);
    if (content === null || content === undefined) {
      throw commandFailed(
        this.name,
        render(downloadCommand(path)),
        1,
        `cat: ${path}: No such file or directory`,
        (t) => t,
      );
    }
    return Buffer.from(isSecret(content) ? content.reveal() : content);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function matches(matcher: CommandMatcher, line: string): boolean {
  if (typeof matcher === 'string') return matcher === line;
  if (matcher instanceof RegExp) return matcher.test(line);
  return matcher(line);
}

function describe(matcher: CommandMatcher): string {
  return typeof matcher === 'function' ? `<function ${matcher.name || 'anonymous'}>` : String(matcher);
}
