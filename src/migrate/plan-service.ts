/**
 * `ferry migrate STACK --service SERVICE --to SERVER`: one Postgres service of a stack
 * moved, with its database, to another server (a database server), the rest of the stack
 * staying where it is. The end state is the stack deployed with the service placed there
 * (`stacks.NAME.services.SERVICE.server`, see deploy/split.ts), so that `ferry apply`
 * with that line in ferry.yml finds nothing to change.
 *
 *   prepare   preflight on the target; the channel source -> target
 *   transfer  on the target: Docker, the image, the service's own release, its volumes,
 *             the firewall (its port on the private address, only the stack's server let
 *             in), the service started (empty)
 *   deploy    the writers stopped on the source; the database dumped straight into the
 *             target; the proof; the stack's new release on the source (its references
 *             pointing at the target), which removes the service's container there (its
 *             volume and data stay, for rollback); every service that named it reaches it
 *   verify    the channel closed
 *
 * A marker on the source (`migrating-to`) names the target from the start until the source
 * runs the new release: `ferry rollback` undoes a move stopped before that point.
 *
 * The write pause runs from the writers' stop to the new release being healthy.
 */
import { withPlace, type Step } from '../engine/step.js';
import { UsageError } from '../core/errors.js';
import { healthInPauseMs, type Fleet } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import type { Service } from '../model/compose.js';
import { stackPlan } from '../deploy/plan.js';
import type { PlacedPlan } from '../deploy/plan-placed.js';
import type { Placed } from '../deploy/split.js';
import { channelSteps } from './channel.js';
import { newMigration, type MoveInput } from './plan.js';
import type { Migration } from './context.js';
import { databases } from './postgres.js';
import { preflightStep } from './steps/preflight.js';
import { servicesStateStep } from './steps/services.js';
import { sourceProxyRefresh } from './source-proxy.js';
import { dumpStep } from './steps/dump.js';
import { verifyStep } from './steps/proof-in-pause.js';
import { ensureVolumesStep } from './steps/ensure-volumes.js';
import { connectedStep } from './steps/connected.js';
import { markerStep, movingPath } from './steps/switch.js';
import { removeStep } from './steps/remove.js';
import { doneOnceReleasedStep } from './steps/done-once-released.js';

export interface ServiceMoveInput extends MoveInput {
  service: string;
  fleet: Pick<Fleet, 'servers' | 'locate'>;
}

/** The stack as it is once the service has moved: placed on the target. */
export function withPlacement(stack: LoadedStack, service: string, server: string): LoadedStack {
  return {
    ...stack,
    def: {
      ...stack.def,
      placement: { ...(stack.def.placement ?? {}), [service]: { ...(stack.def.placement?.[service] ?? {}), server } },
    },
  };
}

export interface ServiceMovePlan {
  steps: Step[];
  m: Migration;
  /** The step whose verification is the moment the stack serves (and takes writes) again: its new release. */
  servedBy: string;
  /** The step whose apply begins the write pause: the writers' stop. */
  pauseBy: string;
}

/** The service as its own release on the target publishes it: on the private address, at its port. */
function publishedAt(svc: Service, p: Placed): Service {
  return {
    ...svc,
    ports: [
      {
        hostIp: p.address,
        published: p.port,
        publishedEnd: p.port,
        target: p.port,
        targetEnd: p.port,
        protocol: 'tcp' as const,
        index: 0,
      },
    ],
  };
}

