/**
 * The images a stack builds on its server (`deploy.build: server`): one per distinct build
 * (context, Dockerfile, target and arguments), named by the hash of what it is built from,
 * so that an unchanged context is not sent or built again, a changed one makes a new
 * release, and a rolled-back release runs the image it ran. The context is what
 * `.dockerignore` leaves, read here; the tar of it is streamed to `docker build -`.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import dockerignoreModule from '@balena/dockerignore';
import { create } from 'tar';
import { InputError } from '../core/errors.js';
import { finding } from '../core/finding.js';
import type { Service } from '../model/compose.js';
import type { LoadedStack } from '../model/loaded.js';

export interface BuildPlan {
  /** `PROJECT-build:HASH`: the image every service of this build runs. */
  tag: string;
  hash: string;
  /** The services that run it. */
  services: string[];
  /** The context directory on this machine. */
  context: string;
  /** The Dockerfile, relative to the context (posix). */
  dockerfile: string;
  target?: string;
  /** `build.args` with a value: secrets may be among them, never on a command line. */
  args: Record<string, string>;
  /** The files of the context sent (posix, relative), sorted. */
  files: string[];
  /** Their size in bytes. */
  bytes: number;
}

/** The context's files as Docker sends them: `.dockerignore` (or `DOCKERFILE.dockerignore`) applied, the Dockerfile always. */
export function contextFiles(context: string, dockerfile: string): string[] {
  const own = join(context, `${dockerfile}.dockerignore`);
  const rules = existsSync(own) ? own : join(context, '.dockerignore');
  const lines = existsSync(rules) ? readFileSync(rules, 'utf8').split(/\r?\n/) : [];
  // A CommonJS module: its function is both the module and its `default`, as TypeScript sees it.
  const ig = dockerignoreModule.default().add(lines);
  // Without exceptions (`!PATTERN`), nothing inside an ignored directory comes back: not walked (node_modules).
  const exceptions = lines.some((l) => l.trim().startsWith('!'));
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const abs = join(dir, e.name);
      const rel = relative(context, abs).split(sep).join(posix.sep);
      if (e.isDirectory()) {
        if (exceptions || !ig.ignores(rel)) walk(abs);
      } else if (!ig.ignores(rel)) out.push(rel);
    }
  };
  walk(context);
  for (const always of [dockerfile, posix.basename(rules)])
    if (!out.includes(always) && existsSync(join(context, always))) out.push(always);
  return out.sort();
}

/** The hash of a build: its Dockerfile, target, arguments and every file (name, executable bit, content). */
function buildHash(b: Omit<BuildPlan, 'tag' | 'hash' | 'services' | 'bytes'>): { hash: string; bytes: number } {
  const h = createHash('sha256');
  h.update(`dockerfile ${b.dockerfile}\0target ${b.target ?? ''}\0`);
  for (const [k, v] of Object.entries(b.args).sort(([a], [c]) => a.localeCompare(c))) h.update(`arg ${k}=${v}\0`);
  let bytes = 0;
  for (const f of b.files) {
    const abs = join(b.context, f);
    const st = lstatSync(abs);
    const content = st.isSymbolicLink() ? Buffer.from(`-> ${readlinkSync(abs)}`) : readFileSync(abs);
    bytes += content.length;
    h.update(`${f} ${st.mode & 0o111 ? 'x' : '-'}\0`)
      .update(content)
      .update('\0');
  }
  return { hash: h.digest('hex').slice(0, 12), bytes };
}

