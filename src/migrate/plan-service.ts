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
import type { Step, StepContext } from '../engine/step.js';
import { UsageError } from '../core/errors.js';
import type { Fleet } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { stackPlan } from '../deploy/plan.js';
import { currentCommand, idOfLink } from '../deploy/release-meta.js';
import { channelSteps } from './channel.js';
import { newMigration, type MoveInput } from './plan.js';
import { markServing, type Migration } from './context.js';
import { databases } from './postgres.js';
import { preflightStep } from './steps/preflight.js';
import { servicesStateStep } from './steps/services.js';
import { dumpStep } from './steps/dump.js';
import { verifyStep } from './steps/verify.js';
import { ensureVolumesStep } from './steps/ensure-volumes.js';
import { connectedStep } from './steps/connected.js';
import { markerStep, movingPath } from './steps/switch.js';
import { removeStep } from './steps/remove.js';

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

/** `step` checked as done once the source runs the new release: a resumed run does not stop the writers again. */
function doneOnceReleased(step: Step, m: Migration, releaseId: string): Step {
  const check = step.check.bind(step);
  step.check = async (ctx: StepContext) => {
    const cur = await m.source.transport().exec(currentCommand(m.stack), { sudo: m.source.sudo });
    return cur.code === 0 && idOfLink(cur.stdout) === releaseId ? { needed: false } : check(ctx);
  };
  return step;
}

export async function serviceMovePlan(i: ServiceMoveInput): Promise<{ steps: Step[]; m: Migration }> {
  const name = i.stack.def.name;
  const project = i.stack.project!;
  const svc = project.services.find((s) => s.name === i.service);
  if (!svc)
    throw new UsageError(
      `--service ${i.service}: stack ${name} has no such service`,
      `Services: ${project.services.map((s) => s.name).join(', ')}.`,
    );
  const dbs = databases([svc]);
  if (dbs.length === 0)
    throw new UsageError(
      `--service ${i.service}: only a Postgres service can be moved alone (its image ${svc.image ?? '(none)'} is not one)`,
      `Move the whole stack instead: ferry migrate ${name} --to ${i.target.name}.`,
    );
  const moved = withPlacement(i.stack, i.service, i.target.name);
  const deploy = await stackPlan({ stack: moved, server: i.source, local: i.local, fleet: i.fleet });
  const part = deploy.parts[i.service]!;
  const m = newMigration(i, { release: part.meta, databases: dbs, volumes: [], redis: [], mode: 'dump' });
  const ch = m.ch;
  const id = (s: string) => `${name}/migrate/${s}`;
  const byId = (x: string) => deploy.steps.find((s) => s.id === x)!;
  const steps: Step[] = [];
  const p = part.placed;
  const published = {
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
  steps.push(
    preflightStep({
      id: id('preflight'),
      m,
      services: [published],
      dockerVolumes: dbs[0]!.volumes.map((v) => `${i.sourceRelease.project}_${v}`),
    }),
  );
  const { open, close } = channelSteps({
    ch,
    source: m.source.transport,
    target: m.target.transport,
    dependsOn: [id('preflight')],
  });
  open.id = id('channel');
  close.id = id('channel-close');
  steps.push(open);

  // The service's own release on the target, started empty before the pause.
  const partIds = [part.engineId, ...(part.imagesId ? [part.imagesId] : []), part.releaseId, part.firewallId];
  for (const x of partIds) steps.push(byId(x));
  steps.push(
    ensureVolumesStep({ id: id('volumes'), m, volumes: dbs[0]!.volumes, dependsOn: [id('preflight'), part.engineId] }),
  );
  const startDb = byId(part.upId);
  startDb.phase = 'transfer';
  startDb.dependsOn = [...startDb.dependsOn, id('volumes')];
  steps.push(startDb);

  const writers = project.services.filter((s) => s.name !== i.service && s.replicas > 0).map((s) => s.name);
  const freeze = servicesStateStep({
    id: id('freeze'),
    stack: name,
    side: m.source,
    release: i.sourceRelease,
    services: writers,
    want: 'stopped',
    phase: 'deploy',
    dependsOn: [id('channel'), part.upId],
    title: `stop the writers on ${i.source.name} (${writers.join(', ') || 'none'})`,
    onApply: () => (m.marks.freezeAt ??= Date.now()),
  });
  steps.push(doneOnceReleased(freeze, m, deploy.meta.id));
  const dump = dumpStep({
    id: id(`dump/${i.service}`),
    m,
    d: dbs[0]!,
    dependsOn: [id('freeze'), part.upId, id('channel')],
  });
  steps.push(doneOnceReleased(dump, m, deploy.meta.id));
  steps.push(verifyStep({ id: id('verify'), m, copies: async () => [], dependsOn: [id(`dump/${i.service}`)] }));

  // The rest of the stack on the source, pointed at the target: as `ferry apply` would deploy it.
  const main = deploy.steps.filter((s) => s.host === i.source.name && !/\/prune$/.test(s.id));
  const up = byId(`${name}/up`);
  up.dependsOn = [...up.dependsOn.filter((x) => x !== part.upId), id('verify')];
  up.title = `start ${name} on ${i.source.name} with ${i.service} at ${p.address}:${p.port} (release ${deploy.meta.id})`;
  markServing(up, m);
  steps.push(...main);
  steps.push(
    connectedStep({
      id: id('connected'),
      host: i.source.name,
      stack: name,
      project: project.name,
      placed: p,
      services: writers,
      sudo: m.source.sudo,
      dependsOn: [up.id],
    }),
  );
  close.dependsOn = [up.id, id('connected')];
  steps.push(close);
  // Until the source runs the new release, `ferry rollback` finds the unfinished move by
  // this marker (written before anything changes) and undoes it; once it runs it, rollback
  // returns to the previous release as after a finished move.
  steps.push(
    removeStep({
      id: id('moved'),
      host: i.source.name,
      path: movingPath(name),
      sudo: m.source.sudo,
      dependsOn: [up.id],
    }),
  );
  // Everything waits for the preflight: nothing changes before it passes.
  for (const s of steps)
    if (s.id !== id('preflight') && !s.dependsOn.includes(id('preflight'))) s.dependsOn.push(id('preflight'));
  const moving = {
    ...markerStep({ id: id('moving'), m, moving: true, dependsOn: [id('preflight')] }),
    recordOnly: true,
  };
  for (const s of steps) if (s.dependsOn.includes(id('preflight'))) s.dependsOn.push(moving.id);
  steps.push(moving);
  return { steps, m };
}