export async function serviceMovePlan(i: ServiceMoveInput): Promise<ServiceMovePlan> {
  const name = i.stack.def.name;
  const project = i.stack.project!;
  const svc = project.services.find((s) => s.name === i.service);
  if (!svc)
    throw new UsageError(
      `--service ${i.service}: stack ${name} has no such service`,
      `Services: ${project.services.map((s) => s.name).join(', ')}.`,
      '--service',
    );
  const dbs = databases([svc]);
  if (dbs.length === 0)
    throw new UsageError(
      `--service ${i.service}: only a Postgres service can be moved alone (its image ${svc.image ?? '(none)'} is not one)`,
      `Move the whole stack instead: ferry migrate ${name} --to ${i.target.name}.`,
      '--service',
    );
  if (i.stack.def.serverPostgres?.includes(i.service))
    throw new UsageError(
      `--service ${i.service}: ${name}/${i.service} is kept in the Postgres installed on its server (server_postgres), not in a container that could move alone`,
      `Take server_postgres out of stacks/${name}/services/${i.service} to run it in a container first, or move the whole stack: ferry migrate ${name} --to SERVER.`,
      '--service',
    );
  const placedStack = withPlacement(i.stack, i.service, i.target.name);
  // The source's new release starts inside the pause: its health wait is bounded by migrate.max_pause too.
  const moved: LoadedStack = {
    ...placedStack,
    def: { ...placedStack.def, deploy: { ...placedStack.def.deploy, healthTimeoutMs: healthInPauseMs(i.stack.def) } },
  };
  const deploy = await stackPlan({ stack: moved, server: i.source, local: i.local, fleet: i.fleet });
  const part = deploy.parts[i.service]!;
  const m = newMigration(i, { release: part.meta, databases: dbs, volumes: [], redis: [], mode: 'dump' });
  const id = (s: string) => `${name}/migrate/${s}`;
  // Nothing changes before the preflight passes: every other step waits for it, and for the
  // `moving` marker written right after it.
  const gated = (dependsOn: string[]) => [
    ...dependsOn,
    ...(dependsOn.includes(id('preflight')) ? [] : [id('preflight')]),
    id('moving'),
  ];
  const placed = (s: Step, o: { phase?: Step['phase']; dependsOn?: string[] } = {}) =>
    withPlace(s, { ...o, dependsOn: gated(o.dependsOn ?? s.dependsOn) });
  const deployed = new Map(deploy.steps.map((s) => [s.id, s]));
  const byId = (x: string) => deployed.get(x)!;
  const { open, close } = channelSteps({
    ch: m.ch,
    openId: id('channel'),
    closeId: id('channel-close'),
    dependsOn: gated([id('preflight')]),
  });
  const upId = `${name}/up`;
  const steps: Step[] = [
    preflightStep({
      id: id('preflight'),
      m,
      services: [publishedAt(svc, part.placed)],
      dockerVolumes: dbs[0]!.volumes.map((v) => `${i.sourceRelease.project}_${v}`),
    }),
    open,
    ...targetSteps({ i, m, id, part, byId, placed }),
    ...pauseSteps({ i, m, id, part, placed, releaseId: deploy.meta.id }),
    // The rest of the stack on the source, pointed at the target: as `ferry apply` would deploy it.
    ...deploy.steps
      .filter((s) => s.host === i.source.name && !/\/prune$/.test(s.id))
      .map((s) =>
        s.id === upId
          ? {
              ...placed(s, { dependsOn: [...s.dependsOn.filter((x) => x !== part.upId), id('verify')] }),
              title: `start ${name} on ${i.source.name} with ${i.service} at ${part.placed.address}:${part.placed.port} (release ${deploy.meta.id})`,
            }
          : placed(s),
      ),
    connectedStep({
      id: id('connected'),
      host: i.source.name,
      stack: name,
      project: project.name,
      placed: part.placed,
      services: writersOf(i),
      sudo: m.source.sudo,
      dependsOn: gated([upId]),
    }),
    withPlace(close, { dependsOn: gated([upId, id('connected')]) }),
    // Until the source runs the new release, `ferry rollback` finds the unfinished move by
    // this marker (written before anything changes) and undoes it; once it runs it, rollback
    // returns to the previous release as after a finished move.
    removeStep({
      id: id('moved'),
      host: i.source.name,
      path: movingPath(name),
      sudo: m.source.sudo,
      dependsOn: gated([upId]),
    }),
    { ...markerStep({ id: id('moving'), m, moving: true, dependsOn: [id('preflight')] }), recordOnly: true },
  ];
  return { steps, m, servedBy: upId, pauseBy: id('freeze') };
}

type Place = (s: Step, o?: { phase?: Step['phase']; dependsOn?: string[] }) => Step;

const writersOf = (i: ServiceMoveInput): string[] =>
  i.stack.project!.services.filter((s) => s.name !== i.service && s.replicas > 0).map((s) => s.name);

/** The service's own release on the target, started empty before the pause. */
function targetSteps(o: {
  i: ServiceMoveInput;
  m: Migration;
  id: (s: string) => string;
  part: PlacedPlan;
  byId: (id: string) => Step;
  placed: Place;
}): Step[] {
  const { m, id, part, byId, placed } = o;
  const partIds = [part.engineId, ...(part.imagesId ? [part.imagesId] : []), part.releaseId, part.firewallId];
  const startDb = byId(part.upId);
  return [
    ...partIds.map((x) => placed(byId(x))),
    placed(
      ensureVolumesStep({
        id: id('volumes'),
        m,
        volumes: m.databases[0]!.volumes,
        dependsOn: [id('preflight'), part.engineId],
      }),
    ),
    placed(startDb, { phase: 'transfer', dependsOn: [...startDb.dependsOn, id('volumes')] }),
  ];
}

/**
 * The pause, from the writers' stop on the source: the database dumped into the target, the
 * proof. The stop and the dump are done for good once the source runs the new release.
 */
function pauseSteps(o: {
  i: ServiceMoveInput;
  m: Migration;
  id: (s: string) => string;
  part: PlacedPlan;
  placed: Place;
  releaseId: string;
}): Step[] {
  const { i, m, id, part, placed } = o;
  const writers = writersOf(i);
  const once = (step: Step) =>
    doneOnceReleasedStep({ step, stack: m.stack, source: m.source, releaseId: o.releaseId }) as Step;
  const freeze = servicesStateStep({
    id: id('freeze'),
    stack: m.stack,
    side: m.source,
    release: i.sourceRelease,
    services: writers,
    want: 'stopped',
    phase: 'deploy',
    dependsOn: [id('channel'), part.upId],
    title: `stop the writers on ${i.source.name} (${writers.join(', ') || 'none'})`,
    ...sourceProxyRefresh(i, m),
  });
  const dump = dumpStep({
    id: id(`dump/${i.service}`),
    m,
    d: m.databases[0]!,
    dependsOn: [id('freeze'), part.upId, id('channel')],
  });
  return [
    once(placed(freeze)),
    once(placed(dump)),
    placed(verifyStep({ id: id('verify'), m, copies: async () => [], dependsOn: [id(`dump/${i.service}`)] })),
  ];
}
