/** Running a tool's command from a step: the transport's result, classified by the tool's rules. */
import type { StepContext } from '../engine/step.js';
import type { Command } from '../shell/command.js';
import type { ExecOptions, ExecResult, Transport } from '../transport/transport.js';
import { expectOk, type Tool } from './classify.js';

export interface ToolRun extends Pick<ExecOptions, 'sudo' | 'timeoutMs' | 'stdin'> {
  /** What is being done, for the message: `compose up of release 3f2a`. */
  what: string;
  /** Another host than the step's own (one it `reaches`). */
  on?: string;
  /**
   * The command starts containers and may simply be run again (`docker start`, `compose up -d`):
   * when the container runtime fails while it sets a container up (runc's init killed under
   * memory or process pressure), it is run again, at most `STARTS` times in all.
   */
  starts?: boolean;
}

/**
 * runc's words when its init process died before it was set up: the container was not
 * started, and nothing about it is wrong. A bad image, mount or command fails otherwise.
 */
export const RUNTIME_HICCUP = /waiting for init preliminary setup|read init-p: connection reset by peer/;

/** How many times a command that starts containers is run, and the pause before each new try. */
export const STARTS = 3;
export const START_PAUSE_MS = 2000;

const failedByHiccup = (r: ExecResult) => r.code !== 0 && RUNTIME_HICCUP.test(`${r.stderr}\n${r.stdout}`);

/** Runs `command` on the step's host (or `o.on`) and returns its stdout; a failure is the tool's StepError. */
export async function runTool(
  ctx: StepContext,
  tool: Tool,
  command: Command,
  o: ToolRun,
  pauseMs = START_PAUSE_MS,
): Promise<string> {
  const t: Transport = o.on === undefined ? ctx.transport : ctx.on(o.on);
  const opts: ExecOptions = {};
  if (o.sudo !== undefined) opts.sudo = o.sudo;
  if (o.timeoutMs !== undefined) opts.timeoutMs = o.timeoutMs;
  if (o.stdin !== undefined) opts.stdin = o.stdin;
  let r = await t.exec(command, opts);
  let tries = 1;
  for (; o.starts && tries < STARTS && failedByHiccup(r); tries++) {
    await new Promise((resolve) => setTimeout(resolve, pauseMs * tries));
    r = await t.exec(command, opts);
  }
  const what = tries > 1 ? `${o.what} (tried ${tries} times)` : o.what;
  return expectOk(tool, r, { host: t.name, what, redact: (s) => ctx.redactor.redact(s) });
}
