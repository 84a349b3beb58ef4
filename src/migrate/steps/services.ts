/**
 * Services of the stack stopped or started on one side: the source's writers frozen
 * (Redis saved first), the target's databases started before their data arrives, the
 * source's databases stopped once dumped. Rollback puts the services back as they were.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cmd, render } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Phase, Step, StepContext } from '../../engine/step.js';
import { compose, releaseCall, type ComposeCall } from '../../deploy/compose-cli.js';
import { projectContainers, type Container } from '../../deploy/containers.js';
import type { ReleaseMeta } from '../../deploy/release-meta.js';
import { composeFlavor } from '../../deploy/steps/engine.js';
import { waitReady } from '../../deploy/steps/health.js';
import { stopCommand } from '../../deploy/steps/up.js';
import type { Side } from '../context.js';

export interface ServicesStateOptions {
  id: string;
  stack: string;
  /** Redis services among `services`: saved (BGSAVE) before they stop. */
  redis?: string[];
  side: Side;
  release: ReleaseMeta;
  services: string[];
  want: 'stopped' | 'running';
  phase: Phase;
  dependsOn: string[];
  title: string;
  /** Record when this step starts changing things (the write freeze). */
  onApply?: () => void;
  healthTimeoutMs?: number;
}

const call = (stack: string, r: ReleaseMeta, flavor: ComposeCall['flavor']): ComposeCall =>
  releaseCall(stack, r.project, r, flavor);

/** BGSAVE, then wait until LASTSAVE moves: the RDB on disk holds everything written before the freeze. */
async function redisSave(ctx: StepContext, container: string, sudo: boolean, host: string): Promise<void> {
  const last = async () =>
    (await ctx.transport.exec(cmd('docker', 'exec', container, 'redis-cli', 'LASTSAVE'), { sudo })).stdout.trim();
  const before = await last();
  const r = await ctx.transport.exec(cmd('docker', 'exec', container, 'redis-cli', 'BGSAVE'), { sudo });
  if (r.code !== 0)
    throw new StepError(
      'redis-save-failed',
      `${host}: redis-cli BGSAVE in ${container} failed: ${r.stderr.trim() || r.stdout.trim()}`,
      'Check the Redis container (docker logs), then run migrate again.',
    );
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    if ((await last()) !== before) return;
    await sleep(200);
  }
  throw new StepError(
    'redis-save-failed',
    `${host}: Redis in ${container} did not finish BGSAVE within 10 minutes`,
    'Check its disk and logs, then run migrate again.',
  );
}

/** A Compose or Docker call on services that failed: its last lines, redacted. */
function commandFailed(ctx: StepContext, side: Side, what: string, services: string[], stderr: string): StepError {
  return new StepError(
    'compose-failed',
    `${side.name}: ${what} ${services.join(' ')} failed: ${ctx.redactor.redact(stderr.trim().split('\n').slice(-3).join(' / '))}`,
    'Read the error; fix the server, then run migrate again (--resume).',
  );
}

