/**
 * The zero-downtime swap of one service (see up.ts): a new container beside each old one,
 * healthy within the stack's `health_timeout`, nginx switched to it, then the old ones
 * stopped (with the service's grace period) and removed. A new container that never
 * becomes healthy is removed and the old ones keep serving.
 */
import { cmd, type Command } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { StepContext } from '../../engine/step.js';
import type { HttpCheckDef } from '../../model/fleet.js';
import { runTool } from '../../tools/run.js';
import { compose, type ComposeCall } from '../compose-cli.js';
import { isReady, projectContainers, type Container } from '../containers.js';
import { waitReady } from './health.js';

export interface ServicePlan {
  name: string;
  replicas: number;
  /** Swapped without downtime (see above). */
  swap: boolean;
  /** Runs to completion (another service waits for `service_completed_successfully`): exit 0 is its normal end. */
  oneShot?: boolean;
  /** Seconds its containers get to stop before they are killed (`stop_grace_period`); Compose's 10 when absent. */
  stopGrace?: number;
}

export type SwitchUpstream = (ctx: StepContext, service: string, containers: Container[]) => Promise<void>;

/** `docker stop` with the service's grace period: what `compose stop` would give it. */
export const stopCommand = (s: Pick<ServicePlan, 'stopGrace'> | undefined, ids: string[]): Command =>
  cmd('docker', 'stop', '-t', String(s?.stopGrace ?? 10), ...ids);

export interface SwapOptions {
  host: string;
  project: string;
  release: { id: string };
  sudo: boolean;
  healthTimeoutMs: number;
  httpChecks: HttpCheckDef[];
  switchUpstream: SwitchUpstream;
  /** For each command. */
  timeoutMs: number;
}

/** Swaps `s` when its containers differ from the release; false when they already match. */
export async function swapService(
  ctx: StepContext,
  o: SwapOptions,
  c: ComposeCall,
  s: ServicePlan,
  hashes: Map<string, string>,
): Promise<boolean> {
  const old = (await projectContainers(ctx.transport, o.project, o.sudo)).filter((x) => x.service === s.name);
  if (old.length === 0 || old.every((x) => x.configHash === hashes.get(s.name) && isReady(x))) return false;
  const oldIds = new Set(old.map((x) => x.id));
  const run = (command: Command, tool: 'docker' | 'compose', what: string, replay = false) =>
    runTool(ctx, tool, command, { what, sudo: o.sudo, timeoutMs: o.timeoutMs, replay });
  const scale = `${s.name}=${old.length + s.replicas}`;
  await run(
    compose(c, 'up', '-d', '--no-deps', '--no-recreate', '--scale', scale, s.name),
    'compose',
    `starting new ${s.name} beside the old`,
    true,
  );
  const isNew = (x: Container) => x.service === s.name && !oldIds.has(x.id);
  const ready = await waitReady(ctx.transport, {
    project: o.project,
    sudo: o.sudo,
    timeoutMs: o.healthTimeoutMs,
    only: isNew,
    expect: [s.name],
    httpChecks: o.httpChecks.filter((h) => h.service === s.name),
  });
  if (!ready.ok) {
    const fresh = ready.containers.map((x) => x.id);
    if (fresh.length > 0) await ctx.transport.exec(cmd('docker', 'rm', '-f', ...fresh), { sudo: o.sudo });
    throw new StepError(
      'health-check-failed',
      `${o.host}: the new ${s.name} of release ${o.release.id} did not become ready within ${Math.round(o.healthTimeoutMs / 1000)} s: ${ctx.redactor.redact(ready.problems.join('; '))}. It was removed; the previous ${s.name} kept serving.`,
      `Look at its logs on the server (\`docker logs\`), fix the image or the configuration, then run apply again.`,
    );
  }
  await o.switchUpstream(ctx, s.name, ready.containers);
  await run(stopCommand(s, [...oldIds]), 'docker', `stopping the old ${s.name}`);
  await run(cmd('docker', 'rm', ...oldIds), 'docker', `removing the old ${s.name}`);
  return true;
}
