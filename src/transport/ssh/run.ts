/**
 * What running one shell line produces, before it is judged: the types shared by the
 * transports that run lines in a shell (ssh, local), and the helpers they share.
 */
import { Readable, type Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { isSecret, type Secret } from '../../core/secret.js';

export interface RunIO {
  stdin?: string | Buffer | Secret | Readable;
  /** The line runs through sudo (so stopping it takes sudo too). */
  sudo?: boolean;
  timeoutMs: number;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export type RunOutcome =
  | { kind: 'exited'; code: number; stdout: Buffer; stderr: Buffer; durationMs: number }
  | { kind: 'timeout' }
  | { kind: 'lost' }
  /** The server would not open a channel for it (e.g. sshd's MaxSessions). */
  | { kind: 'refused'; reason: string };

/** Collects a stream's chunks and forwards them, decoded without splitting characters, to a callback. */
export class OutputCollector {
  private readonly chunks: Buffer[] = [];
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly listener?: (chunk: string) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    if (this.listener) {
      const text = this.decoder.write(chunk);
      if (text !== '') this.listener(text);
    }
  }

  finish(): Buffer {
    if (this.listener) {
      const rest = this.decoder.end();
      if (rest !== '') this.listener(rest);
    }
    return Buffer.concat(this.chunks);
  }
}

/** The bytes to write on stdin; a Secret is revealed here, at the moment it is sent. */
export function stdinBytes(stdin: string | Buffer | Secret | undefined): string | Buffer | undefined {
  return isSecret(stdin) ? stdin.reveal() : stdin;
}

/**
 * Feeds stdin to a command's input: bytes at once, a stream piped as it comes. A source
 * stream that fails ends the input, so the command sees a short read and fails itself.
 */
export function feedStdin(stdin: RunIO['stdin'], input: Writable): void {
  if (stdin instanceof Readable) {
    stdin.on('error', () => input.end());
    stdin.pipe(input);
    return;
  }
  const bytes = stdinBytes(stdin);
  if (bytes !== undefined) input.end(bytes);
  else input.end();
}