export function servicesStateStep(o: ServicesStateOptions): Step {
  const sudo = o.side.sudo;
  let changed: string[] = [];
  const containers = (ctx: StepContext) => projectContainers(ctx.transport, o.release.project, sudo);
  const differingIn = (cs: Container[]) =>
    o.services.filter((s) => {
      const running = cs.some((c) => c.service === s && c.status === 'running');
      return o.want === 'stopped' ? running : !running;
    });
  const graceOf = (service: string) => o.release.services.find((s) => s.name === service)?.stopGrace;
  const start = async (ctx: StepContext, services: string[]) => {
    const c = call(o.stack, o.release, await composeFlavor(ctx.transport, sudo));
    const r = await ctx.transport.exec(compose(c, 'up', '-d', '--no-deps', ...services), {
      sudo,
      timeoutMs: 10 * 60_000,
    });
    if (r.code !== 0) throw commandFailed(ctx, o.side, 'compose up', services, r.stderr);
  };
  // `docker stop` on the containers, each service with its grace period, all at once: as
  // `compose stop` does, without starting Compose (this is the write freeze's first step).
  const stop = async (ctx: StepContext, services: string[], cs: Container[]) => {
    const byGrace = new Map<number | undefined, string[]>();
    for (const c of cs.filter((x) => services.includes(x.service) && x.status === 'running')) {
      const grace = graceOf(c.service);
      byGrace.set(grace, [...(byGrace.get(grace) ?? []), c.name]);
    }
    const results = await Promise.all(
      [...byGrace].map(([grace, names]) =>
        ctx.transport.exec(stopCommand({ stopGrace: grace }, names), { sudo, timeoutMs: 10 * 60_000 }),
      ),
    );
    const bad = results.find((r) => r.code !== 0);
    if (bad) throw commandFailed(ctx, o.side, 'docker stop', services, bad.stderr);
  };
  return {
    id: o.id,
    host: o.side.name,
    phase: o.phase,
    title: o.title,
    dependsOn: o.dependsOn,
    doc: () => {
      const c = call(o.stack, o.release, 'plugin');
      const stopLine = (s: string) =>
        `${render(stopCommand({ stopGrace: graceOf(s) }, []))} $(${render(cmd('docker', 'ps', '-q', '--filter', `label=com.docker.compose.project=${o.release.project}`, '--filter', `label=com.docker.compose.service=${s}`))})`;
      return {
        purpose: `${o.title}.`,
        commands:
          o.want === 'stopped'
            ? o.services.map(stopLine)
            : [render(compose(c, 'up', '-d', '--no-deps', ...o.services))],
        verify: o.want === 'stopped' ? 'No container of these services runs.' : 'Their containers run and are healthy.',
        undo: o.want === 'stopped' ? 'Start them again.' : 'Stop them again.',
      };
    },
    async check(ctx) {
      const d = differingIn(await containers(ctx));
      return d.length === 0
        ? { needed: false }
        : {
            needed: true,
            change: { summary: `${o.want === 'stopped' ? 'stop' : 'start'} ${d.join(', ')} on ${o.side.name}` },
          };
    },
    async apply(ctx) {
      o.onApply?.();
      const cs = await containers(ctx);
      changed = differingIn(cs);
      if (o.want === 'running') return start(ctx, changed);
      for (const s of changed.filter((x) => (o.redis ?? []).includes(x))) {
        for (const c of cs.filter((x) => x.service === s && x.status === 'running'))
          await redisSave(ctx, c.name, sudo, o.side.name);
      }
      await stop(ctx, changed, cs);
    },
    async verify(ctx) {
      if (o.want === 'running') {
        const r = await waitReady(ctx.transport, {
          project: o.release.project,
          sudo,
          timeoutMs: o.healthTimeoutMs ?? 120_000,
          only: (c) => o.services.includes(c.service),
          expect: o.services,
          httpChecks: [],
        });
        return r.ok ? { ok: true } : { ok: false, message: r.problems.join('; ') };
      }
      const left = differingIn(await containers(ctx));
      return left.length === 0 ? { ok: true } : { ok: false, message: `still running: ${left.join(', ')}` };
    },
    async rollback(ctx) {
      if (changed.length === 0) return;
      if (o.want === 'stopped') await start(ctx, changed);
      else await stop(ctx, changed, await containers(ctx));
    },
  };
}

/**
 * The target's containers created, not started, before the pause (`up --no-start`), so that
 * the start inside it only starts them. Rollback removes the ones it created.
 */
export function createStep(o: {
  id: string;
  stack: string;
  side: Side;
  release: ReleaseMeta;
  services: string[];
  dependsOn: string[];
}): Step {
  const sudo = o.side.sudo;
  let created: string[] = [];
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
      undo: 'Remove the containers it created (never started).',
    }),
    async check(ctx) {
      const m = await missing(ctx);
      return m.length === 0 ? { needed: false } : { needed: true, change: { summary: `create ${m.join(', ')}` } };
    },
    async apply(ctx) {
      created = await missing(ctx);
      const r = await ctx.transport.exec(
        compose(call(o.stack, o.release, await composeFlavor(ctx.transport, sudo)), ...args(created)),
        { sudo, timeoutMs: 10 * 60_000 },
      );
      if (r.code !== 0) throw commandFailed(ctx, o.side, 'compose up --no-start', created, r.stderr);
    },
    async verify(ctx) {
      const m = await missing(ctx);
      return m.length === 0 ? { ok: true } : { ok: false, message: `no container for ${m.join(', ')}` };
    },
    async rollback(ctx) {
      const cs = await projectContainers(ctx.transport, o.release.project, sudo);
      const ids = cs.filter((c) => created.includes(c.service) && c.status === 'created').map((c) => c.id);
      if (ids.length > 0) await ctx.transport.exec(cmd('docker', 'rm', ...ids), { sudo });
    },
  };
}
