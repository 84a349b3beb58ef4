/**
 * Stopping a command that ran out of time. OpenSSH refuses signal requests in root
 * sessions ("session signalling requires privilege separation": sshd keeps no
 * unprivileged child for root), and a killed root command could not be reached
 * otherwise, so every line announces its process group first: it runs as
 * `echo ferry-pid:$$ >&2; exec sh -c '<line>'`, whose pid leads the process group sshd
 * made for the session. The announcement is taken out of stderr; on timeout a second
 * channel runs `kill -KILL -- -<pid>` (through sudo when the command used sudo).
 */
import type { Client } from 'ssh2';
import { quote } from '../../shell/command.js';

const ANNOUNCEMENT = /^ferry-pid:(\d+)\n/;
/** Longer than any announcement: beyond this, the first stderr line is not ours. */
const MAX_ANNOUNCEMENT = 32;

export function announcePid(line: string): string {
  return `echo ferry-pid:$$ >&2; exec sh -c ${quote(line)}`;
}

/** Takes the announcement off the front of stderr and passes the rest on. */
export class PidFilter {
  pid: number | undefined;
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor(private readonly next: (chunk: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (this.head === undefined) return this.next(chunk);
    this.head = Buffer.concat([this.head, chunk]);
    const text = this.head.toString('latin1');
    const m = ANNOUNCEMENT.exec(text);
    if (m) {
      this.pid = Number(m[1]);
      this.release(this.head.subarray(m[0].length));
    } else if (text.includes('\n') || this.head.length > MAX_ANNOUNCEMENT) {
      this.release(this.head);
    }
  }

  /** At the end of the stream: whatever is still held back. */
  flush(): void {
    if (this.head !== undefined) this.release(this.head);
  }

  private release(rest: Buffer): void {
    this.head = undefined;
    if (rest.length > 0) this.next(rest);
  }
}

export function killGroupLine(pid: number, sudo: boolean): string {
  return `${sudo ? 'sudo -n ' : ''}kill -KILL -- -${pid}`;
}

/** Kills the process group in a channel of its own; best effort, nothing to wait for. */
export function reap(client: Client, pid: number, sudo: boolean): void {
  try {
    client.exec(killGroupLine(pid, sudo), { pty: false }, (err, ch) => {
      if (err) return;
      ch.on('data', () => undefined);
      ch.stderr.on('data', () => undefined);
      ch.on('error', () => undefined);
      ch.end();
    });
  } catch {
    // The connection is gone; so is the session.
  }
}
