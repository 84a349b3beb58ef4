/**
 * Images sent to a server without a registry: `docker save` on this machine, compressed
 * (zstd when the server has it, else gzip), streamed over the SSH connection into
 * `docker load`, never held whole in memory or on disk. `check` compares image ids on
 * both sides, so images the server already has are not sent again.
 */
import { spawn } from 'node:child_process';
import { and, cmd, pipe, quiet, raw, render, type Command } from '../../shell/command.js';
import type { Transport } from '../../transport/transport.js';
import { toolFailure, toolTail } from '../../tools/classify.js';
import { StepError } from '../errors.js';
import type { Phase, Step, StepContext } from '../step.js';

export interface ImageStepOptions {
  id: string;
  host: string;
  images: string[];
  /** This machine, where the images are. */
  local: Transport;
  sudo?: boolean;
  phase?: Phase;
  dependsOn?: string[];
}

export type Compression = 'zstd' | 'gzip';

export const imageIdCommand = (image: string): Command =>
  quiet(cmd('docker', 'image', 'inspect', '--format', '{{.Id}}', image));
export const hasZstdCommand: Command = quiet(raw`command -v zstd`);
export const saveCommand = (images: string[], c: Compression): Command =>
  pipe(cmd('docker', 'save', ...images), c === 'zstd' ? cmd('zstd', '-q', '-T0', '-3', '-c') : cmd('gzip', '-1', '-c'));
export const loadCommand = (c: Compression): Command =>
  pipe(c === 'zstd' ? cmd('zstd', '-q', '-d', '-c') : cmd('gzip', '-d', '-c'), cmd('docker', 'load', '-q'));

/** Image name to id on the host behind `t`; undefined for an image it does not have. */
export async function imageIds(
  t: Transport,
  images: string[],
  sudo: boolean,
): Promise<Map<string, string | undefined>> {
  const out = new Map<string, string | undefined>();
  for (const img of images) {
    const r = await t.exec(imageIdCommand(img), { sudo });
    out.set(img, r.code === 0 ? r.stdout.trim() : undefined);
  }
  return out;
}

/** What the check of the images saw. */
export interface ImagesObserved {
  /** Image ids on this machine, by name: what the server must end with. */
  local: Record<string, string>;
  /**
   * Image ids the server had before this step first loaded any, by name (an image it lacked
   * is absent); kept from `ctx.prior` on resume, for rollback to remove only what it loaded.
   */
  before: Record<string, string>;
  /** Images whose ids differ: apply sends these. */
  send: string[];
  compression: Compression;
}

/** A whole `docker load` gets this long (gigabytes over a slow link). */
const LOAD_TIMEOUT_MS = 60 * 60_000;

const LOAD_HINT = 'Check free disk space on the server (`df -h /var/lib/docker`) and that Docker runs there.';

/** Runs the save pipeline on this machine and streams its output into `docker load` on the server. */
async function stream(ctx: StepContext, images: string[], c: Compression, sudo: boolean): Promise<void> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', render(saveCommand(images, c))], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let sent = 0;
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (sent += d.length));
  const saved = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const load = ctx.transport.exec(loadCommand(c), { stdin: child.stdout, sudo, timeoutMs: LOAD_TIMEOUT_MS });
  const [code, loaded] = await Promise.all([saved, load]);
  ctx.transferred('images', sent);
  const redact = (s: string) => ctx.redactor.redact(s);
  if (code !== 0)
    throw new StepError(
      'image-save-failed',
      `docker save ${images.join(' ')} failed on this machine (exit ${code})${stderr.trim() ? `:\n${toolTail(stderr, redact)}` : ''}`,
      'Check that the images exist here (`docker images`) and that zstd or gzip is installed.',
    );
  const what = `docker load of ${images.join(', ')}`;
  const d = { host: ctx.transport.name, what, redact };
  const failed = toolFailure('docker', loaded, d);
  if (failed)
    throw failed.code === 'docker-failed' ? new StepError('image-load-failed', failed.message, LOAD_HINT) : failed;
}

/** Name to id, only the images there. */
const present = (ids: Map<string, string | undefined>): Record<string, string> =>
  Object.fromEntries([...ids].filter((e): e is [string, string] => e[1] !== undefined));

export function imageStep(o: ImageStepOptions): Step<ImagesObserved> {
  const sudo = o.sudo ?? false;
  return {
    id: o.id,
    host: o.host,
    phase: o.phase ?? 'transfer',
    title: `images ${o.images.join(', ')} on ${o.host}`,
    dependsOn: o.dependsOn ?? [],
    doc: () => ({
      purpose: `Make sure ${o.host} has ${o.images.join(', ')} (same image ids as here), sending only the missing ones without a registry (the whole transfer at most 60 minutes).`,
      commands: [
        ...o.images.map((i) => render(imageIdCommand(i))),
        `${render(saveCommand(['IMAGES…'], 'zstd'))}  (here)  →  ${render(loadCommand('zstd'))}  (on ${o.host})`,
      ],
      verify: 'The image ids on the server equal the ids here.',
      undo: 'Removes the images it loaded that the server did not have before, unless a container uses them.',
    }),
    async check(ctx: StepContext) {
      const local = present(await imageIds(o.local, o.images, false));
      const missing = o.images.filter((i) => !local[i]);
      if (missing.length > 0)
        throw new StepError(
          'image-missing-locally',
          `images not found on this machine: ${missing.join(', ')}`,
          'Build or pull them here first (`docker build`, `docker pull`), or name images that exist.',
        );
      const now = present(await imageIds(ctx.transport, o.images, sudo));
      const send = o.images.filter((i) => now[i] !== local[i]);
      const compression: Compression =
        (await ctx.transport.exec(hasZstdCommand, { sudo })).code === 0 ? 'zstd' : 'gzip';
      const prior = ctx.prior as ImagesObserved | undefined;
      const observed: ImagesObserved = { local, before: prior ? prior.before : now, send, compression };
      if (send.length === 0) return { needed: false, observed };
      const have = o.images.length - send.length;
      return {
        needed: true,
        change: { summary: `send ${send.join(', ')} (${compression})${have > 0 ? `; ${have} already there` : ''}` },
        observed,
      };
    },
    async apply(ctx, observed) {
      await stream(ctx, observed.send, observed.compression, sudo);
    },
    async verify(ctx, observed) {
      const now = await imageIds(ctx.transport, o.images, sudo);
      const wrong = o.images.filter((i) => now.get(i) !== observed.local[i]);
      return wrong.length === 0
        ? { ok: true }
        : { ok: false, message: `image ids differ on ${o.host} for ${wrong.join(', ')}` };
    },
    async rollback(ctx, observed) {
      // Only images the server lacked before; a removal fails harmlessly when a container uses the image.
      for (const img of o.images.filter((i) => observed.before[i] === undefined)) {
        await ctx.transport.exec(and(cmd('docker', 'image', 'inspect', img), quiet(cmd('docker', 'rmi', img))), {
          sudo,
        });
      }
    },
  };
}
