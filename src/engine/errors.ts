/** The engine's own errors, each with a stable code, a place and a hint, like a TransportError. */
import { FerryError } from '../core/errors.js';
import type { StepErrorCode } from '../tools/codes.js';

/** A plan that cannot run: every problem found, one per line of the message. */
export class PlanError extends FerryError {
  constructor(readonly problems: string[]) {
    super(
      'plan-invalid',
      problems.join('\n'),
      'the plan',
      'every step id must be unique, and a step may depend only on steps of the plan in the same or an earlier phase, without cycles',
    );
    this.name = 'PlanError';
  }
}

/**
 * A step that failed for a reason of its own (not a transport's); its code is one of
 * STEP_ERROR_CODES. `place` is where it failed when the message does not start with it
 * (a host, a file); the run's events add the step and its host.
 */
export class StepError extends FerryError {
  declare readonly code: StepErrorCode;
  constructor(code: StepErrorCode, message: string, hint: string, place = 'a step of the plan') {
    super(code, message, place, hint);
    this.name = 'StepError';
  }
}
