/**
 * The variables a Compose project interpolates with: the process environment over the
 * project's `.env` (or the env files named explicitly), as `docker compose` does.
 * The values that are secrets (by their names or forms) are returned for redaction; the
 * others become secrets where the compose files use them in a secret's place.
 */
import { join } from 'node:path';
import { INPUT_LIMITS, readInput } from '../core/files.js';
import { finding, type Finding } from '../core/finding.js';
import { secretsIn } from '../core/secret-places.js';
import { parseDotenv, type DotenvResult } from './dotenv.js';

export type Env = Record<string, string | undefined>;

export interface ProjectEnv {
  env: Record<string, string>;
  /** Values of the env files that are secrets by their names or forms (`core/secret-places.ts`): never printed. */
  secrets: string[];
  findings: Finding[];
}

export interface EnvFileRead {
  values: Record<string, string>;
  findings: Finding[];
}

/**
 * Reads one env file. A missing optional file is silently empty. Inside it, `${VAR}` is
 * looked up as compose-go does: `lookup` (the environment) first, then earlier lines of
 * the same file, then `earlier` (files read before this one).
 */
export function readEnvFile(
  absPath: string,
  display: string,
  lookup: (name: string) => string | undefined,
  earlier: (name: string) => string | undefined,
  required: boolean,
  where: Finding['where'] = { file: display },
): EnvFileRead {
  const read = readInput(absPath, display, INPUT_LIMITS.env);
  if (read.problem) {
    const p = read.problem;
    if (p.code === 'missing-file' && !required) return { values: {}, findings: [] };
    const hint =
      p.code === 'missing-file'
        ? 'Create the file, fix the path, or mark it optional with `required: false` (long syntax of env_file).'
        : p.hint;
    return { values: {}, findings: [finding(p.code, 'error', `env file ${display}: ${p.reason}`, where, hint)] };
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(read.bytes);
  } catch {
    return {
      values: {},
      findings: [
        finding(
          'yaml-syntax',
          'error',
          `env file ${display} is not valid UTF-8 text`,
          where,
          'Save the file as UTF-8.',
        ),
      ],
    };
  }
  const parsed = parseDotenv(text, lookup, earlier);
  return { values: parsed.values, findings: dotenvFindings(parsed, display) };
}

function dotenvFindings(parsed: DotenvResult, display: string): Finding[] {
  const at = (line: number) => ({ file: display, line });
  return [
    ...parsed.problems.map((p) =>
      finding(
        'yaml-syntax',
        'error',
        `env file ${display}: ${p.message}`,
        at(p.line),
        'Write each line as KEY=VALUE; quote values that contain spaces or #.',
      ),
    ),
    ...parsed.forward.map((f) =>
      finding(
        'env-forward-reference',
        'error',
        f.variable === f.key
          ? `env file ${display}: ${f.key} refers to itself, and is set nowhere before; Compose gives it an empty value`
          : `env file ${display}: ${f.key} refers to ${f.variable}, which is set only further down (line ${f.setAt}); Compose reads the file from the top and gives ${f.key} an empty value there`,
        at(f.line),
        `Move ${f.variable}= above the line that uses it (variables that refer to each other cannot both be set this way).`,
      ),
    ),
    ...parsed.unset.map((u) =>
      finding(
        'unset-variable',
        'warning',
        `env file ${display}: variable ${u.variable} is not set; Compose substitutes an empty string`,
        at(u.line),
        `Set ${u.variable} above this line or in the environment, or give a default with \${${u.variable}:-value}.`,
      ),
    ),
  ];
}

const NAMED_MISSING =
  'Create the file or fix the path: an env file named explicitly (--env-file, `env_file:` of a stack in ferry.yml or of an include) must exist.';

/**
 * `envFiles` replaces the default `.env` in `workingDir` (like `docker compose --env-file`);
 * a missing default `.env` is fine, a missing named one is an error.
 */
export function projectEnvironment(
  workingDir: string,
  processEnv: Env,
  envFiles: { path: string; display: string }[] | undefined,
  where?: Finding['where'],
  show: (abs: string) => string = () => '.env',
): ProjectEnv {
  const dotenv = join(workingDir, '.env');
  const files = envFiles ?? [{ path: dotenv, display: show(dotenv) }];
  const required = envFiles !== undefined;
  const fromFiles: Record<string, string> = {};
  const findings: Finding[] = [];
  for (const f of files) {
    const r = readEnvFile(
      f.path,
      f.display,
      (k) => processEnv[k],
      (k) => fromFiles[k],
      required,
      where ?? { file: f.display },
    );
    Object.assign(fromFiles, r.values);
    // A file named explicitly has no `required: false` to fall back on.
    findings.push(...r.findings.map((x) => (x.code === 'missing-file' ? { ...x, hint: NAMED_MISSING } : x)));
  }
  const env: Record<string, string> = { ...fromFiles };
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) env[k] = v;
  return {
    env,
    secrets: secretsIn(fromFiles),
    findings,
  };
}
