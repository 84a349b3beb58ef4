/**
 * Services of the stack stopped or started on one side: the source's writers frozen
 * (Redis saved first), the target's databases started before their data arrives, the
 * source's databases stopped once dumped. Rollback puts the services back as they were.
 */
import { cmd, render } from '../../shell/command.js';
import type { Phase, Step, StepContext } from '../../engine/step.js';
import { runTool } from '../../tools/run.js';
import { compose, releaseCall, type ComposeCall } from '../../deploy/compose-cli.js';
import { projectContainers, type Container } from '../../deploy/containers.js';
import type { ReleaseMeta } from '../../deploy/release-meta.js';
import { composeFlavor } from '../../deploy/steps/engine.js';
import { waitReady } from '../../deploy/steps/health.js';
import { stopCommand } from '../../deploy/steps/up.js';
import type { Side } from '../context.js';
import { REDIS_POLL_MS, REDIS_SAVE_TIMEOUT_MS, redisSave } from './redis.js';

export interface ServicesStateOptions {
  id: string;
  stack: string;
  /** Redis services among `services`: saved (BGSAVE) before they stop. */
  redis?: string[];
  side: Pick<Side, 'name' | 'sudo'>;
  release: ReleaseMeta;
  services: string[];
  want: 'stopped' | 'running';
  phase: Phase;
  dependsOn: string[];
  title: string;
  healthTimeoutMs?: number;
  /** How long a Redis save may take (default REDIS_SAVE_TIMEOUT_MS). */
  redisSaveTimeoutMs?: number;
  /**
   * After services were started (by apply, or by the rollback of a stop), once they are
   * ready: e.g. the proxy pointed at their containers, whose addresses may have changed.
   */
  afterStart?: (ctx: StepContext) => Promise<void>;
}

/** What the check saw: the services not in the wanted state, which rollback puts back. */
export interface ServicesObserved {
  /**
   * Services to change, and on `--resume` also those the interrupted run had to change
   * (they are in the wanted state now, but were not before the run).
   */
  changed: string[];
}

/** Compose up, docker stop and a service's start: each bounded by this. */
const COMMAND_TIMEOUT_MS = 10 * 60_000;

const call = (stack: string, r: ReleaseMeta, flavor: ComposeCall['flavor']): ComposeCall =>
  releaseCall(stack, r.project, r, flavor);

const priorChanged = (ctx: StepContext): string[] =>
  (ctx.prior as Partial<ServicesObserved> | undefined)?.changed ?? [];
const union = (a: string[], b: string[]): string[] => [...new Set([...a, ...b])];

/** Where services are changed: a side of the move, one of its releases, and the step's context. */
export interface ServicesOn {
  stack: string;
  side: Pick<Side, 'name' | 'sudo'>;
  release: ReleaseMeta;
  /** The side is another host than the step's own (one it reaches). */
  reached?: boolean;
}

const transportOf = (ctx: StepContext, w: ServicesOn) => (w.reached ? ctx.on(w.side.name) : ctx.transport);
const onOf = (w: ServicesOn) => (w.reached ? { on: w.side.name } : {});

/** The containers of the release's project on the side. */
export const containersOn = (ctx: StepContext, w: ServicesOn): Promise<Container[]> =>
  projectContainers(transportOf(ctx, w), w.release.project, w.side.sudo);

/**
 * `services` started again: their stopped containers by `docker start` (what `docker stop`
 * stopped comes back as it was: `compose up --no-deps` would recreate them, since Compose
 * counts the dropped dependencies as a change of configuration), and those with no
 * container by `compose up -d --no-deps`. `cs`: the side's containers, when just read.
 */
export async function startServices(
  ctx: StepContext,
  w: ServicesOn,
  services: string[],
  cs: Container[] | undefined = undefined,
): Promise<void> {
  cs ??= await containersOn(ctx, w);
  const stopped = cs.filter((c) => services.includes(c.service) && c.status !== 'running');
  const missing = services.filter((s) => !cs.some((c) => c.service === s));
  if (stopped.length > 0)
    await runTool(ctx, 'docker', cmd('docker', 'start', ...stopped.map((c) => c.name)), {
      what: `docker start of ${[...new Set(stopped.map((c) => c.service))].join(' ')}`,
      sudo: w.side.sudo,
      timeoutMs: COMMAND_TIMEOUT_MS,
      replay: true,
      ...onOf(w),
    });
  if (missing.length === 0) return;
  const c = call(w.stack, w.release, await composeFlavor(transportOf(ctx, w), w.side.sudo));
  await runTool(ctx, 'compose', compose(c, 'up', '-d', '--no-deps', ...missing), {
    what: `compose up of ${missing.join(' ')}`,
    sudo: w.side.sudo,
    timeoutMs: COMMAND_TIMEOUT_MS,
    replay: true,
    ...onOf(w),
  });
}