/** The builds of the services `here` that have `build:` (and run), each once. */
export function buildsOf(stack: LoadedStack, here: Service[]): BuildPlan[] {
  const project = stack.project!;
  const problems: ReturnType<typeof finding>[] = [];
  const byTag = new Map<string, BuildPlan>();
  for (const s of here) {
    if (!s.build || s.replicas === 0) continue;
    const where = { path: `stacks/${stack.def.name}` };
    if (/^[a-z]+:\/\//.test(s.build.context) || s.build.context.startsWith('git@')) {
      problems.push(
        finding(
          'build-context-unsupported',
          'error',
          `stack ${stack.def.name}: service ${s.name} builds from ${s.build.context}, a remote context`,
          where,
          'Give a directory of the project as its context, or build the image yourself and set `deploy.build: local`.',
          { stack: stack.def.name, service: s.name },
        ),
      );
      continue;
    }
    if (s.build.unsupported) {
      problems.push(
        finding(
          'build-option-unsupported',
          'error',
          `stack ${stack.def.name}: service ${s.name} builds with ${s.build.unsupported.map((k) => `build.${k}`).join(', ')}, which a build on the server does not pass on (it runs docker build without BuildKit's buildx)`,
          where,
          s.build.unsupported.some((k) => k === 'secrets' || k === 'ssh')
            ? 'Build the image here with BuildKit (docker compose build) and set `deploy.build: local`; or pass what the build needs as a build argument (never on a command line, but recorded in the image history).'
            : 'Take the key out of build:, or build the image here (docker compose build) and set `deploy.build: local`.',
          { stack: stack.def.name, service: s.name },
        ),
      );
      continue;
    }
    const context = resolve(project.workingDir, s.build.context);
    const dockerfile = posix.normalize((s.build.dockerfile ?? 'Dockerfile').split(sep).join(posix.sep));
    if (!existsSync(context) || !lstatSync(context).isDirectory() || !existsSync(join(context, dockerfile))) {
      problems.push(
        finding(
          'build-context-missing',
          'error',
          `stack ${stack.def.name}: service ${s.name} builds from ${context}${existsSync(context) ? `, which has no ${dockerfile}` : ', which does not exist'}`,
          where,
          'Point `build.context` (and `build.dockerfile`, relative to it) at the directory the image is built from.',
          { stack: stack.def.name, service: s.name },
        ),
      );
      continue;
    }
    const base = {
      context,
      dockerfile,
      ...(s.build.target ? { target: s.build.target } : {}),
      args: s.build.args ?? {},
      files: contextFiles(context, dockerfile),
    };
    const { hash, bytes } = buildHash(base);
    const tag = `${project.name}-build:${hash}`;
    const had = byTag.get(tag);
    if (had) had.services.push(s.name);
    else byTag.set(tag, { ...base, tag, hash, services: [s.name], bytes });
  }
  if (problems.length > 0) throw new InputError(problems);
  return [...byTag.values()];
}

/**
 * With `deploy.build: local`, every service with `build:` names the image built here
 * (`image:`), which reaches the server like any other; without a name there is nothing to send.
 */
export function refuseUnnamedLocalBuilds(stack: LoadedStack, here: Service[]): void {
  const unnamed = here.filter((s) => s.build && !s.image && s.replicas > 0);
  if (unnamed.length === 0) return;
  throw new InputError(
    unnamed.map((s) =>
      finding(
        'build-image-unnamed',
        'error',
        `stack ${stack.def.name}: service ${s.name} has build: but no image:, and deploy.build is local: Ferry has no image of it to send`,
        { path: `stacks/${stack.def.name}/deploy/build` },
        `Name the image you build here (\`image: ${stack.project!.name}/${s.name}:1\`), or let the server build it (\`deploy.build: server\`, the default).`,
        { stack: stack.def.name, service: s.name },
      ),
    ),
  );
}

/** The context as a tar stream, for `docker build -` (node-tar's stream made a Node one, as transports pipe). */
export const contextTar = (b: BuildPlan): Readable =>
  Readable.from(create({ cwd: b.context, portable: true }, b.files) as AsyncIterable<Buffer>);

/** The service's image in the document Ferry ships: the build's tag, and no `build:` (nothing is built by Compose). */
export function withBuiltImages(doc: Record<string, unknown>, builds: BuildPlan[]): Record<string, unknown> {
  const services = { ...((doc.services ?? {}) as Record<string, Record<string, unknown>>) };
  for (const b of builds)
    for (const name of b.services) {
      const { build: _build, ...rest } = services[name] ?? {};
      services[name] = { ...rest, image: b.tag };
    }
  return { ...doc, services };
}
