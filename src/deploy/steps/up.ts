/**
 * Starting a release: point `current` at it and bring the project up with the server's
 * Compose, then wait until every container is ready and every HTTP check passes.
 *
 * Services behind the proxy that can run twice (no fixed container name, no published
 * port, a healthcheck) are swapped without downtime: a new container starts beside the
 * old, must become healthy, nginx is switched to it by reload, then the old one stops.
 * A new container that never becomes healthy is removed and the old one keeps serving.
 *
 * `rollback` points `current` back at the previous release and brings it up again (or,
 * on a first deploy, stops the project, keeping its volumes).
 */
import { cmd, render, script, seq, type Command } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import type { HttpCheckDef } from '../../model/fleet.js';
import type { Service } from '../../model/compose.js';
import { parseDuration } from '../../compose/normalize/duration.js';
import type { Transport } from '../../transport/transport.js';
import { compose, releaseCall, type ComposeCall, type ComposeFlavor, type ReleaseRef } from '../compose-cli.js';
import { isReady, projectContainers, type Container } from '../containers.js';
import { currentLink, historyFile } from '../layout.js';
import { composeFlavor } from './engine.js';
import { waitReady } from './health.js';
import { imageIds } from '../../engine/steps/images.js';
import { currentCommand, idOfLink, readReleaseMeta } from '../release-meta.js';

export type { ReleaseRef };

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

/** `stop_grace_period` in whole seconds, when the service sets one Compose can read. */
export function stopGraceOf(svc: Service): Pick<ServicePlan, 'stopGrace'> {
  const v = svc.raw.stop_grace_period;
  const ms = typeof v === 'string' ? parseDuration(v) : typeof v === 'number' ? v * 1000 : undefined;
  return ms === undefined || ms < 0 ? {} : { stopGrace: Math.ceil(ms / 1000) };
}

/** `docker stop` with the service's grace period: what `compose stop` would give it. */
export const stopCommand = (s: Pick<ServicePlan, 'stopGrace'> | undefined, ids: string[]): Command =>
  cmd('docker', 'stop', '-t', String(s?.stopGrace ?? 10), ...ids);

export type SwitchUpstream = (ctx: StepContext, service: string, containers: Container[]) => Promise<void>;

export interface UpStepOptions {
  id: string;
  host: string;
  stack: string;
  project: string;
  release: ReleaseRef;
  services: ServicePlan[];
  healthTimeoutMs: number;
  httpChecks: HttpCheckDef[];
  sudo: boolean;
  dependsOn: string[];
  switchUpstream?: SwitchUpstream;
  /** After a rollback brought the previous release up: nginx pointed at its containers. */
  refreshUpstreams?: (ctx: StepContext) => Promise<void>;
  title?: string;
}

/** `current` replaced atomically (a new link renamed over it), and the switch appended to `history`. */
export function switchCommand(stack: string, id: string): Command {
  const tmp = `${currentLink(stack)}.new`;
  return seq(
    cmd('ln', '-sfn', `releases/${id}`, tmp),
    cmd('mv', '-T', tmp, currentLink(stack)),
    script(`printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >> "$2"`, id, historyFile(stack)),
  );
}

const call = (o: { stack: string; project: string; release: ReleaseRef }, flavor: ComposeFlavor): ComposeCall =>
  releaseCall(o.stack, o.project, o.release, flavor);

async function must(
  t: Transport,
  c: Command,
  sudo: boolean,
  host: string,
  what: string,
  redact: (s: string) => string,
  timeoutMs = 10 * 60_000,
): Promise<string> {
  const r = await t.exec(c, { sudo, timeoutMs });
  if (r.code !== 0) {
    const tail = redact(r.stderr.trim().split('\n').slice(-4).join(' / '));
    throw new StepError(
      'compose-failed',
      `${host}: ${what} failed (exit ${r.code}): ${tail}`,
      'Read the error above; `ferry runs show` has the whole run. Fix the compose file or the server, then run apply again.',
    );
  }
  return r.stdout;
}

