/**
 * Loads a Compose project as `docker compose -f a.yml -f b.yml` would: each file read,
 * validated and interpolated; `extends` applied per file; files merged in order;
 * `include`d projects added; profiles applied; env files read; services normalized.
 * Never throws for bad input: a project that cannot be built comes back as findings.
 */
import { basename, dirname, relative, resolve } from 'node:path';
import { hasErrors, type Finding } from '../core/finding.js';
import type { ComposeProject, Service } from '../model/compose.js';
import { secretsIn } from '../core/secret-places.js';
import { locate, pathString, type KeyPath } from '../yaml/source.js';
import type { ComposeFile, Dict } from './compose-file.js';
import type { Contribution } from './extends.js';
import { normalizeService } from './normalize/service.js';
import { projectEnvironment, readEnvFile, type Env, type EnvFileRead } from './project-env.js';
import { checkedProjectName, type NameSource } from './project-name.js';
import { loadRaw, type RawProject } from './raw-project.js';
import { environmentSecrets, resourceFileFindings, resources } from './resources.js';

// src/deploy/placement.ts reads a project's raw content through this module.
export { loadRaw } from './raw-project.js';

export interface LoadOptions {
  /** Compose files, in override order (absolute, or relative to `cwd`). */
  files: string[];
  /** Directory paths are shown relative to. */
  cwd: string;
  /** The process environment (default: none, so that results are reproducible). */
  env?: Env;
  /** Env files replacing the project's default `.env`. */
  envFiles?: string[];
  /** Active profiles; default: `COMPOSE_PROFILES`. */
  profiles?: string[];
  /** Project name; default: `COMPOSE_PROJECT_NAME`, the top-level `name`, or the directory. */
  projectName?: string;
}

export interface LoadResult {
  project?: ComposeProject;
  findings: Finding[];
  /** Values read from env files and secret-like keys: to be redacted from all output. */
  secrets: string[];
}

export function loadComposeProject(opts: LoadOptions): LoadResult {
  const cwd = opts.cwd;
  const files = opts.files.map((f) => resolve(cwd, f));
  const workingDir = dirname(files[0]!);
  const show = (p: string): string => relative(cwd, p) || p;
  const penv = projectEnvironment(
    workingDir,
    opts.env ?? {},
    opts.envFiles?.map((f) => ({ path: resolve(cwd, f), display: show(resolve(cwd, f)) })),
    undefined,
    show,
  );
  const findings: Finding[] = [...penv.findings];
  const secrets = [...penv.secrets];
  // An env file Compose refuses stops the project; a variable it reads as empty is an error the checks report.
  if (hasErrors(findings.filter((f) => f.code !== 'env-forward-reference'))) return { findings, secrets };

  const raw = loadRaw(files, penv.env, show);
  findings.push(...raw.findings);
  secrets.push(...raw.secrets);
  if (hasErrors(raw.findings) || raw.files.length === 0) return { findings, secrets };

  const data = raw.data;
  const profiles = opts.profiles ?? splitList(penv.env.COMPOSE_PROFILES);
  const locateIn = makeLocator(raw);
  const named = checkedProjectName(nameSource(opts, penv.env, data, workingDir, locateIn));
  if (named.finding) findings.push(named.finding);
  const services: Service[] = [];
  const disabled: string[] = [];
  const envFiles: EnvFileContext = { workingDir, env: penv.env, show, locateIn, cache: new Map() };
  for (const [svcName, svcRaw] of Object.entries((data.services ?? {}) as Dict)) {
    const svc = (svcRaw ?? {}) as Dict;
    if (!profileEnabled(svc.profiles, profiles)) {
      disabled.push(svcName);
      continue;
    }
    const envValues = readServiceEnvFiles(svcName, svc, envFiles);
    findings.push(...envValues.findings);
    secrets.push(...secretsIn(envValues.values));
    const n = normalizeService(svcName, svc, { workingDir, envFileValues: envValues.values });
    findings.push(
      ...n.findings.map((f) =>
        blameUnset(
          { ...f, where: { ...locateIn(f.where.path?.split('/') ?? ['services', svcName]), path: f.where.path } },
          raw.files,
        ),
      ),
    );
    services.push(n.service);
  }
  const kinds = { secrets: resources(data.secrets, workingDir), configs: resources(data.configs, workingDir) };
  secrets.push(...environmentSecrets(kinds.secrets, penv.env));
  findings.push(...resourceFileFindings(kinds, services, locateIn, show));
  // A value Compose would refuse stops the project, as it stops `docker compose`.
  if (hasErrors(findings.filter((f) => STOPS.has(f.code)))) return { findings, secrets };
  const project: ComposeProject = {
    name: named.name,
    workingDir,
    files: raw.files.map((f) => f.source.display),
    services,
    disabledServices: disabled,
    activeProfiles: profiles,
    volumes: resources(data.volumes, workingDir),
    networks: resources(data.networks, workingDir),
    ...kinds,
    interpolation: penv.env,
    locate: locateIn,
  };
  return { project, findings, secrets };
}

