/**
 * Starting a release: point `current` at it and bring the project up with the server's
 * Compose, then wait until every container is ready and every HTTP check passes (at most
 * the stack's `health_timeout`).
 *
 * Services behind the proxy that can run twice (no fixed container name, no published
 * port, a healthcheck) are swapped without downtime: a new container starts beside the
 * old, must become healthy, nginx is switched to it by reload, then the old one stops.
 * A new container that never becomes healthy is removed and the old one keeps serving.
 *
 * `rollback` points `current` back at the previous release and brings it up again (or,
 * on a first deploy, stops the project, keeping its volumes), when `current` points at
 * this release and this step switched it: it reads `current` again, so that an apply
 * killed before or after the switch is undone alike.
 */
import { cmd, render, script, seq, type Command } from '../../shell/command.js';
import type { Step, StepContext } from '../../engine/step.js';
import type { HttpCheckDef } from '../../model/fleet.js';
import type { Service } from '../../model/compose.js';
import { parseDuration } from '../../compose/normalize/duration.js';
import { runTool } from '../../tools/run.js';
import { compose, releaseCall, type ComposeCall, type ReleaseRef } from '../compose-cli.js';
import { isReady, projectContainers } from '../containers.js';
import { currentLink, historyFile } from '../layout.js';
import { composeFlavor } from './engine.js';
import { passingNow, waitReady } from './health.js';
import { imageIds } from '../../engine/steps/images.js';
import { currentCommand, idOfLink, readReleaseMeta } from '../release-meta.js';
import { runOwn } from './failure.js';
import { expectedHashes, readHashRecord, recordOf, writeHashRecord } from '../config-hashes.js';
import { swapService, type ServicePlan, type SwitchUpstream, type SwapOptions } from './swap.js';

export type { ReleaseRef };
export type { ServicePlan, SwitchUpstream };

/** `stop_grace_period` in whole seconds, when the service sets one Compose can read. */
export function stopGraceOf(svc: Service): Pick<ServicePlan, 'stopGrace'> {
  const v = svc.raw.stop_grace_period;
  const ms = typeof v === 'string' ? parseDuration(v) : typeof v === 'number' ? v * 1000 : undefined;
  return ms === undefined || ms < 0 ? {} : { stopGrace: Math.ceil(ms / 1000) };
}

export { stopCommand } from './swap.js';

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

/** What the check of `up` saw. */
export interface UpObserved {
  /**
   * The release `current` pointed at before this step first switched it; absent on a first
   * deploy. On `--resume` it is the killed run's (`ctx.prior`): that run may have switched
   * `current` already, so reading it again would give this release.
   */
  previous?: string;
  /** `current` pointed at another release than this one when checked: apply switches it. */
  switchCurrent: boolean;
}

/** Compose commands may pull and start slowly; they get this long. */
const COMPOSE_TIMEOUT_MS = 10 * 60_000;

/** `current` replaced atomically (a new link renamed over it), and the switch appended to `history`. */
export function switchCommand(stack: string, id: string): Command {
  const tmp = `${currentLink(stack)}.new`;
  return seq(
    cmd('ln', '-sfn', `releases/${id}`, tmp),
    cmd('mv', '-T', tmp, currentLink(stack)),
    script(`printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >> "$2"`, id, historyFile(stack)),
  );
}

const SWITCH_HINT =
  'Check free disk space and permissions on the server (the SSH user needs root or sudo: true), then run apply again.';

/** The release `current` points at on the host now. */
async function currentId(ctx: StepContext, o: UpStepOptions): Promise<string | undefined> {
  const cur = await ctx.transport.exec(currentCommand(o.stack), { sudo: o.sudo });
  return cur.code === 0 ? idOfLink(cur.stdout) : undefined;
}

/** Compose on this step's release, with the server's Compose (found once per connection). */
async function releaseCompose(ctx: StepContext, o: UpStepOptions, release = o.release): Promise<ComposeCall> {
  return releaseCall(o.stack, o.project, release, await composeFlavor(ctx.transport, o.sudo));
}

/** `replay`: an `up`, run again when the container runtime fails to set a container up (see replay.ts). */
const composeRun = (ctx: StepContext, o: UpStepOptions, c: Command, what: string, replay = false) =>
  runTool(ctx, 'compose', c, { what, sudo: o.sudo, timeoutMs: COMPOSE_TIMEOUT_MS, replay });