/** `service -> config hash` as the release's compose computes it. */
async function configHashes(ctx: StepContext, o: UpStepOptions, c: ComposeCall): Promise<Map<string, string>> {
  const out = await must(ctx.transport, compose(c, 'config', '--hash=*'), o.sudo, o.host, 'compose config', (s) =>
    ctx.redactor.redact(s),
  );
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+([0-9a-f]{64})\s*$/.exec(line);
    if (m) map.set(m[1]!, m[2]!);
  }
  return map;
}

/** What differs between the running containers and the release, per service; empty when in step. */
async function drift(ctx: StepContext, o: UpStepOptions, c: ComposeCall): Promise<string[]> {
  const hashes = await configHashes(ctx, o, c);
  const containers = await projectContainers(ctx.transport, o.project, o.sudo);
  const images = await imageIds(ctx.transport, [...new Set(containers.map((x) => x.imageName))], o.sudo);
  const out: string[] = [];
  for (const s of o.services) {
    const mine = containers.filter((x) => x.service === s.name);
    if (mine.length < s.replicas) out.push(`${s.name}: ${mine.length} of ${s.replicas} containers`);
    else if (mine.some((x) => x.configHash !== hashes.get(s.name))) out.push(`${s.name}: configuration changed`);
    else if (mine.some((x) => images.get(x.imageName) !== undefined && images.get(x.imageName) !== x.image))
      out.push(`${s.name}: image changed`);
    else if (mine.some((x) => !isReady(x) && !(s.oneShot && x.status === 'exited' && x.exitCode === 0)))
      out.push(`${s.name}: not running or not healthy`);
  }
  const known = new Set(o.services.map((s) => s.name));
  for (const x of containers) if (!known.has(x.service)) out.push(`${x.service}: no longer in the release (removed)`);
  return [...new Set(out)];
}