/** Findings that stop the project from being built, as they stop `docker compose`. */
const STOPS = new Set(['schema', 'missing-variable', 'invalid-project-name']);

/** Where the project's name comes from, in Compose's order. */
function nameSource(
  opts: LoadOptions,
  env: Record<string, string>,
  data: Dict,
  workingDir: string,
  locateIn: (p: KeyPath) => Finding['where'],
): NameSource {
  if (opts.projectName !== undefined)
    return { name: opts.projectName, from: 'project: in ferry.yml', where: {}, explicit: true };
  if (env.COMPOSE_PROJECT_NAME !== undefined)
    return { name: env.COMPOSE_PROJECT_NAME, from: 'COMPOSE_PROJECT_NAME', where: {}, explicit: true };
  if (typeof data.name === 'string')
    return { name: data.name, from: 'name: in the compose file', where: locateIn(['name']), explicit: true };
  const dir = basename(workingDir);
  return { name: dir, from: `the name of the directory ${dir}`, where: { path: workingDir }, explicit: false };
}

/**
 * A value that is malformed only because a variable in it was unset (`retries: $RETRIES`
 * became `""`) is reported as that missing variable, where it is used.
 */
function blameUnset(f: Finding, files: ComposeFile[]): Finding {
  const at = f.where.path;
  if (f.code !== 'schema' || !at) return f;
  const vars = new Set<string>();
  for (const file of files)
    for (const u of file.unset)
      if (pathString(u.path) === at || pathString(u.path).startsWith(`${at}/`)) vars.add(u.variable);
  if (vars.size === 0) return f;
  const names = [...vars].sort();
  const what = names.length === 1 ? `variable ${names[0]} is not set` : `variables ${names.join(', ')} are not set`;
  return {
    ...f,
    code: 'missing-variable',
    message: `${what}, which leaves ${at} invalid: ${f.message}`,
    hint: `Set ${names.join(' and ')} in the environment or the project's .env, or give ${names.length === 1 ? 'it' : 'them'} a default with \${NAME:-value}.`,
  };
}

function makeLocator(raw: RawProject) {
  return (path: KeyPath): Finding['where'] => {
    const shown = pathString(path);
    const candidates: Contribution[] =
      path[0] === 'services' && typeof path[1] === 'string' && raw.contributions.has(path[1])
        ? raw.contributions.get(path[1])!
        : [...raw.files].reverse().map((f) => ({ source: f.source, path: [] }));
    let fallback: Finding['where'] | undefined;
    for (const c of candidates) {
      const rest = path[0] === 'services' && c.path.length > 0 ? path.slice(2) : path;
      const w = locate(c.source, [...c.path, ...rest]);
      const where = { file: w.file, line: w.line, column: w.column, path: shown };
      if (w.exact) return where;
      fallback ??= where;
    }
    return fallback ?? { path: shown };
  };
}

/** What readServiceEnvFiles needs besides the service: the same for every service of the project. */
interface EnvFileContext {
  workingDir: string;
  env: Record<string, string>;
  show: (p: string) => string;
  locateIn: (p: KeyPath) => Finding['where'];
  /** A service's first env file read cleanly, by path: many services share one, read it once. */
  cache: Map<string, EnvFileRead>;
}

function readServiceEnvFiles(name: string, svc: Dict, { workingDir, env, show, locateIn, cache }: EnvFileContext) {
  const values: Record<string, string> = {};
  const findings: Finding[] = [];
  const list = svc.env_file === undefined ? [] : Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
  list.forEach((entry, i) => {
    const path = typeof entry === 'string' ? entry : String((entry as Dict).path);
    const required = typeof entry === 'object' && entry !== null ? (entry as Dict).required !== false : true;
    const abs = resolve(workingDir, path);
    const where = locateIn(['services', name, 'env_file', ...(Array.isArray(svc.env_file) ? [i] : [])]);
    // Only the first file can be shared: later ones read the values of those before them.
    const r =
      (i === 0 ? cache.get(abs) : undefined) ??
      readEnvFile(
        abs,
        show(abs),
        (k) => env[k],
        (k) => values[k],
        required,
        where,
      );
    if (i === 0 && r.findings.length === 0) cache.set(abs, r);
    Object.assign(values, r.values);
    findings.push(...r.findings.map((f) => ({ ...f, service: name })));
  });
  return { values, findings };
}

function profileEnabled(declared: unknown, active: string[]): boolean {
  if (!Array.isArray(declared) || declared.length === 0) return true;
  if (active.includes('*')) return true;
  return declared.some((p) => active.includes(String(p)));
}

function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