/**
 * `docker stop` on the running containers of `services`, each service with its grace period,
 * all at once: as `compose stop` does, without starting Compose (this is the write freeze's
 * first step). Redis services among `redis` are saved first (BGSAVE).
 */
export async function stopServices(
  ctx: StepContext,
  w: ServicesOn,
  services: string[],
  o: { redis?: string[]; redisSaveTimeoutMs?: number; cs?: Container[] } = {},
): Promise<void> {
  const cs = o.cs ?? (await containersOn(ctx, w));
  const sudo = w.side.sudo;
  for (const s of services.filter((x) => (o.redis ?? []).includes(x)))
    for (const c of cs.filter((x) => x.service === s && x.status === 'running'))
      await redisSave(ctx, {
        container: c.name,
        sudo,
        ...onOf(w),
        ...(o.redisSaveTimeoutMs !== undefined ? { timeoutMs: o.redisSaveTimeoutMs } : {}),
      });
  const byGrace = new Map<number | undefined, string[]>();
  for (const c of cs.filter((x) => services.includes(x.service) && x.status === 'running')) {
    const grace = w.release.services.find((x) => x.name === c.service)?.stopGrace;
    byGrace.set(grace, [...(byGrace.get(grace) ?? []), c.name]);
  }
  await Promise.all(
    [...byGrace].map(([grace, names]) =>
      runTool(ctx, 'docker', stopCommand({ stopGrace: grace }, names), {
        what: `docker stop of ${services.join(' ')}`,
        sudo,
        timeoutMs: COMMAND_TIMEOUT_MS,
        ...onOf(w),
      }),
    ),
  );
}

export function servicesStateStep(o: ServicesStateOptions): Step<ServicesObserved> {
  const sudo = o.side.sudo;
  const where: ServicesOn = { stack: o.stack, side: o.side, release: o.release };
  const containers = (ctx: StepContext) => containersOn(ctx, where);
  const differingIn = (cs: Container[]) =>
    o.services.filter((s) => {
      const running = cs.some((c) => c.service === s && c.status === 'running');
      return o.want === 'stopped' ? running : !running;
    });
  const graceOf = (service: string) => o.release.services.find((s) => s.name === service)?.stopGrace;
  const ready = (ctx: StepContext) =>
    waitReady(ctx.transport, {
      project: o.release.project,
      sudo,
      timeoutMs: o.healthTimeoutMs ?? 120_000,
      only: (c) => o.services.includes(c.service),
      expect: o.services,
      httpChecks: [],
    });
  const start = async (ctx: StepContext, services: string[], cs: Container[]) => {
    await startServices(ctx, where, services, cs);
    if (!o.afterStart) return;
    // Pointed at them once they answer (after the health timeout, all the same).
    await ready(ctx);
    await o.afterStart(ctx);
  };
  const stop = (ctx: StepContext, services: string[], cs: Container[]) =>
    stopServices(ctx, where, services, {
      cs,
      ...(o.redis ? { redis: o.redis } : {}),
      ...(o.redisSaveTimeoutMs !== undefined ? { redisSaveTimeoutMs: o.redisSaveTimeoutMs } : {}),
    });
  return {
    id: o.id,
    host: o.side.name,
    phase: o.phase,
    title: o.title,
    dependsOn: o.dependsOn,
    doc: () => docOf(o, graceOf),
    async check(ctx) {
      const d = differingIn(await containers(ctx));
      const changed = union(priorChanged(ctx), d);
      if (changed.length === 0) return { needed: false, observed: { changed } };
      const summary =
        d.length > 0
          ? `${o.want === 'stopped' ? 'stop' : 'start'} ${d.join(', ')} on ${o.side.name}`
          : `${changed.join(', ')} ${o.want === 'stopped' ? 'stopped' : 'started'} on ${o.side.name} by the interrupted run`;
      return { needed: true, change: { summary }, observed: { changed } };
    },
    async apply(ctx) {
      const cs = await containers(ctx);
      const now = differingIn(cs);
      if (now.length === 0) return;
      if (o.want === 'running') return start(ctx, now, cs);
      await stop(ctx, now, cs);
    },
    async verify(ctx) {
      if (o.want === 'running') {
        const r = await ready(ctx);
        return r.ok ? { ok: true } : { ok: false, message: r.problems.join('; ') };
      }
      const left = differingIn(await containers(ctx));
      return left.length === 0 ? { ok: true } : { ok: false, message: `still running: ${left.join(', ')}` };
    },
    async rollback(ctx, { changed }) {
      if (changed.length === 0) return;
      // Only what is not as it was: a later step's rollback may have started them already.
      const cs = await containers(ctx);
      const undone = differingIn(cs);
      const undo = changed.filter((s) => !undone.includes(s));
      if (undo.length === 0) return;
      if (o.want === 'stopped') await start(ctx, undo, cs);
      else await stop(ctx, undo, cs);
    },
  };
}

