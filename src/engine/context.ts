/** The one way a step's context is made: its own transport, and the hosts it declared. */
import type { Redactor } from '../core/redact.js';
import type { Transport } from '../transport/transport.js';
import { StepError } from './errors.js';
import type { Step, StepContext } from './step.js';

/** A context for `step`: `on(host)` gives only `step.host` and the hosts of `step.reaches`. */
export function stepContext(
  step: Pick<Step, 'id' | 'host' | 'reaches'>,
  transports: (host: string) => Transport,
  redactor: Redactor,
  prior?: unknown,
  transferred: StepContext['transferred'] = () => {},
): StepContext {
  const allowed = new Set([step.host, ...(step.reaches ?? [])]);
  const ctx: StepContext = {
    transport: transports(step.host),
    redactor,
    transferred,
    on(host) {
      if (!allowed.has(host)) {
        throw new StepError(
          'step-host-undeclared',
          `step ${step.id} reached ${host}, which it does not declare (it acts on ${[...allowed].join(', ')})`,
          'This is a bug in Ferry: a step must name every host it reaches in `reaches`.',
        );
      }
      return transports(host);
    },
  };
  if (prior !== undefined) ctx.prior = prior;
  return ctx;
}

/** Every string inside a JSON-like value redacted (for journaling an observation). */
export function redactValue(value: unknown, redactor: Redactor): unknown {
  if (typeof value === 'string') return redactor.redact(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v, redactor));
  if (value !== null && typeof value === 'object') {
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function')
      return redactValue(JSON.parse(JSON.stringify(value)), redactor);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, redactor)]));
  }
  return value;
}