export function upStep(o: UpStepOptions): Step {
  let previous: string | undefined;
  let flavor: ComposeFlavor = 'plugin';
  let switched = false;
  const redact = (ctx: StepContext) => (s: string) => ctx.redactor.redact(s);

  const swapService = async (ctx: StepContext, c: ComposeCall, s: ServicePlan, hashes: Map<string, string>) => {
    const old = (await projectContainers(ctx.transport, o.project, o.sudo)).filter((x) => x.service === s.name);
    if (old.length === 0 || old.every((x) => x.configHash === hashes.get(s.name) && isReady(x))) return false;
    const oldIds = new Set(old.map((x) => x.id));
    await must(
      ctx.transport,
      compose(c, 'up', '-d', '--no-deps', '--no-recreate', '--scale', `${s.name}=${old.length + s.replicas}`, s.name),
      o.sudo,
      o.host,
      `starting new ${s.name} beside the old`,
      redact(ctx),
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
    await o.switchUpstream!(ctx, s.name, ready.containers);
    await must(ctx.transport, stopCommand(s, [...oldIds]), o.sudo, o.host, `stopping the old ${s.name}`, redact(ctx));
    await must(
      ctx.transport,
      cmd('docker', 'rm', ...oldIds),
      o.sudo,
      o.host,
      `removing the old ${s.name}`,
      redact(ctx),
    );
    return true;
  };

  return {
    id: o.id,
    host: o.host,
    phase: 'deploy',
    title: o.title ?? `start release ${o.release.id}`,
    dependsOn: o.dependsOn,
    doc: () => {
      const c = call(o, 'plugin');
      const swaps = o.services.filter((s) => s.swap && o.switchUpstream);
      return {
        purpose: `Make release ${o.release.id} the current one and bring project ${o.project} up${swaps.length > 0 ? `; swap ${swaps.map((s) => s.name).join(', ')} without downtime (new container beside the old, healthy, nginx switched by reload, old one stopped)` : ''}.`,
        commands: [
          render(switchCommand(o.stack, o.release.id)),
          render(compose(c, 'up', '-d', '--remove-orphans')),
          ...swaps.map((s) =>
            render(
              compose(c, 'up', '-d', '--no-deps', '--no-recreate', '--scale', `${s.name}=${2 * s.replicas}`, s.name),
            ),
          ),
        ],
        verify: `Every container of ${o.project} running and healthy within ${Math.round(o.healthTimeoutMs / 1000)} s${o.httpChecks.length > 0 ? `, and ${o.httpChecks.map((h) => `GET ${h.service}:${h.port}${h.path}`).join(', ')} answering 2xx/3xx` : ''}.`,
        undo: 'Point current back at the previous release and bring it up again (on a first deploy: stop the project; volumes are kept).',
      };
    },
    async check(ctx) {
      switched = false;
      const cur = await ctx.transport.exec(currentCommand(o.stack), { sudo: o.sudo });
      previous = cur.code === 0 ? idOfLink(cur.stdout) : undefined;
      if (previous !== o.release.id) {
        return {
          needed: true,
          change: {
            summary: `current ${previous ?? '(none)'} -> ${o.release.id}; up`,
            before: previous ?? '(none)',
            after: o.release.id,
          },
        };
      }
      flavor = await composeFlavor(ctx.transport, o.sudo);
      const diffs = await drift(ctx, o, call(o, flavor));
      return diffs.length === 0 ? { needed: false } : { needed: true, change: { summary: `up: ${diffs.join('; ')}` } };
    },
    async apply(ctx) {
      flavor = await composeFlavor(ctx.transport, o.sudo);
      const c = call(o, flavor);
      if (previous !== o.release.id) {
        await must(
          ctx.transport,
          switchCommand(o.stack, o.release.id),
          o.sudo,
          o.host,
          `switching ${currentLink(o.stack)}`,
          redact(ctx),
        );
        switched = true;
      }
      const swaps = o.switchUpstream ? o.services.filter((s) => s.swap) : [];
      const rest = o.services.filter((s) => !swaps.includes(s));
      const running = await projectContainers(ctx.transport, o.project, o.sudo);
      const swapNow = swaps.filter((s) => running.some((x) => x.service === s.name && x.status === 'running'));
      if (swapNow.length === 0) {
        await must(
          ctx.transport,
          compose(c, 'up', '-d', '--remove-orphans'),
          o.sudo,
          o.host,
          'compose up',
          redact(ctx),
        );
        return;
      }
      const hashes = await configHashes(ctx, o, c);
      const others = [...rest, ...swaps.filter((s) => !swapNow.includes(s))];
      if (others.length > 0)
        await must(
          ctx.transport,
          compose(c, 'up', '-d', '--remove-orphans', ...others.map((s) => s.name)),
          o.sudo,
          o.host,
          'compose up',
          redact(ctx),
        );
      for (const s of swapNow) await swapService(ctx, c, s, hashes);
    },
    async verify(ctx) {
      const r = await waitReady(ctx.transport, {
        project: o.project,
        sudo: o.sudo,
        timeoutMs: o.healthTimeoutMs,
        expect: o.services.filter((s) => s.replicas > 0).map((s) => s.name),
        oneShot: o.services.filter((s) => s.oneShot).map((s) => s.name),
        httpChecks: o.httpChecks,
      });
      return r.ok
        ? { ok: true }
        : { ok: false, message: `release ${o.release.id} is not ready: ${r.problems.join('; ')}` };
    },
    async rollback(ctx) {
      if (!switched) return;
      if (previous) {
        await must(
          ctx.transport,
          switchCommand(o.stack, previous),
          o.sudo,
          o.host,
          `switching back to ${previous}`,
          redact(ctx),
        );
        const meta = await readReleaseMeta(ctx.transport, o.stack, previous, o.sudo);
        const prev = call(
          { stack: o.stack, project: o.project, release: meta ?? { ...o.release, id: previous } },
          flavor,
        );
        await must(
          ctx.transport,
          compose(prev, 'up', '-d', '--remove-orphans'),
          o.sudo,
          o.host,
          `compose up of release ${previous}`,
          redact(ctx),
        );
        // Containers recreated by the failed release have new addresses.
        await o.refreshUpstreams?.(ctx);
      } else {
        await ctx.transport.exec(cmd('rm', '-f', currentLink(o.stack)), { sudo: o.sudo });
        await must(
          ctx.transport,
          compose(call(o, flavor), 'down', '--remove-orphans'),
          o.sudo,
          o.host,
          'compose down',
          redact(ctx),
        );
      }
    },
  };
}