/** `service -> config hash` as the release's compose computes it, corrected by the record of the last `up` (config-hashes.ts). */
export async function configHashes(ctx: StepContext, o: UpStepOptions, c: ComposeCall): Promise<Map<string, string>> {
  return expectedHashes(await composeHashes(ctx, o, c), await readHashRecord(ctx, o.stack, o.release.id, o.sudo));
}

/** What `compose config --hash` prints. */
async function composeHashes(ctx: StepContext, o: UpStepOptions, c: ComposeCall): Promise<Map<string, string>> {
  const out = await composeRun(ctx, o, compose(c, 'config', '--hash=*'), 'compose config');
  const map = new Map<string, string>();
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+([0-9a-f]{64})\s*$/.exec(line);
    if (m) map.set(m[1]!, m[2]!);
  }
  return map;
}

/** After an `up`: the labels Compose wrote, beside what `config --hash` says, for the next check. */
async function recordHashes(ctx: StepContext, o: UpStepOptions, c: ComposeCall): Promise<void> {
  const containers = await projectContainers(ctx.transport, o.project, o.sudo);
  await writeHashRecord(ctx, o.stack, o.release.id, recordOf(await composeHashes(ctx, o, c), containers), o.sudo);
}

/** What differs between the running containers and the release, per service; empty when in step. */
async function drift(ctx: StepContext, o: UpStepOptions, c: ComposeCall): Promise<string[]> {
  const hashes = await configHashes(ctx, o, c);
  const containers = await projectContainers(ctx.transport, o.project, o.sudo);
  const images = await imageIds(ctx.transport, [...new Set(containers.map((x) => x.imageName))], o.sudo);
  // As the verify counts it: a container still `starting` whose own health test passes now is ready.
  const now = await passingNow(ctx.transport, containers, o.sudo);
  const out: string[] = [];
  for (const s of o.services) {
    const mine = containers.filter((x) => x.service === s.name);
    if (mine.length < s.replicas) out.push(`${s.name}: ${mine.length} of ${s.replicas} containers`);
    else if (mine.some((x) => x.configHash !== hashes.get(s.name))) out.push(`${s.name}: configuration changed`);
    else if (mine.some((x) => images.get(x.imageName) !== undefined && images.get(x.imageName) !== x.image))
      out.push(`${s.name}: image changed`);
    else if (
      mine.some((x) => !isReady(x) && !now.has(x.id) && !(s.oneShot && x.status === 'exited' && x.exitCode === 0))
    )
      out.push(`${s.name}: not running or not healthy`);
  }
  const known = new Set(o.services.map((s) => s.name));
  for (const x of containers) if (!known.has(x.service)) out.push(`${x.service}: no longer in the release (removed)`);
  return [...new Set(out)];
}

/** Every service up: at once, or (with a proxy) the swappable running ones beside their old containers. */
async function bringUp(ctx: StepContext, o: UpStepOptions, c: ComposeCall): Promise<void> {
  const swaps = o.switchUpstream ? o.services.filter((s) => s.swap) : [];
  const rest = o.services.filter((s) => !swaps.includes(s));
  const running = await projectContainers(ctx.transport, o.project, o.sudo);
  const swapNow = swaps.filter((s) => running.some((x) => x.service === s.name && x.status === 'running'));
  if (swapNow.length === 0) {
    await composeRun(ctx, o, compose(c, 'up', '-d', '--remove-orphans'), 'compose up', true);
    return;
  }
  const hashes = await configHashes(ctx, o, c);
  const others = [...rest, ...swaps.filter((s) => !swapNow.includes(s))];
  if (others.length > 0)
    await composeRun(
      ctx,
      o,
      compose(c, 'up', '-d', '--remove-orphans', ...others.map((s) => s.name)),
      'compose up',
      true,
    );
  const swap: SwapOptions = { ...o, switchUpstream: o.switchUpstream!, timeoutMs: COMPOSE_TIMEOUT_MS };
  for (const s of swapNow) await swapService(ctx, swap, c, s, hashes);
}

