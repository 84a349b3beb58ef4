/**
 * The last line of defence against printing a secret: every line Ferry writes goes
 * through a Redactor that knows the secret values found while loading (what is a secret
 * is decided in `secret-places.ts`, by where a value is used).
 *
 * A secret that looks like a word (only letters, or only digits: `postgres`, `1234`) is
 * masked where it stands as a whole token, so that a weak password does not hide
 * `/var/lib/postgresql` or port 12345; any other secret is masked wherever it appears,
 * even inside a longer token (`-pS3cr3t!`), since a random string inside a word is still
 * the secret. Values are also masked in their JSON-escaped form, and each line of a
 * multi-line secret (a key in PEM) on its own.
 */

export const REDACTED = '[REDACTED]';

/** Secrets shorter than this cannot be masked meaningfully (every `a` would go). */
const MIN_LENGTH = 2;
/** Lines of a multi-line secret shorter than this are not masked on their own (`-----`, `}`). */
const MIN_LINE = 8;
const WORDLIKE = /^(?:[A-Za-z]+|[0-9]+)$/;

export class Redactor {
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;

  /** Remembers a secret value. */
  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_LENGTH) return;
    const forms = [
      value,
      ...(value.includes('\n') ? value.split('\n').filter((l) => l.trim().length >= MIN_LINE) : []),
    ];
    for (const v of forms)
      for (const form of [v, JSON.stringify(v).slice(1, -1)])
        if (!this.values.has(form)) {
          this.values.add(form);
          this.pattern = undefined;
        }
  }

  addAll(values: Iterable<string>): void {
    for (const v of values) this.add(v);
  }

  /** How many forms of secrets are known. */
  get size(): number {
    return this.values.size;
  }

  redact(text: string): string {
    if (this.values.size === 0) return text;
    this.pattern ??= compile(this.values);
    return text.replace(this.pattern, REDACTED);
  }
}

/** One expression for every secret, longest first, so that a secret containing another is masked whole. */
function compile(values: Set<string>): RegExp {
  const parts = [...values]
    .sort((a, b) => b.length - a.length)
    .map((v) => {
      const escaped = v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return WORDLIKE.test(v) ? `(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])` : escaped;
    });
  return new RegExp(parts.join('|'), 'g');
}
