/**
 * The process's standard output and error, written synchronously so that a failure is
 * seen where it happens: a reader that went away (`ferry check | head`, EPIPE) ends the
 * output quietly while the command finishes its work; any other failure (`> /dev/full`)
 * is kept as an `output-failed` error for `main` to report and exit with.
 */
import { writeSync } from 'node:fs';
import type { ErrorReport } from '../core/errors.js';
import { systemErrorWords } from '../core/files.js';
import type { Io } from './io.js';

const pause = new Int32Array(new SharedArrayBuffer(4));

/** One output stream by its file descriptor. */
export class FdWriter {
  private closed = false;
  private failed: ErrorReport | undefined;

  constructor(
    private readonly fd: number,
    private readonly name: string,
    private readonly write: (fd: number, buf: Buffer, offset: number) => number = (fd, buf, offset) =>
      writeSync(fd, buf, offset),
  ) {}

  get failure(): ErrorReport | undefined {
    return this.failed;
  }

  text(text: string): void {
    if (this.closed || text === '') return;
    const buf = Buffer.from(text, 'utf8');
    let offset = 0;
    while (offset < buf.length) {
      try {
        offset += this.write(this.fd, buf, offset);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // A non-blocking pipe that is full: wait for the reader.
        if (code === 'EAGAIN') {
          Atomics.wait(pause, 0, 0, 5);
          continue;
        }
        this.closed = true;
        if (code !== 'EPIPE')
          this.failed = {
            code: 'output-failed',
            message: `cannot write to ${this.name}: ${systemErrorWords(e)}`,
            place: this.name,
            hint: 'Write the output somewhere with room for it (a disk with free space, a pipe that reads it all).',
          };
        return;
      }
    }
  }
}

/** The process's Io: stdout, stderr, the working directory and the environment. */
export function processIo(): Io {
  const out = new FdWriter(1, 'standard output');
  const err = new FdWriter(2, 'standard error');
  return {
    out: (t) => out.text(t),
    err: (t) => err.text(t),
    cwd: process.cwd(),
    env: process.env,
    failure: () => out.failure ?? err.failure,
  };
}
