/**
 * The cut-over at the edge: the source's nginx sends the stack's routes to the target's
 * nginx, so that clients still resolving the old address are served by the target while
 * DNS changes. The marker `migrated-to` on the source keeps `ferry apply` from deploying
 * there again by mistake and tells `ferry rollback` where the stack went.
 */
import { cmd, quiet } from '../../shell/command.js';
import { withPlace, type Phase, type Step, type StepContext } from '../../engine/step.js';
import { stackDir } from '../../deploy/layout.js';
import { renderUpstreams, upstreamsOf } from '../../proxy/render-upstreams.js';
import { upstreamsPath } from '../../proxy/names.js';
import { nginxFileStep } from '../../proxy/nginx-file.js';
import type { StackDef } from '../../model/fleet.js';
import type { Migration } from '../context.js';

/** How many times the source's nginx tries the target for one request. */
export const HELD_TRIES = 20;

export const markerPath = (stack: string): string => `${stackDir(stack)}/migrated-to`;

/** Every upstream of the stack pointed at the target's nginx (port 80; the Host header selects the site there). */
export function switchStep(o: {
  id: string;
  m: Pick<Migration, 'ch' | 'source' | 'target'>;
  stack: StackDef;
  dependsOn: string[];
  /** Default `proxy`; `deploy` when the switch is inside a replicated cut-over's pause. */
  phase?: Phase;
}) {
  const proxy = o.stack.proxy;
  if (!proxy) return undefined;
  const addresses = Object.fromEntries(
    upstreamsOf(o.stack.name, proxy.routes).map((u) => [u.name, [`${o.m.ch.target.address}:80`]]),
  );
  const step = nginxFileStep({
    id: o.id,
    host: o.m.source.name,
    path: upstreamsPath(o.stack.name),
    // Listed 20 times (3 s connect timeout each): a request held during the cut-over is
    // tried again every 3 s for a minute, instead of after the kernel's 1, 3, 7, 15, 31 s.
    content: renderUpstreams(o.stack.name, proxy.routes, addresses, HELD_TRIES),
    sudo: o.m.source.sudo,
    dependsOn: o.dependsOn,
    title: `${o.m.source.name}'s nginx sends ${proxy.domains.join(', ')} to ${o.m.target.name}`,
  });
  return o.phase ? withPlace(step, { phase: o.phase }) : step;
}

/** On the source while a migration runs (written first, removed once `migrated-to` is): `ferry rollback` finds an unfinished one by it. */
export const movingPath = (stack: string): string => `${stackDir(stack)}/migrating-to`;

/** What the marker's check saw: what the file held (absent: no file), which rollback puts back. */
export interface MarkerObserved {
  previous?: string;
}

export function markerStep(o: {
  id: string;
  m: Pick<Migration, 'stack' | 'source' | 'target'>;
  dependsOn: string[];
  moving?: boolean;
}): Step<MarkerObserved> {
  const { m } = o;
  const path = o.moving ? movingPath(m.stack) : markerPath(m.stack);
  const text = `${m.target.name}\n`;
  const sudo = m.source.sudo;
  const read = async (ctx: StepContext) => {
    const r = await ctx.transport.exec(quiet(cmd('cat', path)), { sudo });
    return r.code === 0 ? r.stdout : undefined;
  };
  return {
    id: o.id,
    host: m.source.name,
    phase: o.moving ? 'prepare' : 'verify',
    title: o.moving
      ? `mark ${m.stack} on ${m.source.name} as moving to ${m.target.name}`
      : `mark ${m.stack} on ${m.source.name} as moved to ${m.target.name}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: o.moving
        ? `Write ${path} on ${m.source.name} before anything changes: should the run stop before its end, \`ferry rollback ${m.stack}\` knows where the stack was going and what to undo.`
        : `Write ${path} on ${m.source.name}: \`ferry apply\` then refuses to deploy the stack there again, and \`ferry rollback ${m.stack}\` knows where it went. The source's release, volumes and data stay, stopped, for the rollback window.`,
      commands: [`printf '${m.target.name}\\n' > ${path}`],
      verify: 'The file names the target.',
      undo: `rm -f ${path} (or its previous content put back)`,
    }),
    async check(ctx) {
      const now = await read(ctx);
      const prior = ctx.prior as MarkerObserved | undefined;
      // On --resume, what was there before the interrupted run wrote it.
      const previous = prior ? prior.previous : now;
      const observed = previous === undefined ? {} : { previous };
      return now === text
        ? { needed: false, observed }
        : { needed: true, change: { summary: `${path} = ${m.target.name}` }, observed };
    },
    async apply(ctx) {
      await ctx.transport.upload(path, text, { mode: 0o644, sudo });
    },
    async verify(ctx) {
      return (await read(ctx)) === text ? { ok: true } : { ok: false, message: 'marker not written' };
    },
    async rollback(ctx, { previous }) {
      if (previous !== undefined && previous !== text)
        await ctx.transport.upload(path, previous, { mode: 0o644, sudo });
      else await ctx.transport.exec(cmd('rm', '-f', path), { sudo, check: true });
    },
  };
}
