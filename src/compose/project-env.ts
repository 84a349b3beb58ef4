/**
 * The variables a Compose project interpolates with: the process environment over the
 * project's `.env` (or the env files named explicitly), as `docker compose` does.
 * Every value read from an env file is a potential secret and is returned for redaction.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { finding, type Finding } from '../core/finding.js';
import { isSecretEnvValue } from '../core/secret-names.js';
import { parseDotenv } from './dotenv.js';

export type Env = Record<string, string | undefined>;

export interface ProjectEnv {
  env: Record<string, string>;
  /** Values read from env files that may be secrets: never to be printed. */
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
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(absPath));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return { values: {}, findings: [] };
    const why =
      code === 'ENOENT'
        ? 'not found'
        : code === 'EACCES'
          ? 'permission denied'
          : code === undefined
            ? 'not valid UTF-8'
            : code;
    return {
      values: {},
      findings: [
        finding(
          'missing-file',
          'error',
          `env file ${display}: ${why}`,
          where,
          code === 'ENOENT'
            ? 'Create the file, fix the path, or mark it optional with `required: false` (long syntax of env_file).'
            : 'Make the file readable and UTF-8.',
        ),
      ],
    };
  }
  const parsed = parseDotenv(text, lookup, earlier);
  return {
    values: parsed.values,
    findings: parsed.problems.map((p) =>
      finding(
        'yaml-syntax',
        'error',
        `env file ${display}: ${p.message}`,
        { file: display, line: p.line },
        'Write each line as KEY=VALUE; quote values that contain spaces or #.',
      ),
    ),
  };
}

/**
 * `envFiles` replaces the default `.env` in `workingDir` (like `docker compose --env-file`);
 * a missing default `.env` is fine, a missing named one is an error.
 */
export function projectEnvironment(
  workingDir: string,
  processEnv: Env,
  envFiles: { path: string; display: string }[] | undefined,
  where?: Finding['where'],
): ProjectEnv {
  const files = envFiles ?? [{ path: join(workingDir, '.env'), display: '.env' }];
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
    findings.push(...r.findings);
  }
  const env: Record<string, string> = { ...fromFiles };
  for (const [k, v] of Object.entries(processEnv)) if (v !== undefined) env[k] = v;
  return {
    env,
    secrets: Object.entries(fromFiles)
      .filter(([k, v]) => isSecretEnvValue(k, v))
      .map(([, v]) => v),
    findings,
  };
}
