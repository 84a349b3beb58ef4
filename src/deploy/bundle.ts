/**
 * What a release holds: the stack's compose files, its env files and the files its
 * relative bind mounts, configs and secrets name, at the same paths relative to the
 * project directory as here. Its id is the hash of those files (and of the image ids
 * when images are pushed), so the same inputs make the same release: a second apply
 * finds it already there.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { InputError } from '../core/errors.js';
import { INPUT_LIMITS, readInput } from '../core/files.js';
import { finding } from '../core/finding.js';
import { Secret } from '../core/secret.js';
import type { Service } from '../model/compose.js';
import type { LoadedStack } from '../model/loaded.js';

export interface BundleFile {
  /** Relative to the project directory (and to the release directory on the server). */
  rel: string;
  content: Buffer | Secret;
  /** Its mode on the server. Default: PRIVATE. */
  mode?: number;
}

/**
 * Modes of a release's files. The release directory is 700 (root's alone), so these say
 * only what a container's own user may do with a file mounted into it. Compose files and
 * env files are read by Compose on the host: root's alone. A bind-mounted file keeps the
 * source's execute bits; a secret or config is read-only to every user, as Swarm has
 * them (Compose mounts the file as it is, and a service that is not root, Grafana, a
 * database after it drops root, must read it).
 */
export const PRIVATE = 0o600;
export const MOUNTED = 0o644;
export const MOUNTED_EXECUTABLE = 0o755;
export const SECRET_OR_CONFIG = 0o444;
/** A file's mode on the server. */
export const modeOf = (f: BundleFile): number => f.mode ?? PRIVATE;

export interface Bundle {
  id: string;
  files: BundleFile[];
  /** Compose files, relative, in override order. */
  composeFiles: string[];
  /** The env file Compose interpolates with, relative, when the stack names one. */
  envFile?: string;
  /** Relative bind sources that are directories or missing here: data, kept in `shared/`. */
  dataPaths: string[];
}

const VARIABLE = /(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g;
const ENV_KEY = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/gm;

/** Variable names the compose files interpolate. */
export function referencedVariables(texts: string[]): string[] {
  const out = new Set<string>();
  for (const t of texts) for (const m of t.matchAll(VARIABLE)) out.add(m[1] ?? m[2]!);
  return [...out].sort();
}

/** A value as one dotenv line both Compose flavors read the same way. */
export function envLine(key: string, value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]*$/.test(value)) return `${key}=${value}`;
  if (!value.includes("'") && !value.includes('\n')) return `${key}='${value}'`;
  return `${key}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\$/g, '\\$')}"`;
}

/**
 * The env file the release ships: the values interpolation used here (the env file's,
 * with the process environment over them) for every variable the compose files use and
 * every key of the env file, so that the server's Compose sees what Ferry checked.
 * Undefined when there is neither.
 */
function interpolationEnv(stack: LoadedStack, envPath: string, read: Reader): string | undefined {
  const vars = stack.project!.interpolation ?? {};
  const texts = stack.def.compose.map((f) => read(f, 'compose file')?.toString('utf8') ?? '');
  const keys = new Set(referencedVariables(texts));
  if (existsSync(envPath))
    for (const m of (read(envPath, 'env file')?.toString('utf8') ?? '').matchAll(ENV_KEY)) keys.add(m[1]!);
  const lines = [...keys]
    .sort()
    .filter((k) => vars[k] !== undefined)
    .map((k) => envLine(k, vars[k]!));
  if (lines.length === 0 && !existsSync(envPath)) return undefined;
  return `# Written by Ferry: the values this release was checked with.\n${lines.join('\n')}\n`;
}

const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/**
 * The sources of a service's bind mounts under the project directory `base` that are
 * directories or missing here: data, not part of the release, kept in the stack's `shared/`.
 */
export function dataBinds(svc: Service, base: string): string[] {
  return svc.volumes
    .filter((v) => v.type === 'bind' && v.source?.startsWith(base) && !isFile(v.source))
    .map((v) => v.source!);
}

/** Reads a file the release ships; undefined (and a finding) when it cannot be read. */
type Reader = (abs: string, what: string) => Buffer | undefined;

/**
 * A compose file Ferry wrote for one server of a stack spread over servers (see
 * split.ts): shipped instead of the stack's own files, with only the files its services
 * name. It is interpolated already, so the env file is not shipped; it holds the values
 * of its services' variables, so it is written like one (mode 600, never shown).
 */
export interface GeneratedCompose {
  rel: string;
  text: string;
  services: string[];
}

