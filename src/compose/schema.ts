/**
 * Validation of each compose file, as written, against the Compose Specification's
 * JSON Schema. Ajv's raw errors (many per problem under `oneOf`) are reduced to one
 * finding per place, with the key path, the file position and a hint.
 */
import { readFileSync } from 'node:fs';
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { finding, type Finding } from '../core/finding.js';
import { suggest } from '../core/suggest.js';
import { locate, type SourceFile } from '../yaml/source.js';

const Ajv = AjvModule as unknown as typeof AjvModule.default;
let validator: ValidateFunction | undefined;

function compile(): ValidateFunction {
  if (validator) return validator;
  const schema = JSON.parse(readFileSync(new URL('../../schema/compose-spec.json', import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, verbose: true });
  validator = ajv.compile(schema);
  return validator;
}

export function validateComposeFile(file: SourceFile, data: unknown): Finding[] {
  const validate = compile();
  if (validate(data)) return [];
  return reduceErrors(validate.errors ?? [], data).map((e) => {
    const where = locate(file, e.path);
    return finding(
      'schema',
      'error',
      e.message,
      { file: where.file, line: where.line, column: where.column, path: where.path },
      e.hint,
    );
  });
}

interface Reduced {
  path: (string | number)[];
  message: string;
  hint: string;
}

function splitPointer(p: string): string[] {
  return p === ''
    ? []
    : p
        .slice(1)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function display(path: (string | number)[]): string {
  return path.length === 0 ? 'the top level' : path.join('/');
}

function reduceErrors(errors: ErrorObject[], data: unknown): Reduced[] {
  // Unknown keys are the clearest signal: report them and drop the noise they cause in other branches.
  const out = new Map<string, Reduced>();
  for (const e of errors) {
    if (e.keyword !== 'additionalProperties') continue;
    const key = String((e.params as { additionalProperty: string }).additionalProperty);
    const parent = splitPointer(e.instancePath);
    const path = [...parent, key];
    const named = invalidName(e, parent, key);
    if (named) {
      out.set(path.join('/'), { path, ...named });
      continue;
    }
    const near = suggest(key, allowedKeys(e));
    out.set(path.join('/'), {
      path,
      message: `unknown key "${key}" in ${display(parent)}${near ? `; did you mean "${near}"?` : ''}`,
      hint: near
        ? `Rename it to "${near}", or prefix it with "x-" for an extension field.`
        : 'Remove the key, or prefix it with "x-" for an extension field; see the Compose specification for the keys allowed here.',
    });
  }
  if (out.size > 0) return [...out.values()];
  // Otherwise keep the deepest failing places: a oneOf at a parent fails because a child did.
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    if (e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  if (byPath.size === 0) for (const e of errors) byPath.set(e.instancePath, [e]);
  const paths = [...byPath.keys()];
  // A place is deepest when no other failing place lies below it (one pass over every path's ancestors).
  const above = new Set<string>();
  for (const p of paths) {
    const parts = p.split('/');
    for (let n = 1; n < parts.length; n++) above.add(parts.slice(0, n).join('/'));
  }
  const deepest = paths.filter((p) => !above.has(p));
  return deepest.map((p) => describe(splitPointer(p), byPath.get(p)!, data));
}

function describe(path: string[], errs: ErrorObject[], data: unknown): Reduced {
  const types = [
    ...new Set(errs.filter((e) => e.keyword === 'type').map((e) => String((e.params as { type: string }).type))),
  ];
  const actual = typeName(valueAt(data, path));
  if (types.length > 0) {
    return {
      path,
      message: `${display(path)} must be ${types.join(' or ')}, not ${actual}`,
      hint: 'Write the value in one of the forms the Compose specification allows here.',
    };
  }
  const e = errs[0]!;
  if (e.keyword === 'required') {
    const missing = String((e.params as { missingProperty: string }).missingProperty);
    return { path, message: `${display(path)} is missing the required key "${missing}"`, hint: `Add "${missing}".` };
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ');
    return { path, message: `${display(path)} must be one of: ${allowed}`, hint: 'Use one of the allowed values.' };
  }
  return {
    path,
    message: `${display(path)} ${e.message ?? 'is not valid'}`,
    hint: 'See the Compose specification for this key.',
  };
}

function valueAt(data: unknown, path: string[]): unknown {
  let v = data;
  for (const seg of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v === 'string' ? 'a string' : typeof v === 'number' ? 'a number' : typeof v}`;
}

/**
 * A key refused under `services`, `volumes`, `networks`, `secrets` or `configs` is a name
 * that breaks the naming rule (the schema matches names with a pattern), not an unknown key.
 */
function invalidName(e: ErrorObject, parent: string[], key: string): { message: string; hint: string } | undefined {
  const patterns = (e.parentSchema as { patternProperties?: Record<string, unknown> } | undefined)?.patternProperties;
  if (!patterns || parent.length !== 1) return undefined;
  const kind = (parent[0] ?? '').replace(/s$/, '');
  const fixed = key.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return {
    message: `invalid ${kind} name "${key}": a ${kind} name may contain only letters, digits, ".", "_" and "-"`,
    hint: `Rename it${fixed ? `, for example to "${fixed}"` : ''} (and every place that names it).`,
  };
}

/** The keys the schema allows where an `additionalProperties` error occurred, for suggestions. */
function allowedKeys(e: ErrorObject): string[] {
  return Object.keys((e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
}