/** Back to `previous` (its own files, from its metadata), or, on a first deploy, the project stopped. */
async function undo(ctx: StepContext, o: UpStepOptions, previous: string | undefined): Promise<void> {
  if (previous) {
    const what = `switching back to ${previous}`;
    await runOwn(ctx, switchCommand(o.stack, previous), {
      sudo: o.sudo,
      what,
      code: 'release-write-failed',
      hint: SWITCH_HINT,
    });
    const meta = await readReleaseMeta(ctx.transport, o.stack, previous, o.sudo);
    const prev = await releaseCompose(ctx, o, meta ?? { ...o.release, id: previous });
    await composeRun(ctx, o, compose(prev, 'up', '-d', '--remove-orphans'), `compose up of release ${previous}`, true);
    // Containers recreated by the failed release have new addresses: nginx is pointed at them
    // once they answer (within the health timeout; after it, all the same), not while they start.
    await waitReady(ctx.transport, {
      project: o.project,
      sudo: o.sudo,
      timeoutMs: o.healthTimeoutMs,
      expect: (meta?.services ?? o.services).filter((x) => x.replicas > 0).map((x) => x.name),
      oneShot: (meta?.services ?? o.services).filter((x) => x.oneShot).map((x) => x.name),
      httpChecks: o.httpChecks,
    });
    await o.refreshUpstreams?.(ctx);
  } else {
    await ctx.transport.exec(cmd('rm', '-f', currentLink(o.stack)), { sudo: o.sudo });
    await composeRun(ctx, o, compose(await releaseCompose(ctx, o), 'down', '--remove-orphans'), 'compose down');
  }
}

function upDoc(o: UpStepOptions) {
  const c = releaseCall(o.stack, o.project, o.release, 'plugin');
  const swaps = o.services.filter((s) => s.swap && o.switchUpstream);
  const swapText =
    swaps.length > 0
      ? `; swap ${swaps.map((s) => s.name).join(', ')} without downtime (new container beside the old, healthy within ${Math.round(o.healthTimeoutMs / 1000)} s, nginx switched by reload and its old workers given at most 30 s to finish, old one stopped)`
      : '';
  const http = o.httpChecks.map((h) => `GET ${h.service}:${h.port}${h.path}`).join(', ');
  return {
    purpose: `Make release ${o.release.id} the current one and bring project ${o.project} up${swapText}.`,
    commands: [
      render(switchCommand(o.stack, o.release.id)),
      render(compose(c, 'up', '-d', '--remove-orphans')),
      ...swaps.map((s) =>
        render(compose(c, 'up', '-d', '--no-deps', '--no-recreate', '--scale', `${s.name}=${2 * s.replicas}`, s.name)),
      ),
    ],
    verify: `Every container of ${o.project} running and healthy within ${Math.round(o.healthTimeoutMs / 1000)} s${o.httpChecks.length > 0 ? `, and ${http} answering 2xx/3xx` : ''}.`,
    undo: 'Point current back at the previous release and bring it up again (on a first deploy: stop the project; volumes are kept).',
  };
}

export function upStep(o: UpStepOptions): Step<UpObserved> {
  return {
    id: o.id,
    host: o.host,
    phase: 'deploy',
    title: o.title ?? `start release ${o.release.id}`,
    dependsOn: o.dependsOn,
    doc: () => upDoc(o),
    async check(ctx) {
      const now = await currentId(ctx, o);
      const prior = ctx.prior as UpObserved | undefined;
      const previous = prior ? prior.previous : now;
      const observed: UpObserved = { ...(previous ? { previous } : {}), switchCurrent: now !== o.release.id };
      if (now !== o.release.id) {
        const change = {
          summary: `current ${now ?? '(none)'} -> ${o.release.id}; up`,
          before: now ?? '(none)',
          after: o.release.id,
        };
        return { needed: true, change, observed };
      }
      const diffs = await drift(ctx, o, await releaseCompose(ctx, o));
      return diffs.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: `up: ${diffs.join('; ')}` }, observed };
    },
    async apply(ctx, observed) {
      const c = await releaseCompose(ctx, o);
      if (observed.switchCurrent) {
        const what = `switching ${currentLink(o.stack)}`;
        await runOwn(ctx, switchCommand(o.stack, o.release.id), {
          sudo: o.sudo,
          what,
          code: 'release-write-failed',
          hint: SWITCH_HINT,
        });
      }
      await bringUp(ctx, o, c);
      await recordHashes(ctx, o, c);
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
        : {
            ok: false,
            message: `release ${o.release.id} is not ready${r.final ? '' : ` within ${Math.round(o.healthTimeoutMs / 1000)} s`}: ${r.problems.join('; ')}`,
          };
    },
    async rollback(ctx, observed) {
      // Only a switch this step made is undone: `current` still (or already) at an earlier release needs nothing.
      if (observed.previous === o.release.id) return;
      if ((await currentId(ctx, o)) !== o.release.id) return;
      await undo(ctx, o, observed.previous);
    },
  };
}
