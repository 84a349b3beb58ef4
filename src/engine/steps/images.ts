/**
 * Images sent to a server without a registry: `docker save` on this machine, compressed
 * (zstd when the server has it, else gzip), streamed over the SSH connection into
 * `docker load`, never held whole in memory or on disk. `check` compares image ids on
 * both sides, so images the server already has are not sent again.
 */
import { spawn } from 'node:child_process';
import { and, cmd, pipe, quiet, raw, render, type Command } from '../../shell/command.js';
import type { Transport } from '../../transport/transport.js';
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

/** Runs the save pipeline on this machine and streams its output into `docker load` on the server. */
async function stream(t: Transport, images: string[], c: Compression, sudo: boolean): Promise<void> {
  const child = spawn('bash', ['-o', 'pipefail', '-c', render(saveCommand(images, c))], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const saved = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const load = t.exec(loadCommand(c), { stdin: child.stdout, sudo, timeoutMs: 60 * 60_000 });
  const [code, loaded] = await Promise.all([saved, load]);
  if (code !== 0)
    throw new StepError(
      'image-save-failed',
      `docker save ${images.join(' ')} failed on this machine: ${stderr.trim().split('\n').pop() ?? ''}`,
      'Check that the images exist here (`docker images`) and that zstd or gzip is installed.',
    );
  if (loaded.code !== 0)
    throw new StepError(
      'image-load-failed',
      `docker load on ${t.name} failed: ${loaded.stderr.trim().split('\n').pop() ?? ''}`,
      'Check free disk space on the server (`df -h /var/lib/docker`) and that Docker runs there.',
    );
}

export function imageStep(o: ImageStepOptions): Step {
  const sudo = o.sudo ?? false;
  let local = new Map<string, string | undefined>();
  let before = new Map<string, string | undefined>();
  let send: string[] = [];
  let compression: Compression = 'gzip';
  return {
    id: o.id,
    host: o.host,
    phase: o.phase ?? 'transfer',
    title: `images ${o.images.join(', ')} on ${o.host}`,
    dependsOn: o.dependsOn ?? [],
    doc: () => ({
      purpose: `Make sure ${o.host} has ${o.images.join(', ')} (same image ids as here), sending only the missing ones without a registry.`,
      commands: [
        ...o.images.map((i) => render(imageIdCommand(i))),
        `${render(saveCommand(['IMAGES…'], 'zstd'))}  (here)  →  ${render(loadCommand('zstd'))}  (on ${o.host})`,
      ],
      verify: 'The image ids on the server equal the ids here.',
      undo: 'Removes the images it loaded that the server did not have before, unless a container uses them.',
    }),
    async check(ctx: StepContext) {
      local = await imageIds(o.local, o.images, false);
      const missing = o.images.filter((i) => !local.get(i));
      if (missing.length > 0)
        throw new StepError(
          'image-missing-locally',
          `images not found on this machine: ${missing.join(', ')}`,
          'Build or pull them here first (`docker build`, `docker pull`), or name images that exist.',
        );
      before = await imageIds(ctx.transport, o.images, sudo);
      send = o.images.filter((i) => before.get(i) !== local.get(i));
      compression = (await ctx.transport.exec(hasZstdCommand, { sudo })).code === 0 ? 'zstd' : 'gzip';
      if (send.length === 0) return { needed: false };
      const have = o.images.length - send.length;
      return {
        needed: true,
        change: { summary: `send ${send.join(', ')} (${compression})${have > 0 ? `; ${have} already there` : ''}` },
      };
    },
    async apply(ctx) {
      await stream(ctx.transport, send, compression, sudo);
    },
    async verify(ctx) {
      const now = await imageIds(ctx.transport, o.images, sudo);
      const wrong = o.images.filter((i) => now.get(i) !== local.get(i));
      return wrong.length === 0
        ? { ok: true }
        : { ok: false, message: `image ids differ on ${o.host} for ${wrong.join(', ')}` };
    },
    async rollback(ctx) {
      for (const img of send) {
        if (before.get(img)) continue;
        // Fails harmlessly when a container uses the image.
        await ctx.transport.exec(and(cmd('docker', 'image', 'inspect', img), quiet(cmd('docker', 'rmi', img))), {
          sudo,
        });
      }
    },
  };
}
