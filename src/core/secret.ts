/**
 * A secret value that cannot be printed by accident: string conversion, JSON and
 * `util.inspect` all give `[REDACTED]`. Only a transport calls `reveal()`, at the moment
 * it sends the value to a server (as file content or stdin, never on a command line).
 */
import { inspect } from 'node:util';
import { REDACTED } from './redact.js';

export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export const isSecret = (v: unknown): v is Secret => v instanceof Secret;
