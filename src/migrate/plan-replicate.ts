/**
 * The steps of `ferry migrate --mode replicate` after the transfer (see plan.ts): the
 * databases replicated while the stack runs (a channel back from the target, publish,
 * schema, a tunnel, subscribe), then the pause: requests held at the target, the source's
 * nginx pointed there, the writers stopped, the final copy, the cut-over, the volumes'
 * proof and the tables' snapshot, the target started with its nginx, the held requests
 * released. After it: the tables' proof, the clean-up on the source, the channels closed.
 */
import { withPlace, type Step, type StepContext } from '../engine/step.js';
import type { Builders, Planning } from './plan.js';
import { channelFor, channelSteps } from './channel.js';
import type { Database } from './postgres.js';
import { dbContainer } from './db-container.js';
import { holdSteps } from './steps/hold.js';
import { proofStep, startProofs } from './steps/proof-snapshot.js';
import { cleanSourceStep, cutoverStep, publishStep, schemaStep, subscribeStep } from './steps/replicate.js';
import { firstAddress, tunnelSteps } from './tunnel.js';

export interface ReplicateInput {
  p: Planning;
  /** The freeze, and the final copy when there are volumes. */
  frozen: string[];
  /** Everything the pause waits for: the transfer, the target's database started, its other containers created. */
  beforePause: string[];
  b: Builders;
}

/**
 * What the freeze waits for in replicate mode: the pause begins once every database is
 * subscribed, and, with a proxy, once the source's nginx sends the requests to the target
 * (which holds them).
 */
export function replicaFreezeAfter(o: {
  id: (s: string) => string;
  dbs: Database[];
  beforePause: string[];
  proxied: boolean;
}): string[] {
  const { id } = o;
  return [...o.beforePause, ...o.dbs.map((d) => id(`subscribe/${d.service}`)), ...(o.proxied ? [id('switch')] : [])];
}

/** The reverse channel (target → source) the tunnels run through, and the tunnels' ends on both sides. */
function reverseChannel(p: Planning) {
  const { i, m, id, dbs } = p;
  // Found by the steps on the target (the channel's and the tunnels' host), which reach the source.
  const onSource = (d: Database) => (ctx: StepContext) =>
    dbContainer(ctx.on(m.source.name), m.source, i.sourceRelease.project, d.service);
  const onTarget = (d: Database) => (ctx: StepContext) =>
    dbContainer(ctx.on(m.target.name), m.target, m.release.project, d.service);
  const back = channelFor(`${m.stack}-replica`, i.targetEndpoint, i.sourceEndpoint);
  // Its open step runs on the target and reaches the source, where it reads the databases' addresses.
  const databaseAddresses = (ctx: StepContext) => {
    const source = ctx.on(m.source.name);
    return Promise.all(
      dbs.map(async (d) => `${await firstAddress(source, await onSource(d)(ctx), m.source.sudo)}:5432`),
    );
  };
  const { open, close } = channelSteps({
    ch: back,
    openId: id('replica-channel'),
    closeId: id('replica-channel-close'),
    title: `SSH channel ${i.target.name} → ${i.source.name} for replication, forwarding only to the database`,
    dependsOn: [id('preflight'), id('moving')],
    permitOpen: databaseAddresses,
  });
  return { back, onSource, onTarget, open, close };
}

/** Per database, while the stack runs: published, its schema on the target, a tunnel, subscribed; in the pause, its cut-over. */
function replicaSteps(p: Planning, frozen: string[], reverse: ReturnType<typeof reverseChannel>) {
  const { m, id } = p;
  return p.dbs.map((d) => {
    const at = (s: string) => id(`${s}/${d.service}`);
    const tunnel = tunnelSteps({
      id: at('tunnel'),
      ch: reverse.back,
      service: d.service,
      dependsOn: [id('replica-channel'), id('target-db'), at('publish')],
      targetContainer: reverse.onTarget(d),
      sourceContainer: reverse.onSource(d),
      // Closed once its database is cut over and the target serves.
      stopDependsOn: [at('cutover'), ...p.served],
    });
    const steps = [
      publishStep({ id: at('publish'), m, d, dependsOn: [id('preflight'), id('moving')] }),
      schemaStep({ id: at('schema'), m, d, dependsOn: [id('channel'), id('target-db'), at('publish')] }),
      tunnel.start,
      subscribeStep({ id: at('subscribe'), m, d, dependsOn: [at('tunnel'), at('schema')] }),
      cutoverStep({ id: at('cutover'), m, d, dependsOn: [...frozen, at('subscribe')] }),
    ];
    return { steps, stopTunnel: tunnel.stop };
  });
}

/** The steps after the transfer, in order; the pause runs from the hold (or the freeze, without a proxy) to its release. */
export function replicateSteps(r: ReplicateInput): Step[] {
  const { p, b } = r;
  const { m, id, dbs, served } = p;
  const reverse = reverseChannel(p);
  const replicas = replicaSteps(p, r.frozen, reverse);
  const subscribed = dbs.map((d) => id(`subscribe/${d.service}`));
  const proxy = b.refresh ? [b.refresh] : [];
  const held = b.refresh
    ? holdSteps({
        m,
        holdId: id('hold'),
        releaseId: id('unhold'),
        holdDependsOn: [...r.beforePause, ...subscribed],
        releaseDependsOn: [id('start'), ...proxy.map((s) => s.id)],
      })
    : undefined;
  const switched = held ? b.switchTo([id('hold')]) : undefined;
  // Volumes proven in the pause; the tables from a snapshot taken in it, read once the target serves.
  const cutovers = dbs.map((d) => id(`cutover/${d.service}`));
  const steps: Step[] = [
    ...(dbs.length > 0 ? [reverse.open] : []),
    ...replicas.flatMap((x) => x.steps),
    ...(held && switched ? [held.hold, withPlace(switched, { phase: 'deploy' })] : []),
    b.verify([...r.frozen, ...cutovers], dbs.length > 0 ? { start: (ctx) => startProofs(ctx, m) } : undefined),
    b.live([id('verify')]),
    b.start([id('live')]),
    ...proxy,
    ...(held ? [held.release] : []),
  ];
  if (dbs.length === 0) return steps;
  const tunnelsClosed = replicas.map((x) => x.stopTunnel);
  const cleaned = dbs.map((d) =>
    withPlace(
      cleanSourceStep({ id: id(`clean/${d.service}`), m, d, dependsOn: [...served, ...cutovers, id('proof')] }),
      { phase: 'verify' },
    ),
  );
  return [
    ...steps,
    proofStep({ id: id('proof'), m, dependsOn: served }),
    ...tunnelsClosed,
    ...cleaned,
    b.stopSourceDb([...served, ...cleaned.map((s) => s.id)]),
    withPlace(reverse.close, {
      dependsOn: [id('replica-channel'), ...cutovers, ...tunnelsClosed.map((s) => s.id), ...served],
    }),
  ];
}
