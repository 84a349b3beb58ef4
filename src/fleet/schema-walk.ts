/**
 * Walking the zod schema of the fleet file along a key path: the keys allowed somewhere,
 * and the help text of a key (for the hints of schema findings).
 */
import { z } from 'zod';
import { hasOwn } from './plain.js';
import { FleetFileSchema } from './schema.js';

type Schema = z.ZodType;

function unwrapOnce(s: Schema): Schema | undefined {
  if (s instanceof z.ZodOptional || s instanceof z.ZodDefault) return s.unwrap() as Schema;
  return undefined;
}

function unwrap(s: Schema): Schema {
  let cur = s;
  for (let next = unwrapOnce(cur); next; next = unwrapOnce(cur)) cur = next;
  return cur;
}

function step(s: Schema, seg: string | number): Schema | undefined {
  const u = unwrap(s);
  if (u instanceof z.ZodObject) return hasOwn(u.shape, String(seg)) ? (u.shape[String(seg)] as Schema) : undefined;
  if (u instanceof z.ZodRecord) return u.valueType as Schema;
  if (u instanceof z.ZodArray) return typeof seg === 'number' ? (u.element as Schema) : undefined;
  if (u instanceof z.ZodUnion) {
    for (const option of u.options as readonly Schema[]) {
      const hit = step(option, seg);
      if (hit) return hit;
    }
  }
  return undefined;
}

function descriptionOf(s: Schema): string | undefined {
  for (let cur: Schema | undefined = s; cur; cur = unwrapOnce(cur)) if (cur.description) return cur.description;
  return undefined;
}

/** Help text of the deepest key on `path` that has one. */
export function descriptionAt(path: readonly (string | number)[]): string | undefined {
  let s: Schema | undefined = FleetFileSchema;
  let text: string | undefined;
  for (const seg of path) {
    s = step(s, seg);
    if (!s) break;
    text = descriptionOf(s) ?? text;
  }
  return text;
}

/** The keys the schema allows in the mapping at `path` (none when it is not a mapping of known keys). */
export function knownKeys(path: readonly (string | number)[]): string[] {
  let s: Schema | undefined = FleetFileSchema;
  for (const seg of path) {
    s = s && step(s, seg);
  }
  const u = s && unwrap(s);
  return u instanceof z.ZodObject ? Object.keys(u.shape) : [];
}
