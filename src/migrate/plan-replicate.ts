/**
 * The steps of `ferry migrate --mode replicate` after the transfer (see plan.ts): the
 * databases replicated while the stack runs (a channel back from the target, publish,
 * schema, a tunnel, subscribe), then the pause: requests held at the target, the source's
 * nginx pointed there, the writers stopped, the final copy, the cut-over, the volumes'
 * proof and the tables' snapshot, the target started with its nginx, the held requests
 * released. After it: the tables' proof, the clean-up on the source, the channels closed.
 */
import type { Step } from '../engine/step.js';
import type { MigratePlanInput } from './plan.js';
import { channelFor, channelSteps } from './channel.js';
import { markServing, type Migration } from './context.js';
import type { Database } from './postgres.js';
import { dbContainer } from './steps/dump.js';
import { holdSteps } from './steps/hold.js';
import { proofStep, startProofs } from './steps/proof.js';
import { cleanSourceStep, cutoverStep, publishStep, schemaStep, subscribeStep } from './steps/replicate.js';
import type { VerifyOptions } from './steps/verify.js';
import { firstAddress, tunnelSteps } from './tunnel.js';

export interface ReplicateInput {
  i: MigratePlanInput;
  m: Migration;
  id: (s: string) => string;
  /** The plan so far; the steps are added to it. */
  steps: Step[];
  dbs: Database[];
  /** The freeze, and the final copy when there are volumes. */
  frozen: string[];
  /** Everything the pause waits for: the transfer, the target's database started, its other containers created. */
  beforePause: string[];
  /** The target's nginx steps, and the switch of the source's (none without a proxy). */
  proxy: Step[];
  switched: Step | undefined;
  verify: (dependsOn: string[], snapshot?: VerifyOptions['snapshot']) => Step;
  start: (dependsOn: string[]) => Step;
  stopSourceDb: (dependsOn: string[]) => Step;
}

/** Adds the steps; returns those after which the target serves. */
export function replicateSteps(r: ReplicateInput): string[] {
  const { i, m, id, steps, dbs } = r;
  const onSource = (d: Database) => () =>
    dbContainer(m.source.transport(), m.source, i.sourceRelease.project, d.service);
  const onTarget = (d: Database) => () => dbContainer(m.target.transport(), m.target, m.release.project, d.service);
  const back = channelFor(`${m.stack}-replica`, i.targetEndpoint, i.sourceEndpoint);
  const reverse = channelSteps({
    ch: back,
    source: m.target.transport,
    target: m.source.transport,
    dependsOn: [id('preflight')],
    permitOpen: () =>
      Promise.all(
        dbs.map(async (d) => `${await firstAddress(m.source.transport(), await onSource(d)(), m.source.sudo)}:5432`),
      ),
  });
  reverse.open.id = id('replica-channel');
  reverse.close.id = id('replica-channel-close');
  reverse.open.title = `SSH channel ${i.target.name} → ${i.source.name} for replication, forwarding only to the database`;
  if (dbs.length > 0) steps.push(reverse.open);

  const subscribed: string[] = [];
  const tunnelsClosed: Step[] = [];
  for (const d of dbs) {
    const at = (s: string) => id(`${s}/${d.service}`);
    steps.push(publishStep({ id: at('publish'), m, d, dependsOn: [id('preflight')] }));
    steps.push(schemaStep({ id: at('schema'), m, d, dependsOn: [id('channel'), id('target-db'), at('publish')] }));
    const tunnel = tunnelSteps({
      id: at('tunnel'),
      ch: back,
      service: d.service,
      target: m.target.transport,
      source: m.source.transport,
      dependsOn: [id('replica-channel'), id('target-db'), at('publish')],
      targetContainer: onTarget(d),
      sourceContainer: onSource(d),
    });
    steps.push(tunnel.start);
    steps.push(subscribeStep({ id: at('subscribe'), m, d, dependsOn: [at('tunnel'), at('schema')] }));
    subscribed.push(at('subscribe'));
    steps.push(cutoverStep({ id: at('cutover'), m, d, dependsOn: [...r.frozen, at('subscribe')] }));
    tunnelsClosed.push(tunnel.stop);
  }

  // The pause: from the hold (or the freeze, without a proxy) to the release of the hold.
  const held = r.switched
    ? holdSteps({
        m,
        holdId: id('hold'),
        releaseId: id('unhold'),
        holdDependsOn: [...r.beforePause, ...subscribed],
        releaseDependsOn: [id('start'), ...r.proxy.map((s) => s.id)],
        onHold: () => (m.marks.freezeAt ??= Date.now()),
      })
    : undefined;
  if (held && r.switched) {
    r.switched.phase = 'deploy';
    r.switched.dependsOn = [id('hold')];
    steps.push(held.hold, r.switched);
  }
  const freeze = steps.find((s) => s.id === id('freeze'))!;
  freeze.dependsOn = [...r.beforePause, ...subscribed, ...(r.switched ? [r.switched.id] : [])];
  // Volumes proven in the pause; the tables from a snapshot taken in it, read once the target serves.
  const cutovers = dbs.map((d) => id(`cutover/${d.service}`));
  steps.push(
    r.verify([...r.frozen, ...cutovers], dbs.length > 0 ? { start: (ctx) => startProofs(ctx, m) } : undefined),
  );
  const start = r.start([id('verify')]);
  steps.push(start);
  for (const s of r.proxy) s.phase = 'deploy';
  steps.push(...r.proxy);
  if (held) steps.push(held.release);
  markServing(held?.release ?? start, m);
  const served = [id('start'), ...r.proxy.map((s) => s.id), ...(held ? [id('unhold')] : [])];
  if (dbs.length === 0) return served;

  steps.push(proofStep({ id: id('proof'), m, dependsOn: served }));
  for (const [k, s] of tunnelsClosed.entries()) {
    s.dependsOn = [cutovers[k]!, ...served];
    steps.push(s);
  }
  const cleaned = dbs.map((d) => {
    const clean = cleanSourceStep({
      id: id(`clean/${d.service}`),
      m,
      d,
      dependsOn: [...served, ...cutovers, id('proof')],
    });
    clean.phase = 'verify';
    steps.push(clean);
    return clean.id;
  });
  steps.push(r.stopSourceDb([...served, ...cleaned]));
  reverse.close.dependsOn = [id('replica-channel'), ...cutovers, ...tunnelsClosed.map((s) => s.id), ...served];
  steps.push(reverse.close);
  return served;
}
