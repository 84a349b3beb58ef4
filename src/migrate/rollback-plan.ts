/**
 * Undoing a migration within the rollback window: the source, kept stopped with its data,
 * serves again (its services started, its nginx sending the domains to its own
 * containers), the target's services stop (their data stays), and the markers go.
 * Writes made on the target since the cut-over are not carried back: the report says so.
 */
import type { Step } from '../engine/step.js';
import type { ServerDef, StackDef } from '../model/fleet.js';
import type { Transport } from '../transport/transport.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { upstreamsStep } from '../deploy/proxy-link.js';
import { sideOf } from './context.js';
import { servicesStateStep } from './steps/services.js';
import { markerPath, movingPath } from './steps/switch.js';
import { reportPath } from './report.js';
import { removeStep } from './steps/remove.js';
import { leftoverSteps, type LeftoversInput } from './rollback-replica.js';

export interface RollbackInput {
  stack: StackDef;
  source: ServerDef;
  target: ServerDef;
  sourceRelease: ReleaseMeta;
  targetRelease?: ReleaseMeta;
  transports: (server: string) => Transport;
  /** What an unfinished replicated migration may have left (see rollback-replica.ts). */
  leftovers?: Omit<LeftoversInput, 'stack' | 'source' | 'target' | 'sourceProject' | 'targetProject' | 'dependsOn'>;
}

export function migrationRollbackSteps(i: RollbackInput): Step[] {
  const src = sideOf(i.source, i.transports);
  const tgt = sideOf(i.target, i.transports);
  const stack = i.stack.name;
  const id = (s: string) => `${i.stack.name}/unmigrate/${s}`;
  const all = i.sourceRelease.services.filter((s) => s.replicas > 0).map((s) => s.name);
  const steps: Step[] = [
    servicesStateStep({
      id: id('start-source'),
      stack,
      side: src,
      release: i.sourceRelease,
      services: all,
      want: 'running',
      phase: 'deploy',
      dependsOn: [],
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
