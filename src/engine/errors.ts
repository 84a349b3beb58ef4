/** The engine's own errors, each with a stable code and a hint, like a TransportError. */

/** A plan that cannot run: every problem found, one per line of the message. */
export class PlanError extends Error {
  readonly code = 'plan-invalid';
  readonly hint =
    'every step id must be unique, and a step may depend only on steps of the plan in the same or an earlier phase, without cycles';
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'PlanError';
  }
}

import type { StepErrorCode } from '../tools/codes.js';

/** A step that failed for a reason of its own (not a transport's); its code is one of STEP_ERROR_CODES. */
export class StepError extends Error {
  constructor(
    readonly code: StepErrorCode,
    message: string,
    readonly hint: string,
  ) {
    super(message);
    this.name = 'StepError';
  }
}
