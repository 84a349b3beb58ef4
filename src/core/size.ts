/**
 * Sizes of memory and disk, as people write them: `512M`, `512MiB`, `16GiB`, `2g`,
 * `1.5GB`, `160G`, or a plain number of bytes. Every unit is a power of 1024, as Docker
 * reads memory limits: `K`, `KB`, `KiB` and `k` all mean 1024 bytes.
 */

const UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * What `parseSize` accepts in a string, as a JSON Schema / ECMAScript pattern without
 * flags: whole bytes (`1024`, `1024B`), or a number (decimals allowed) with a unit
 * letter K, M, G, T or P, optionally followed by `B` or `iB`, in any case, with at most
 * one space before the unit.
 */
export const SIZE_PATTERN = '^(?:[0-9]+ ?[bB]?|(?:[0-9]+(?:\\.[0-9]+)?|\\.[0-9]+) ?[kKmMgGtTpP](?:[iI]?[bB])?)$';

const SIZE_RE = new RegExp(SIZE_PATTERN);

/**
 * Bytes in `input`, or undefined when it is not a size. Numbers are bytes and must be
 * whole and not negative; fractions of a unit are rounded to the nearest byte.
 */
export function parseSize(input: string | number): number | undefined {
  if (typeof input === 'number') {
    return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  }
  if (typeof input !== 'string') return undefined;
  const s = input.trim();
  if (!SIZE_RE.test(s)) return undefined;
  const m = /^([0-9.]+) ?([a-zA-Z]?)/.exec(s)!;
  const unit = UNITS[(m[2] ?? '').toLowerCase() || 'b']!;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const NAMES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * A size for people: the largest binary unit that keeps the number at 1 or more, with
 * three significant digits and no trailing zeros: `512 B`, `1.5 GiB`, `15.6 GiB`, `160 GiB`.
 */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const sign = bytes < 0 ? '-' : '';
  let v = Math.abs(bytes);
  let i = 0;
  while (v >= 1024 && i < NAMES.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${sign}${Math.round(v)} B`;
  let text = v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
  if (Number(text) >= 1024 && i < NAMES.length - 1) {
    i++;
    text = (Number(text) / 1024).toFixed(2);
  }
  return `${sign}${String(Number(text))} ${NAMES[i]}`;
}
