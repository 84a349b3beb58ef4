/**
 * One image built on the server (`deploy.build: server`): the context's tar streamed into
 * `docker build -`, tagged by the hash of what it is built from. The tag present means
 * built (nothing is sent); a build that fails changes nothing that serves: the release is
 * not started, the running one keeps serving. Build arguments, which may be secrets, are
 * read by the shell from a file of mode 600 that is removed once read, never from a
 * command line. The image stays after a rollback: Docker's build cache and the next
 * release with the same context use it.
 */
import { Secret } from '../../core/secret.js';
import type { Step, StepContext } from '../../engine/step.js';
import { cmd, quiet, render, script, type Command } from '../../shell/command.js';
import { contextTar, type BuildPlan } from '../builds.js';
import { stackDir } from '../layout.js';
import { failureAs, doing } from './failure.js';

/** How long a build may take. */
export const BUILD_TIMEOUT_MS = 30 * 60_000;

const HINT =
  "Read docker's words above (the instruction that failed); fix the Dockerfile or the context, then apply again. The running release was not touched.";

/** Where the arguments wait for the shell that runs the build (mode 600, removed once read). */
export const argsPath = (stack: string, b: Pick<BuildPlan, 'hash'>): string =>
  `${stackDir(stack)}/build-${b.hash}.args`;

/** `export K='V'` per argument, single-quoted for sh. */
export const argsText = (args: Record<string, string>): string =>
  Object.entries(args)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", `'\\''`)}'\n`)
    .join('');

/** `docker build` of the tar on stdin; each argument by name only (its value from the environment). */
export function buildCommand(stack: string, b: BuildPlan): Command {
  const docker = cmd(
    'docker',
    'build',
    '--tag',
    b.tag,
    '--file',
    b.dockerfile,
    ...(b.target ? ['--target', b.target] : []),
    ...Object.keys(b.args)
      .sort()
      .flatMap((k) => ['--build-arg', k]),
    '--label',
    `ferry.build=${b.hash}`,
    '-',
  );
  if (Object.keys(b.args).length === 0) return docker;
  return script(
    'set -a; . "$1" || exit; set +a; rm -f -- "$1"; shift; exec "$@"',
    argsPath(stack, b),
    ...(docker.kind === 'argv' ? docker.argv : []),
  );
}

export const presentCommand = (b: Pick<BuildPlan, 'tag'>): Command =>
  quiet(cmd('docker', 'image', 'inspect', '--format', '{{.Id}}', b.tag));

export function buildStep(o: {
  id: string;
  host: string;
  stack: string;
  build: BuildPlan;
  sudo: boolean;
  dependsOn: string[];
}): Step {
  const b = o.build;
  const present = async (ctx: StepContext) =>
    (await ctx.transport.exec(presentCommand(b), { sudo: o.sudo })).code === 0;
  const mb = (b.bytes / 2 ** 20).toFixed(1);
  return {
    id: o.id,
    host: o.host,
    phase: 'transfer',
    title: `build ${b.tag} for ${b.services.join(', ')} (${b.files.length} files, ${mb} MiB)`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Build the image of ${b.services.join(', ')} on the server from ${b.dockerfile}${b.target ? ` (target ${b.target})` : ''}: the context's ${b.files.length} files (${mb} MiB, what .dockerignore leaves) streamed as a tar; tagged by their hash, so an unchanged context is not sent again.${Object.keys(b.args).length > 0 ? ` Its arguments ${Object.keys(b.args).join(', ')} are read from ${argsPath(o.stack, b)} (600, removed once read).` : ''}`,
      commands: [`tar of the context | ${render(buildCommand(o.stack, b))}`],
      verify: render(presentCommand(b)),
      undo: 'none: the image is kept for the build cache; the release that runs it is undone on its own',
    }),
    async check(ctx) {
      if (await present(ctx)) return { needed: false };
      return {
        needed: true,
        change: { summary: `build ${b.tag}`, after: `${b.services.join(', ')} run ${b.tag}` },
      };
    },
    async apply(ctx) {
      if (Object.keys(b.args).length > 0) {
        await ctx.transport.exec(cmd('mkdir', '-p', stackDir(o.stack)), { sudo: o.sudo });
        await ctx.transport.upload(argsPath(o.stack, b), new Secret(argsText(b.args)), { mode: 0o600, sudo: o.sudo });
      }
      const r = await ctx.transport.exec(buildCommand(o.stack, b), {
        sudo: o.sudo,
        stdin: contextTar(b),
        timeoutMs: BUILD_TIMEOUT_MS,
      });
      if (Object.keys(b.args).length > 0)
        await ctx.transport.exec(cmd('rm', '-f', '--', argsPath(o.stack, b)), { sudo: o.sudo });
      const e = failureAs('docker', r, doing(ctx, `docker build of ${b.tag}`), 'image-build-failed', HINT);
      if (e) throw e;
      ctx.transferred('images', b.bytes);
    },
    async verify(ctx) {
      return (await present(ctx))
        ? { ok: true }
        : { ok: false, message: `${b.tag} is not on the server after its build` };
    },
    async rollback() {
      // Nothing serves from the image until the release's own step starts it; that step undoes itself.
    },
  };
}
