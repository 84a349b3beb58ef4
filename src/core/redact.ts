/**
 * The last line of defence against printing a secret: every line Ferry writes goes
 * through a Redactor that knows the secret values found while loading (values read
 * from env files, values of credential-named keys, passwords inside URLs and credentials
 * on command lines). Which names are credentials is decided in `secret-names.ts`.
 */

export const REDACTED = '[REDACTED]';

export class Redactor {
  private readonly values = new Set<string>();

  /** Remembers a secret value; empty values and single characters cannot be redacted meaningfully and are ignored. */
  add(value: string | undefined | null): void {
    if (value && value.length >= 2) this.values.add(value);
  }

  addAll(values: Iterable<string>): void {
    for (const v of values) this.add(v);
  }

  get size(): number {
    return this.values.size;
  }

  redact(text: string): string {
    if (this.values.size === 0) return text;
    let out = text;
    // Longest first, so that a secret containing another is replaced whole.
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
      const json = JSON.stringify(v).slice(1, -1);
      if (json !== v && out.includes(json)) out = out.split(json).join(REDACTED);
    }
    return out;
  }
}
