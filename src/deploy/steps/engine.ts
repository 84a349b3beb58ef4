/**
 * Docker and Compose on the server. `check` reads their versions; when one is missing,
 * `apply` installs it from the distribution (`docker.io`, `docker-compose`) and starts
 * the engine.
 */
import { and, cmd, render as renderCmd, type Command } from '../../shell/command.js';
import type { Transport } from '../../transport/transport.js';
import { StepError } from '../../engine/errors.js';
import type { Step } from '../../engine/step.js';
import { toolFailure } from '../../tools/classify.js';
import { runOwn } from './failure.js';
import {
  dockerVersionCommand,
  pluginVersionCommand,
  standaloneVersionCommand,
  type ComposeFlavor,
} from '../compose-cli.js';

export interface Engine {
  docker?: string;
  compose?: { flavor: ComposeFlavor; version: string };
}

export async function detectEngine(t: Transport, sudo: boolean): Promise<Engine> {
  const [docker, plugin, standalone] = await Promise.all(
    [dockerVersionCommand, pluginVersionCommand, standaloneVersionCommand].map((c) => t.exec(c, { sudo })),
  );
  // Only a refusal is an error here: a missing docker is what check reports as missing.
  const refused = toolFailure('docker', docker!, {
    host: t.name,
    what: 'the SSH user may not use Docker',
    redact: (s) => s,
  });
  if (refused?.code === 'permission-denied') throw refused;
  const out: Engine = {};
  if (docker!.code === 0 && docker!.stdout.trim()) out.docker = docker!.stdout.trim();
  if (plugin!.code === 0 && plugin!.stdout.trim())
    out.compose = { flavor: 'plugin', version: plugin!.stdout.trim().replace(/^v/, '') };
  else if (standalone!.code === 0 && standalone!.stdout.trim())
    out.compose = { flavor: 'standalone', version: standalone!.stdout.trim().replace(/^v/, '') };
  return out;
}

const flavors = new WeakMap<Transport, ComposeFlavor>();

/**
 * The flavor, or a clear error when Compose is not there. Found once per connection: asking
 * starts Compose (a Python program in v1, most of a second on a busy server), and steps
 * inside a migration's pause ask too.
 */
export async function composeFlavor(t: Transport, sudo: boolean): Promise<ComposeFlavor> {
  const known = flavors.get(t);
  if (known) return known;
  const e = await detectEngine(t, sudo);
  if (!e.compose)
    throw new StepError(
      'compose-missing',
      `${t.name}: neither \`docker compose\` nor \`docker-compose\` is installed`,
      'Run `ferry apply` again: its first step installs Docker and Compose from the distribution.',
    );
  flavors.set(t, e.compose.flavor);
  return e.compose.flavor;
}

export const installCommand = (packages: string[]): Command =>
  and(
    cmd('apt-get', 'update', '-qq'),
    cmd(
      'env',
      'DEBIAN_FRONTEND=noninteractive',
      'apt-get',
      'install',
      '-y',
      '-qq',
      '--no-install-recommends',
      ...packages,
    ),
    cmd('systemctl', 'enable', '--now', 'docker'),
  );

/** What the check of Docker and Compose saw. */
export interface EngineObserved {
  /** Distribution packages to install (`docker.io`, `docker-compose`); empty when both are there. */
  missing: string[];
}

const INSTALL_HINT =
  'Install Docker and Compose on the server by hand (the server may have no route to its package mirror), then run apply again.';

export function engineStep(o: { id: string; host: string; sudo: boolean }): Step<EngineObserved> {
  return {
    id: o.id,
    host: o.host,
    phase: 'prepare',
    title: 'Docker and Compose present',
    dependsOn: [],
    doc: () => ({
      purpose:
        'Make sure the Docker engine and Compose (the `docker compose` plugin or `docker-compose`) are installed and running; install them from the distribution when missing (apt-get, at most 15 minutes).',
      commands: [dockerVersionCommand, pluginVersionCommand, standaloneVersionCommand].map(
        (c) => (o.sudo ? 'sudo ' : '') + renderCmd(c),
      ),
      verify: 'Both print a version.',
      undo: 'Nothing: packages installed are left in place.',
    }),
    async check(ctx) {
      const e = await detectEngine(ctx.transport, o.sudo);
      const missing = [...(e.docker ? [] : ['docker.io']), ...(e.compose ? [] : ['docker-compose'])];
      if (missing.length === 0) return { needed: false, observed: { missing } };
      return {
        needed: true,
        change: {
          summary: `install ${missing.join(', ')} from the distribution`,
          before: 'missing',
          after: missing.join(', '),
        },
        observed: { missing },
      };
    },
    async apply(ctx, { missing }) {
      await runOwn(ctx, installCommand(missing), {
        sudo: o.sudo,
        timeoutMs: 15 * 60_000,
        what: `installing ${missing.join(', ')}`,
        code: 'install-failed',
        hint: INSTALL_HINT,
      });
    },
    async verify(ctx) {
      const e = await detectEngine(ctx.transport, o.sudo);
      return e.docker && e.compose
        ? { ok: true }
        : { ok: false, message: 'Docker or Compose still missing after installing' };
    },
    async rollback() {},
  };
}
