/**
 * Errors of the deploy steps' commands, shaped as the tool classifiers shape theirs
 * (host, what was being done, exit status, a redacted tail of the words of fixed length).
 * `failureAs` keeps a classifier's known cause (no space left, Docker not running) and
 * gives a step's own code in place of the tool's generic one; `commandFailure` is for a
 * command that is no tool of src/tools (apt-get, ln, mkdir), with the step's own code.
 */
import { StepError } from '../../engine/errors.js';
import type { StepContext } from '../../engine/step.js';
import type { Command } from '../../shell/command.js';
import { toolFailure, toolTail, type Doing, type Tool } from '../../tools/classify.js';
import type { StepErrorCode } from '../../tools/codes.js';
import type { ExecOptions, ExecResult } from '../../transport/transport.js';

type Result = Pick<ExecResult, 'code' | 'stdout' | 'stderr'>;

/** The generic code of each tool: the one a step's own code replaces. */
const GENERIC: Partial<Record<Tool, StepErrorCode>> = {
  docker: 'docker-failed',
  compose: 'compose-failed',
  systemctl: 'systemctl-failed',
};

/** The tool's StepError, with `code` and `hint` when the classifier knew no more specific cause. */
export function failureAs(tool: Tool, r: Result, d: Doing, code: StepErrorCode, hint: string): StepError | undefined {
  const e = toolFailure(tool, r, d);
  if (!e || e.code !== GENERIC[tool]) return e;
  return new StepError(code, e.message, hint);
}

/** A failed command that is not one of the classified tools: the step's own code. */
export function commandFailure(r: Result, d: Doing, code: StepErrorCode, hint: string): StepError | undefined {
  if (r.code === 0) return undefined;
  const tail = toolTail([r.stderr, r.stdout].filter((s) => s.trim() !== '').join('\n'), d.redact);
  return new StepError(
    code,
    d.redact(`${d.host}: ${d.what}: failed (exit ${r.code})`) + (tail ? `:\n${tail}` : ''),
    hint,
  );
}

/** What a step's context says about its host, for an error's message. */
export const doing = (ctx: StepContext, what: string): Doing => ({
  host: ctx.transport.name,
  what,
  redact: (s) => ctx.redactor.redact(s),
});

/** Runs `c` on the step's host and throws `commandFailure` on a non-zero exit. */
export async function runOwn(
  ctx: StepContext,
  c: Command,
  o: ExecOptions & { what: string; code: StepErrorCode; hint: string },
): Promise<string> {
  const { what, code, hint, ...opts } = o;
  const r = await ctx.transport.exec(c, opts);
  const e = commandFailure(r, doing(ctx, what), code, hint);
  if (e) throw e;
  return r.stdout;
}
