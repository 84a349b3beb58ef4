/**
 * The one interface the engine knows hosts by. Implementations: ssh (ssh2), local (this
 * machine), recording (unit tests). An exec result is data; a non-zero exit is not an
 * exception unless `check: true` is asked.
 */
import type { TransportErrorCode } from '../core/codes.js';
import { FerryError } from '../core/errors.js';
import type { Command } from '../shell/command.js';
import type { Secret } from '../core/secret.js';
import type { Readable } from 'node:stream';

export interface ExecOptions {
  /** Run through sudo (non-root users configured with `sudo: true`). */
  sudo?: boolean;
  /** Sent on stdin; a Secret is revealed only here. A stream is piped as it comes (large transfers). */
  stdin?: string | Buffer | Secret | Readable;
  /** Kill the command after this long (default: the transport's). */
  timeoutMs?: number;
  /** Streamed output. */
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /** Throw a TransportError (code `command-failed`) on a non-zero exit. */
  check?: boolean;
  /**
   * The command may run again as is when the container runtime could not start a process in
   * it (see replay.ts): running it twice does what running it once does. A lone `docker exec`
   * or `docker start` always may.
   */
  replay?: boolean;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** The shell line that ran, secrets redacted (for journals and errors). */
  command: string;
  /** How many times it ran, when more than once (see `replay`). */
  tries?: number;
}

export interface UploadOptions {
  /** File mode, e.g. 0o600 for secrets. */
  mode: number;
  sudo?: boolean;
  /** `user:group` */
  owner?: string;
}

export interface Transport {
  /** The host's name in the fleet (for messages). */
  readonly name: string;
  exec(command: Command, opts?: ExecOptions): Promise<ExecResult>;
  /** Writes content to `path` atomically (temp file + rename) with `mode`; content never on a command line. */
  upload(path: string, content: string | Buffer | Secret, opts: UploadOptions): Promise<void>;
  download(path: string, opts?: { sudo?: boolean }): Promise<Buffer>;
  close(): Promise<void>;
}

/** Failures of reaching or using a host, each with a stable code and a hint (listed in core/codes.ts). */
export type { TransportErrorCode } from '../core/codes.js';

export class TransportError extends FerryError {
  declare readonly code: TransportErrorCode;
  constructor(
    code: TransportErrorCode,
    readonly host: string,
    message: string,
    hint: string,
  ) {
    super(code, message, `host ${host}`, hint);
    this.name = 'TransportError';
  }
}
