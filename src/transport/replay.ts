/**
 * A command run again when the container runtime could not start a process in it: runc's
 * init died while it set the process up (a loaded machine: memory or process pressure).
 * Nothing ran in the container, and nothing about the container or the command is wrong.
 */
import { Readable } from 'node:stream';
import type { Command } from '../shell/command.js';
import type { ExecOptions, ExecResult } from './transport.js';

/**
 * runc's words for it, after `docker exec` (exit 126), `docker start` and `compose up`. A bad
 * image, mount or command ("executable file not found") fails otherwise, and is not retried.
 */
export const RUNTIME_HICCUP = /waiting for init preliminary setup|read init-p: connection reset by peer/;

/** How many times in all such a command is run. */
export const REPLAYS = 3;

/**
 * Whether `command` may run again as is: its stdin can be sent again (not a stream), and it is
 * a lone `docker exec` or `docker start`, or its caller said so (`replay`).
 */
export function replayable(command: Command, opts: ExecOptions): boolean {
  if (opts.stdin instanceof Readable) return false;
  if (opts.replay) return true;
  return command.kind === 'argv' && command.argv[0] === 'docker' && ['exec', 'start'].includes(command.argv[1] ?? '');
}

export const hiccuped = (r: ExecResult): boolean => r.code !== 0 && RUNTIME_HICCUP.test(`${r.stderr}\n${r.stdout}`);