function docOf(o: ServicesStateOptions, graceOf: (s: string) => number | undefined) {
  const c = call(o.stack, o.release, 'plugin');
  /** `$(docker ps FLAG ...)` of the service's containers, narrowed by more filters. */
  const containersOf = (s: string, flag: string, ...filters: string[]) =>
    `$(${render(cmd('docker', 'ps', flag, '--filter', `label=com.docker.compose.project=${o.release.project}`, '--filter', `label=com.docker.compose.service=${s}`, ...filters))})`;
  const stopLine = (s: string) => `${render(stopCommand({ stopGrace: graceOf(s) }, []))} ${containersOf(s, '-q')}`;
  const startLine = (s: string) =>
    `docker start ${containersOf(s, '-aq', '--filter', 'status=exited', '--filter', 'status=created')}`;
  const redis = o.services.filter((s) => (o.redis ?? []).includes(s));
  const bound = Math.round((o.redisSaveTimeoutMs ?? REDIS_SAVE_TIMEOUT_MS) / 1000);
  const saves = redis.map(
    (s) =>
      `docker exec CONTAINER_OF_${s} redis-cli BGSAVE, then redis-cli INFO persistence every ${REDIS_POLL_MS} ms until the save has ended (at most ${bound} s; a password is passed as REDISCLI_AUTH)`,
  );
  const health = Math.round((o.healthTimeoutMs ?? 120_000) / 1000);
  return {
    purpose: `${o.title}.`,
    commands:
      o.want === 'stopped'
        ? [...saves, ...o.services.map(stopLine)]
        : [
            ...o.services.map(startLine),
            `${render(compose(c, 'up', '-d', '--no-deps', ...o.services))} (those with no container)`,
          ],
    verify:
      o.want === 'stopped'
        ? 'No container of these services runs.'
        : `Their containers run and are healthy (waited for at most ${health} s).`,
    undo: o.want === 'stopped' ? 'Start them again.' : 'Stop them again.',
  };
}

/** What the creation of containers saw: the services that had none, whose containers rollback removes. */
export interface CreateObserved {
  /** On `--resume`, also those the interrupted run created. */
  created: string[];
}

/**
 * The target's containers created, not started, before the pause (`up --no-start`), so that
 * the start inside it only starts them. Rollback removes the ones it created.
 */
export function createStep(o: {
  id: string;
  stack: string;
  side: Pick<Side, 'name' | 'sudo'>;
  release: ReleaseMeta;
  services: string[];
  dependsOn: string[];
}): Step<CreateObserved> {
  const sudo = o.side.sudo;
  const missing = async (ctx: StepContext) => {
    const cs = await projectContainers(ctx.transport, o.release.project, sudo);
    return o.services.filter((s) => !cs.some((c) => c.service === s));
  };
  const args = (services: string[]) => ['up', '--no-start', '--no-deps', ...services];
  return {
    id: o.id,
    host: o.side.name,
    phase: 'transfer',
    title: `create the containers of ${o.services.join(', ')} on ${o.side.name}, not started`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose:
        'Create the containers before the pause, so that starting the stack in it does not wait for their creation.',
      commands: [render(compose(call(o.stack, o.release, 'plugin'), ...args(o.services)))],
      verify: 'Each of these services has a container.',
      undo: 'Remove the containers of these services that were never started (status created).',
    }),
    async check(ctx) {
      const m = await missing(ctx);
      const prior = (ctx.prior as Partial<CreateObserved> | undefined)?.created ?? [];
      const created = union(prior, m);
      if (created.length === 0) return { needed: false, observed: { created } };
      const summary = m.length > 0 ? `create ${m.join(', ')}` : `${created.join(', ')} created by the interrupted run`;
      return { needed: true, change: { summary }, observed: { created } };
    },
    async apply(ctx) {
      const now = await missing(ctx);
      if (now.length === 0) return;
      await runTool(
        ctx,
        'compose',
        compose(call(o.stack, o.release, await composeFlavor(ctx.transport, sudo)), ...args(now)),
        { what: `compose up --no-start of ${now.join(' ')}`, sudo, timeoutMs: COMMAND_TIMEOUT_MS },
      );
    },
    async verify(ctx) {
      const m = await missing(ctx);
      return m.length === 0 ? { ok: true } : { ok: false, message: `no container for ${m.join(', ')}` };
    },
    async rollback(ctx, { created }) {
      const cs = await projectContainers(ctx.transport, o.release.project, sudo);
      const ids = cs.filter((c) => created.includes(c.service) && c.status === 'created').map((c) => c.id);
      if (ids.length > 0)
        await runTool(ctx, 'docker', cmd('docker', 'rm', ...ids), { what: 'removing the created containers', sudo });
    },
  };
}
