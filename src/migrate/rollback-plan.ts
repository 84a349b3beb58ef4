/**
 * Undoing a migration within the rollback window: first what the target wrote since its
 * data came into use is carried back to the source and proven equal (write-back), then the
 * source, kept stopped with its data, serves again (its services started, its nginx
 * sending the domains to its own containers), the target's services stop (their data
 * stays), and the markers go. With `discard`, the target's writes are left behind.
 */
import type { Step, StepContext } from '../engine/step.js';
import type { ServerDef, StackDef } from '../model/fleet.js';
import type { Transport } from '../transport/transport.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { upstreamsStep } from '../deploy/proxy-link.js';
import { servicesStateStep } from './steps/services.js';
import { inContainers } from './db-container.js';
import { markerPath, movingPath } from './steps/switch.js';
import { reportPath } from './report.js';
import { removeStep } from './steps/remove.js';
import { leftoverSteps, type LeftoversInput } from './rollback-replica.js';
import { sideOf, type Migration, type Side } from './context.js';
import { livePath } from './live.js';
import type { VolumeCopy } from './volumes.js';
import { writeBackStep } from './steps/write-back.js';

export interface RollbackInput {
  stack: StackDef;
  source: ServerDef;
  target: ServerDef;
  sourceRelease: ReleaseMeta;
  targetRelease?: ReleaseMeta;
  transports: (server: string) => Transport;
  /** What an unfinished replicated migration may have left (see rollback-replica.ts). */
  leftovers?: Omit<LeftoversInput, 'stack' | 'source' | 'target' | 'sourceProject' | 'targetProject' | 'dependsOn'>;
  /**
   * The move as the write-back sees it (the target's release must be known); absent when the
   * target's writes are discarded (`--discard-target-writes`) or it has no release.
   */
  writeBack?: { m: Migration; copies: (ctx: StepContext) => Promise<VolumeCopy[]> };
}

export function migrationRollbackSteps(i: RollbackInput): Step[] {
  const src = sideOf(i.source, i.transports);
  const tgt = sideOf(i.target, i.transports);
  const stack = i.stack.name;
  const id = (s: string) => `${i.stack.name}/unmigrate/${s}`;
  const all = i.sourceRelease.services.filter((s) => s.replicas > 0).map((s) => s.name);
  const back = writeBackSteps(i, id, src);
  const steps: Step[] = [
    ...back,
    servicesStateStep({
      id: id('start-source'),
      stack,
      side: src,
      release: i.sourceRelease,
      services: all,
      want: 'running',
      phase: 'deploy',
      dependsOn: back.length > 0 ? [id('write-back')] : [],
      title: `start ${i.stack.name} again on ${i.source.name}`,
    }),
  ];
  if (i.stack.proxy) {
    const proxy = i.stack.proxy;
    steps.push(
      upstreamsStep({
        id: id('upstreams'),
        host: i.source.name,
        stack: i.stack,
        project: i.sourceRelease.project,
        sudo: src.sudo,
        dependsOn: [id('start-source')],
        title: `${i.source.name}'s nginx sends ${proxy.domains.join(', ')} to its own containers again`,
      }),
    );
  }
  const served = steps.map((s) => s.id);
  // The target's data is no longer the one in use (carried back, or discarded).
  steps.push(
    removeStep({ id: id('live'), host: i.target.name, path: livePath(stack), sudo: tgt.sudo, dependsOn: served }),
  );
  if (i.targetRelease) {
    const tAll = i.targetRelease.services.map((s) => s.name);
    steps.push(
      servicesStateStep({
        id: id('stop-target'),
        stack,
        side: tgt,
        release: i.targetRelease,
        services: tAll,
        want: 'stopped',
        phase: 'verify',
        dependsOn: served,
        title: `stop ${i.stack.name} on ${i.target.name} (its data stays)`,
      }),
    );
  }
  if (i.leftovers) {
    steps.push(
      ...leftoverSteps({
        ...i.leftovers,
        stack,
        source: src,
        target: tgt,
        sourceProject: i.sourceRelease.project,
        dependsOn: [id('start-source')],
        ...(i.targetRelease ? { targetProject: i.targetRelease.project } : {}),
      }),
    );
  }
  steps.push(
    removeStep({
      id: id('marker'),
      host: i.source.name,
      path: markerPath(i.stack.name),
      sudo: src.sudo,
      dependsOn: served,
    }),
  );
  steps.push(
    removeStep({
      id: id('moving'),
      host: i.source.name,
      path: movingPath(i.stack.name),
      sudo: src.sudo,
      dependsOn: served,
    }),
  );
  steps.push(
    removeStep({
      id: id('report'),
      host: i.target.name,
      path: reportPath(i.stack.name),
      sudo: tgt.sudo,
      dependsOn: served,
    }),
  );
  return steps;
}

/**
 * Before the source serves: its databases started (a finished migration stopped them), so that
 * the write-back's check compares both sides and refuses before anything on the target
 * changes; then the target's writes carried back. None when they are discarded.
 */
function writeBackSteps(i: RollbackInput, id: (s: string) => string, src: Side): Step[] {
  if (!i.writeBack) return [];
  // A database kept in the source's own Postgres has no container to start: it runs.
  const dbServices = inContainers(i.writeBack.m, 'source');
  return [
    ...(dbServices.length > 0
      ? [
          servicesStateStep({
            id: id('source-db'),
            stack: i.stack.name,
            side: src,
            release: i.sourceRelease,
            services: dbServices,
            want: 'running',
            phase: 'deploy',
            dependsOn: [],
            title: `start ${dbServices.join(', ')} on ${i.source.name} (its data as at the move), to compare`,
          }),
        ]
      : []),
    writeBackStep({
      id: id('write-back'),
      m: i.writeBack.m,
      copies: i.writeBack.copies,
      dependsOn: dbServices.length > 0 ? [id('source-db')] : [],
    }),
  ];
}