/** `imageIds`: image name to id, for images sent from this machine. */
export function makeBundle(
  stack: LoadedStack,
  imageIds: Record<string, string> = {},
  generated?: GeneratedCompose,
): Bundle {
  const project = stack.project;
  if (!project) throw new Error(`makeBundle: stack ${stack.def.name} has no loaded project`);
  const base = project.workingDir;
  const problems: ReturnType<typeof finding>[] = [];
  const files = new Map<string, BundleFile>();
  const dataPaths = new Set<string>();

  const relOf = (abs: string, what: string): string | undefined => {
    const rel = relative(base, abs);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      problems.push(
        finding(
          'outside-project',
          'error',
          `stack ${stack.def.name}: ${what} ${abs} is outside the project directory ${base}`,
          { path: `stacks/${stack.def.name}` },
          'Ferry sends the project directory to the server as it is: move the file into it (or beside the first compose file).',
          { stack: stack.def.name },
        ),
      );
      return undefined;
    }
    return rel;
  };
  const read: Reader = (abs, what) => {
    const r = readInput(abs, relative(base, abs) || abs, INPUT_LIMITS.release);
    if (!r.problem) return r.bytes;
    problems.push(
      finding(
        r.problem.code,
        'error',
        `stack ${stack.def.name}: ${what}: ${r.problem.message}`,
        { file: abs },
        r.problem.hint,
        {
          stack: stack.def.name,
        },
      ),
    );
    return undefined;
  };
  const add = (abs: string, what: string, secret: boolean, mode = PRIVATE) => {
    const rel = relOf(abs, what);
    if (rel === undefined) return;
    const had = files.get(rel);
    // A file both read by Compose and mounted (an env file a service also mounts) is mounted's.
    if (had) {
      if (mode !== PRIVATE) had.mode = mode;
      return;
    }
    const raw = read(abs, what);
    if (raw) files.set(rel, { rel, content: secret ? new Secret(raw.toString('utf8')) : raw, mode });
  };
  const mounted = (abs: string): number => ((statSync(abs).mode & 0o111) !== 0 ? MOUNTED_EXECUTABLE : MOUNTED);

  let composeFiles: string[];
  let envFile: string | undefined;
  if (generated) {
    composeFiles = [generated.rel];
    files.set(generated.rel, { rel: generated.rel, content: new Secret(generated.text) });
  } else {
    composeFiles = stack.def.compose.map((f) => relOf(f, 'compose file') ?? f);
    for (const f of stack.def.compose) add(f, 'compose file', false);
    const envPath = stack.def.envFile ?? resolve(base, '.env');
    envFile = stack.def.envFile ? relOf(stack.def.envFile, 'env file') : undefined;
    const envText = interpolationEnv(stack, envPath, read);
    if (envText !== undefined) files.set(envFile ?? '.env', { rel: envFile ?? '.env', content: new Secret(envText) });
  }
  const shipped = generated ? project.services.filter((s) => generated.services.includes(s.name)) : project.services;
  const named = new Set(shipped.flatMap((s) => [...s.secrets, ...s.configs].map((r) => r.source)));
  for (const svc of shipped) {
    for (const e of svc.envFiles) if (existsSync(e.path)) add(e.path, `env_file of service ${svc.name}`, true);
    for (const v of svc.volumes)
      if (v.type === 'bind' && v.source?.startsWith(base) && isFile(v.source))
        add(v.source, `bind mount of service ${svc.name}`, false, mounted(v.source));
    for (const src of dataBinds(svc, base)) {
      const rel = relOf(src, 'bind mount');
      if (rel !== undefined && rel !== '') dataPaths.add(rel);
    }
  }
  for (const [kind, map] of [
    ['secret', project.secrets],
    ['config', project.configs],
  ] as const) {
    for (const [key, r] of Object.entries(map)) {
      if (generated && !named.has(key)) continue;
      if (r.file && existsSync(r.file) && statSync(r.file).isFile())
        add(r.file, `${kind} ${r.name}`, kind === 'secret', SECRET_OR_CONFIG);
    }
  }
  if (problems.length > 0) throw new InputError(problems);

  const sorted = [...files.values()].sort((a, b) => a.rel.localeCompare(b.rel));
  const h = createHash('sha256');
  // A mode other than PRIVATE is part of the release (releases made before modes were kept stay the same).
  for (const f of sorted)
    h.update(`${f.rel}${modeOf(f) === PRIVATE ? '' : ` ${modeOf(f).toString(8)}`}\0`)
      .update(f.content instanceof Secret ? f.content.reveal() : f.content)
      .update('\0');
  for (const [img, id] of Object.entries(imageIds).sort()) h.update(`image ${img} ${id}\0`);
  for (const d of [...dataPaths].sort()) h.update(`data ${d}\0`);
  const bundle: Bundle = {
    id: h.digest('hex').slice(0, 12),
    files: sorted,
    composeFiles,
    dataPaths: [...dataPaths].sort(),
  };
  if (envFile !== undefined) bundle.envFile = envFile;
  return bundle;
}
