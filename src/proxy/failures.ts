/**
 * The proxy's tool failures, from the classifiers of src/tools: a message naming the host
 * and what was being done, with a redacted tail of the tool's words. Where the classifier
 * recognises nothing more specific than the tool's generic failure, the error carries the
 * proxy's own code and hint (a reload that failed is `nginx-reload-failed`, whatever the
 * tool's words).
 */
import { StepError } from '../engine/errors.js';
import type { StepContext } from '../engine/step.js';
import { toolFailure, toolTail, type Doing, type Tool } from '../tools/classify.js';
import type { StepErrorCode } from '../tools/codes.js';
import type { ExecResult } from '../transport/transport.js';

type Result = Pick<ExecResult, 'code' | 'stdout' | 'stderr'>;

/** What a step was doing on `host`, for a message. */
export const doing = (ctx: StepContext, host: string, what: string): Doing => ({
  host,
  what,
  redact: (s) => ctx.redactor.redact(s),
});

/** The code a tool's classifier gives a failure in which it recognises nothing (e.g. `systemctl-failed`). */
function genericCode(tool: Tool): StepErrorCode | undefined {
  return toolFailure(tool, { code: 1, stdout: '', stderr: '' }, { host: '', what: '', redact: (s) => s })?.code;
}

/** The tool's error for `r` (undefined: it succeeded), under `generic`'s code and hint when it is the tool's generic one. */
export function proxyFailure(
  tool: Tool,
  r: Result,
  d: Doing,
  generic: { code: StepErrorCode; hint: string },
): StepError | undefined {
  const e = toolFailure(tool, r, d);
  if (e === undefined || e.code !== genericCode(tool)) return e;
  return new StepError(generic.code, e.message, generic.hint);
}

/** Throws the tool's error (see proxyFailure) unless `r` succeeded. */
export function expectProxyOk(tool: Tool, r: Result, d: Doing, generic: { code: StepErrorCode; hint: string }): void {
  const e = proxyFailure(tool, r, d, generic);
  if (e) throw e;
}

/**
 * apt-get has no classifier of its own: its failure in the same words as the classifiers'
 * (host, what, exit status, redacted tail), with `code`.
 */
export function aptFailure(r: Result, d: Doing, code: StepErrorCode, hint: string): StepError | undefined {
  if (r.code === 0) return undefined;
  const tail = toolTail([r.stderr, r.stdout].filter((s) => s.trim() !== '').join('\n'), d.redact);
  const message = d.redact(`${d.host}: ${d.what}: apt-get failed (exit ${r.code})`) + (tail ? `:\n${tail}` : '');
  return new StepError(code, message, hint);
}
