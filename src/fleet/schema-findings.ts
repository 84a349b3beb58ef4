/**
 * Schema issues (zod's) turned into findings that say what is wrong in the words of the
 * fleet file: the key path, what was found, and a hint from the schema's help text.
 */
import type { z } from 'zod';
import { finding, type Finding } from '../core/finding.js';
import { suggest } from '../core/suggest.js';
import { pathString, type KeyPath, type SourceFile } from '../yaml/source.js';
import { at, describeValue, isRecord, valueAt } from './plain.js';
import { isReceiverSecretPath } from './monitoring-schema.js';
import { isRestSecretPath } from './backup-schema.js';
import { descriptionAt, knownKeys } from './schema-walk.js';
import { NAME_PATTERN, NAME_RULE } from './schema.js';

type Issue = z.core.$ZodIssue;

/** The findings of one schema issue (several for several unknown keys). */
export function issueFindings(issue: Issue, input: Record<string, unknown>, file: SourceFile): Finding[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') return unknownKeyFindings(issue.keys, path, input, file);
  if (issue.code === 'invalid_key') return [invalidNameFinding(path, file)];
  if (issue.code === 'invalid_union') {
    // When the value has the shape of exactly one option (a list for `compose`), report
    // what is wrong inside it rather than "must be a path or a list".
    const near = issue.errors.filter(
      (branch) => !branch.every((i) => i.code === 'invalid_type' && i.path.length === 0),
    );
    if (near.length === 1)
      return near[0]!.flatMap((i) => issueFindings({ ...i, path: [...issue.path, ...i.path] } as Issue, input, file));
  }
  return [valueFinding(issue, path, input, file)];
}

function unknownKeyFindings(
  keys: string[],
  path: KeyPath,
  input: Record<string, unknown>,
  file: SourceFile,
): Finding[] {
  const here = inPlace(path);
  const known = knownKeys(path);
  const parent = valueAt(input, path);
  const present = new Set(isRecord(parent) ? Object.keys(parent) : []);
  const free = known.filter((k) => !present.has(k));
  return keys.map((key) => {
    const guess = suggest(key, free);
    const allowed = `Keys allowed ${here}: ${known.join(', ')}.`;
    return finding(
      'schema',
      'error',
      `unknown key "${key}" ${here}${guess ? `; did you mean "${guess}"?` : ''}`,
      at(file, [...path, key]),
      guess ? `Rename "${key}" to "${guess}". ${allowed}` : `Remove it. ${allowed}`,
      subject(path),
    );
  });
}

/** A server or stack name that breaks the naming rule, with a fixed name to suggest when there is one. */
function invalidNameFinding(path: KeyPath, file: SourceFile): Finding {
  const key = String(path[path.length - 1]);
  const parentPath = path.slice(0, -1);
  const kind = parentPath[0] === 'servers' ? 'server' : 'stack';
  const fixed = key
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '');
  const valid = new RegExp(NAME_PATTERN).test(fixed);
  return finding(
    'schema',
    'error',
    `invalid ${kind} name "${key}" in ${pathString(parentPath)}: names must be ${NAME_RULE}`,
    at(file, path),
    `${valid ? `Rename it, for example to "${fixed}".` : 'Rename it.'} ${kind === 'server' ? 'Server' : 'Stack'} names follow the rule of Compose project names.`,
    subject(path),
  );
}

/** A key that is missing, or a value of the wrong type or form. */
function valueFinding(issue: Issue, path: KeyPath, input: Record<string, unknown>, file: SourceFile): Finding {
  const value = valueAt(input, path);
  const hint = descriptionAt(path) ?? 'docs/fleet-file.md describes every key of ferry.yml.';
  if (value === undefined && issue.code === 'invalid_type' && path.length > 0) {
    const parentPath = path.slice(0, -1);
    return finding(
      'schema',
      'error',
      `missing required key "${String(path[path.length - 1])}" ${inPlace(parentPath)}`,
      at(file, parentPath),
      hint,
      subject(path),
    );
  }
  const predicate = /^must /.test(issue.message) ? issue.message : `is not valid: ${issue.message}`;
  return finding(
    'schema',
    'error',
    `${path.length > 0 ? pathString(path) : 'the fleet file'} ${predicate}, got ${isReceiverSecretPath(path) || isRestSecretPath(path) ? 'a value not shown here (a secret)' : describeValue(value)}`,
    at(file, path),
    hint,
    subject(path),
  );
}

/** `in servers/app`, or `at the top level`. */
function inPlace(path: KeyPath): string {
  return path.length > 0 ? `in ${pathString(path)}` : 'at the top level';
}

/** The server or stack a key path is about. */
function subject(path: KeyPath): Pick<Finding, 'server' | 'stack'> {
  const name = path[1];
  if (typeof name !== 'string') return {};
  if (path[0] === 'servers') return { server: name };
  if (path[0] === 'stacks') return { stack: name };
  return {};
}
