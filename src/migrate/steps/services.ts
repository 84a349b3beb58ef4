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
import { projectContainers } from '../../deploy/containers.js';
import type { ReleaseMeta } from '../../deploy/release-meta.js';
import { composeFlavor } from '../../deploy/steps/engine.js';
import { waitReady } from '../../deploy/steps/health.js';
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

const call = (stack: string, r: ReleaseMeta, flavor: ComposeCall['flavor']): ComposeCall => releaseCall(stack, r.project, r, flavor);

/** BGSAVE, then wait until LASTSAVE moves: the RDB on disk holds everything written before the freeze. */
async function redisSave(ctx: StepContext, container: string, sudo: boolean, host: string): Promise<void> {
  const last = async () => (await ctx.transport.exec(cmd('docker', 'exec', container, 'redis-cli', 'LASTSAVE'), { sudo })).stdout.trim();
  const before = await last();
  const r = await ctx.transport.exec(cmd('docker', 'exec', container, 'redis-cli', 'BGSAVE'), { sudo });
  if (r.code !== 0) throw new StepError('redis-save-failed', `${host}: redis-cli BGSAVE in ${container} failed: ${r.stderr.trim() || r.stdout.trim()}`, 'Check the Redis container (docker logs), then run migrate again.');
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    if ((await last()) !== before) return;
    await sleep(200);
  }
  throw new StepError('redis-save-failed', `${host}: Redis in ${container} did not finish BGSAVE within 10 minutes`, 'Check its disk and logs, then run migrate again.');
}

export function servicesStateStep(o: ServicesStateOptions): Step {
  const sudo = o.side.sudo;
  let changed: string[] = [];
  const differing = async (ctx: StepContext) => {
    const cs = await projectContainers(ctx.transport, o.release.project, sudo);
    return o.services.filter((s) => {
      const running = cs.some((c) => c.service === s && c.status === 'running');
      return o.want === 'stopped' ? running : !running;
    });
  };
  const set = async (ctx: StepContext, services: string[], want: 'stopped' | 'running') => {
    const c = call(o.stack, o.release, await composeFlavor(ctx.transport, sudo));
    const args = want === 'stopped' ? ['stop', ...services] : ['up', '-d', '--no-deps', ...services];
    const r = await ctx.transport.exec(compose(c, ...args), { sudo, timeoutMs: 10 * 60_000 });
    if (r.code !== 0) throw new StepError('compose-failed', `${o.side.name}: compose ${args[0]} ${services.join(' ')} failed: ${ctx.redactor.redact(r.stderr.trim().split('\n').slice(-3).join(' / '))}`, 'Read the error; fix the server, then run migrate again (--resume).');
  };
  return {
    id: o.id,
    host: o.side.name,
    phase: o.phase,
    title: o.title,
    dependsOn: o.dependsOn,
    doc: () => {
      const c = call(o.stack, o.release, 'plugin');
      return {
        purpose: `${o.title}.`,
        commands: [render(compose(c, ...(o.want === 'stopped' ? ['stop', ...o.services] : ['up', '-d', '--no-deps', ...o.services])))],
        verify: o.want === 'stopped' ? 'No container of these services runs.' : 'Their containers run and are healthy.',
        undo: o.want === 'stopped' ? 'Start them again.' : 'Stop them again.',
      };
    },
    async check(ctx) {
      const d = await differing(ctx);
      return d.length === 0 ? { needed: false } : { needed: true, change: { summary: `${o.want === 'stopped' ? 'stop' : 'start'} ${d.join(', ')} on ${o.side.name}` } };
    },
    async apply(ctx) {
      o.onApply?.();
      changed = await differing(ctx);
      if (o.want === 'stopped') {
        const cs = await projectContainers(ctx.transport, o.release.project, sudo);
        for (const s of changed.filter((x) => (o.redis ?? []).includes(x))) {
          for (const c of cs.filter((x) => x.service === s && x.status === 'running')) await redisSave(ctx, c.name, sudo, o.side.name);
        }
      }
      await set(ctx, changed, o.want);
    },
    async verify(ctx) {
      if (o.want === 'running') {
        const r = await waitReady(ctx.transport, { project: o.release.project, sudo, timeoutMs: o.healthTimeoutMs ?? 120_000, only: (c) => o.services.includes(c.service), expect: o.services, httpChecks: [] });
        return r.ok ? { ok: true } : { ok: false, message: r.problems.join('; ') };
      }
      const left = await differing(ctx);
      return left.length === 0 ? { ok: true } : { ok: false, message: `still running: ${left.join(', ')}` };
    },
    async rollback(ctx) {
      if (changed.length > 0) await set(ctx, changed, o.want === 'stopped' ? 'running' : 'stopped');
    },
  };
}
