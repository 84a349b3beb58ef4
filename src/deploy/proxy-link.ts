/**
 * Between a deploy and its proxy: the upstreams nginx sends a stack's routes to are the
 * addresses of the running containers, read when the proxy steps run (after `up`), and
 * rewritten by the zero-downtime swap with the new containers in place of the old.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cmd, quiet, type Command } from '../shell/command.js';
import type { StepContext, Step } from '../engine/step.js';
import type { AcmeDef, StackDef } from '../model/fleet.js';
import { renderUpstreams, upstreamsOf } from '../proxy/render-upstreams.js';
import { upstreamsPath } from '../proxy/names.js';
import { nginxFileStep, workerPids, writeNginxFile } from '../proxy/nginx-file.js';
import { proxySteps } from '../proxy/steps.js';
import { projectContainers, type Container } from './containers.js';
import type { SwitchUpstream } from './steps/up.js';

const aliveCommand = (pids: string[]): Command => quiet(cmd('ps', '-o', 'pid=', '-p', pids.join(',')));

/**
 * Waits until the nginx workers that ran before a reload have exited: they may still
 * send requests to the old containers (a reload only signals them; each finishes its
 * requests first), so stopping the old containers before cuts requests. At most `limitMs`.
 */
export async function drained(ctx: StepContext, before: string[], sudo: boolean, limitMs = 30_000): Promise<void> {
  if (before.length === 0) return;
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if ((await ctx.transport.exec(aliveCommand(before), { sudo })).code !== 0) return;
    await sleep(100);
  }
}

export interface ProxyLink {
  steps: Step[];
  switchUpstream: SwitchUpstream;
  /** The upstreams rewritten for the containers running now (after a rollback brought others up). */
  refreshUpstreams: (ctx: StepContext) => Promise<void>;
}

/** Addresses per upstream name, from the containers given (running ones only). */
export function upstreamAddresses(stack: StackDef, containers: Container[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const u of upstreamsOf(stack.name, stack.proxy!.routes)) {
    out[u.name] = containers
      .filter((c) => c.service === u.service && c.status === 'running')
      .flatMap((c) => c.addresses.slice(0, 1))
      .map((a) => `${a}:${u.port}`)
      .sort();
  }
  return out;
}

/** The stack's upstreams file for these containers. */
const upstreamsFile = (stack: StackDef, containers: Container[]): string =>
  renderUpstreams(stack.name, stack.proxy!.routes, upstreamAddresses(stack, containers));

/**
 * The stack's upstreams on `host` rewritten for the project's containers running now:
 * after containers were started again (a rollback), their addresses may have changed.
 */
export async function refreshUpstreams(
  ctx: StepContext,
  o: { stack: StackDef; project: string; host: string; sudo: boolean },
): Promise<void> {
  const running = await projectContainers(ctx.transport, o.project, o.sudo);
  await writeNginxFile(ctx, o.host, upstreamsPath(o.stack.name), upstreamsFile(o.stack, running), o.sudo);
}

/** A step that points a stack's upstreams on `host` at the project's containers running then (a migration's target, or its source after a rollback). */
export function upstreamsStep(o: {
  id: string;
  host: string;
  stack: StackDef;
  project: string;
  sudo: boolean;
  dependsOn: string[];
  title: string;
}): Step {
  return nginxFileStep({
    id: o.id,
    host: o.host,
    path: upstreamsPath(o.stack.name),
    sudo: o.sudo,
    dependsOn: o.dependsOn,
    title: o.title,
    content: async (ctx) => upstreamsFile(o.stack, await projectContainers(ctx.transport, o.project, o.sudo)),
  });
}

export function proxyLink(o: {
  stack: StackDef;
  project: string;
  host: string;
  sudo: boolean;
  acme?: AcmeDef;
  dependsOn: string[];
}): ProxyLink {
  const running = async (ctx: StepContext) => projectContainers(ctx.transport, o.project, o.sudo);
  const steps = proxySteps({
    stack: o.stack,
    host: o.host,
    sudo: o.sudo,
    ...(o.acme ? { acme: o.acme } : {}),
    upstreams: async (ctx) => upstreamAddresses(o.stack, await running(ctx)),
    dependsOn: o.dependsOn,
  });
  const writeFor = (ctx: StepContext, containers: Container[]) =>
    writeNginxFile(ctx, o.host, upstreamsPath(o.stack.name), upstreamsFile(o.stack, containers), o.sudo);
  const switchUpstream: SwitchUpstream = async (ctx, service, fresh) => {
    const others = (await running(ctx)).filter((c) => c.service !== service);
    const before = await workerPids(ctx, o.sudo);
    await writeFor(ctx, [...others, ...fresh]);
    await drained(ctx, before, o.sudo);
  };
  const refresh = (ctx: StepContext) => refreshUpstreams(ctx, o);
  return { steps, switchUpstream, refreshUpstreams: refresh };
}
