/** Running a tool's command from a step: the transport's result, classified by the tool's rules. */
import type { StepContext } from '../engine/step.js';
import type { Command } from '../shell/command.js';
import type { ExecOptions, Transport } from '../transport/transport.js';
import { expectOk, type Tool } from './classify.js';

export interface ToolRun extends Pick<ExecOptions, 'sudo' | 'timeoutMs' | 'stdin'> {
  /** What is being done, for the message: `compose up of release 3f2a`. */
  what: string;
  /** Another host than the step's own (one it `reaches`). */
  on?: string;
  /**
   * The command may run again as is when the container runtime could not start a process in
   * it (`docker start`, `compose up -d`, a `docker exec` inside a script): see replay.ts.
   */
  replay?: boolean;
}

/** Runs `command` on the step's host (or `o.on`) and returns its stdout; a failure is the tool's StepError. */
export async function runTool(ctx: StepContext, tool: Tool, command: Command, o: ToolRun): Promise<string> {
  const t: Transport = o.on === undefined ? ctx.transport : ctx.on(o.on);
  const opts: ExecOptions = {};
  if (o.sudo !== undefined) opts.sudo = o.sudo;
  if (o.timeoutMs !== undefined) opts.timeoutMs = o.timeoutMs;
  if (o.stdin !== undefined) opts.stdin = o.stdin;
  if (o.replay) opts.replay = true;
  const r = await t.exec(command, opts);
  const what = r.tries === undefined ? o.what : `${o.what} (tried ${r.tries} times)`;
  return expectOk(tool, r, { host: t.name, what, redact: (s) => ctx.redactor.redact(s) });
}
