/**
 * The steps of `ferry migrate STACK --to SERVER`, in order. Dump mode:
 *
 *   prepare   preflight on the target; the channel source -> target
 *   transfer  the release and images on the target; its volumes; a first copy while running;
 *             its databases started, its other containers created, its nginx and site
 *   deploy    writers frozen on the source; the final copy; the target's databases filled
 *             by dump; the proof; the stack started on the target (health checks), its
 *             nginx pointed at the containers
 *   proxy     the source's nginx sends the domains to the target
 *   verify    the source's databases stopped; the channel closed; the source marked as moved
 *
 * Replicate mode moves the databases while the stack runs (publish, schema, a tunnel,
 * subscribe: copied and streaming), so that the pause is only the cut-over: requests held
 * at the target, the source's nginx pointed there, writers stopped, the final copy, the
 * last changes confirmed and the sequences set, the proof, the target started and its
 * nginx pointed at it, and the held requests released to it.
 *
 * The source keeps its release, volumes and data, stopped. A failure rolls back what
 * was changed, last first, so the source serves again.
 */
import type { Step } from '../engine/step.js';
import type { AcmeDef, DnsDef, ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import type { Transport } from '../transport/transport.js';
import { stackPlan } from '../deploy/plan.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { upStep } from '../deploy/steps/up.js';
import { proxyLink, upstreamsStep } from '../deploy/proxy-link.js';
import { channelFor, channelSteps, type Endpoint } from './channel.js';
import { markServing, sideOf, type Migration } from './context.js';
import { databases, REDIS_IMAGE } from './postgres.js';
import { preflightStep } from './steps/preflight.js';
import { createStep, servicesStateStep } from './steps/services.js';
import { dumpStep } from './steps/dump.js';
import { verifyStep, type VerifyOptions } from './steps/verify.js';
import { markerStep, movingPath, switchStep } from './steps/switch.js';
import { removeStep } from './steps/remove.js';
import { syncStep, volumeMountpoint, type VolumeCopy } from './volumes.js';
import { ensureVolumesStep } from './steps/ensure-volumes.js';
import { replicateSteps } from './plan-replicate.js';
import { Secret } from '../core/secret.js';
import { dnsSteps } from './steps/dns.js';
import { serverAddresses } from './dns.js';
import type { DnsPreflight } from './dns-preflight.js';

/** What every move starts from: the stack, both servers and how to reach them, the release the source runs. */
export interface MoveInput {
  stack: LoadedStack;
  source: ServerDef;
  target: ServerDef;
  sourceEndpoint: Endpoint;
  targetEndpoint: Endpoint;
  sourceRelease: ReleaseMeta;
  transports: (server: string) => Transport;
  local: Transport;
}

/** What the steps of a move share, before any of them ran: `o` says what moves, and where to. */
export function newMigration(
  i: MoveInput,
  o: Pick<Migration, 'release' | 'databases' | 'volumes' | 'redis' | 'mode'>,
): Migration {
  const project = i.stack.project!;
  return {
    stack: i.stack.def.name,
    project: project.name,
    source: sideOf(i.source, i.transports),
    target: sideOf(i.target, i.transports),
    ch: channelFor(i.stack.def.name, i.sourceEndpoint, i.targetEndpoint),
    sourceRelease: i.sourceRelease,
    ...o,
    passwords: Object.fromEntries(
      o.databases.map((d) => [
        d.service,
        new Secret(project.services.find((s) => s.name === d.service)?.environment.POSTGRES_PASSWORD ?? ''),
      ]),
    ),
    marks: { startedAt: Date.now(), bytes: 0, tables: [], volumes: [] },
  };
}

export interface MigratePlanInput extends MoveInput {
  acme?: AcmeDef;
  mode: 'dump' | 'replicate';
  dns?: DnsDef;
}

/** Inside the pause, once the target's stack runs: its nginx sends the domains to the started containers. */
function proxyRefresh(i: MigratePlanInput, m: Migration, id: (s: string) => string): Step | undefined {
  const def = i.stack.def;
  if (!def.proxy) return undefined;
  const step = upstreamsStep({
    id: id('upstreams'),
    host: i.target.name,
    stack: def,
    project: m.release.project,
    sudo: m.target.sudo,
    dependsOn: [id('start')],
    title: `${i.target.name}'s nginx sends ${def.proxy.domains.join(', ')} to the started containers`,
  });
  step.phase = 'deploy';
  return step;
}

export async function migratePlan(i: MigratePlanInput): Promise<{ steps: Step[]; m: Migration; dns?: DnsPreflight }> {
  const project = i.stack.project!;
  const name = i.stack.def.name;
  const dbs = databases(project.services);
  const dbVolumes = new Set(dbs.flatMap((d) => d.volumes));
  const volumes = Object.values(project.volumes)
    .filter((v) => !v.external)
    .map((v) => v.name)
    .filter((v) => !dbVolumes.has(v));
  const deploy = await stackPlan({ stack: i.stack, server: i.target, local: i.local });
  const m = newMigration(i, {
    release: deploy.meta,
    databases: dbs,
    volumes,
    redis: project.services.filter((s) => s.image && REDIS_IMAGE.test(s.image)).map((s) => s.name),
    mode: i.mode,
  });
  const ch = m.ch;
  const id = (s: string) => `${name}/migrate/${s}`;
  const dbServices = dbs.map((d) => d.service);
  const others = project.services.filter((s) => !dbServices.includes(s.name) && s.replicas > 0).map((s) => s.name);
  const dockerVolumes = Object.values(project.volumes)
    .filter((v) => !v.external)
    .map((v) => `${i.sourceRelease.project}_${v.name}`);

  const domains = i.stack.def.proxy?.domains ?? [];
  const dns =
    domains.length > 0
      ? await dnsSteps({
          stack: name,
          domains,
          id,
          host: i.target.name,
          local: i.local,
          cutoverDependsOn: [],
          ...(i.dns ? { dns: i.dns } : {}),
          source: { name: i.source.name, addresses: await serverAddresses(i.sourceEndpoint.address) },
          target: { name: i.target.name, addresses: await serverAddresses(i.targetEndpoint.address) },
        })
      : undefined;
  // Every step depends on the preflight, which waits for the DNS one: nothing changes before both pass.
  const pre = preflightStep({ id: id('preflight'), m, services: project.services, dockerVolumes });
  if (dns) pre.dependsOn = [...pre.dependsOn, dns.preflight.id];
  const steps: Step[] = [...(dns ? [dns.preflight] : []), pre];
  const { open, close } = channelSteps({
    ch,
    source: m.source.transport,
    target: m.target.transport,
    dependsOn: [id('preflight')],
  });
  open.id = id('channel');
  close.id = id('channel-close');
  steps.push(open);
  const fromDeploy = deploy.steps.filter((s) => /\/(engine|images|release)$/.test(s.id));
  for (const s of fromDeploy) s.dependsOn = [...s.dependsOn, id('preflight')];
  steps.push(...fromDeploy);
  const transferred = fromDeploy.map((s) => s.id);

  steps.push(
    ensureVolumesStep({
      id: id('volumes'),
      m,
      volumes: Object.values(project.volumes)
        .filter((v) => !v.external)
        .map((v) => v.name),
      dependsOn: [id('preflight'), ...transferred.filter((x) => x.endsWith('/engine'))],
    }),
  );

  const copies = async (): Promise<VolumeCopy[]> => {
    const out: VolumeCopy[] = [];
    for (const v of volumes) {
      const full = `${project.name}_${v}`;
      out.push({
        name: v,
        sourcePath: await volumeMountpoint(m.source.transport(), `${i.sourceRelease.project}_${v}`, m.source.sudo),
        targetPath: await volumeMountpoint(m.target.transport(), full, m.target.sudo),
      });
    }
    return out;
  };
  const addBytes = (n: number) => (m.marks.bytes += n);
  if (volumes.length > 0) {
    steps.push(
      syncStep({
        id: id('precopy'),
        ch,
        copies,
        source: m.source.transport,
        target: m.target.transport,
        phase: 'transfer',
        dependsOn: [id('channel'), id('volumes')],
        title: `first copy of ${volumes.join(', ')} while the stack runs`,
        onBytes: addBytes,
      }),
    );
  }
  // The target's other containers created before the pause: the start in it only starts them.
  const created = deploy.meta.services.filter((s) => s.replicas > 0 && !dbServices.includes(s.name)).map((s) => s.name);
  const afterTransfer = [id('channel'), id('volumes'), ...transferred, ...(volumes.length > 0 ? [id('precopy')] : [])];
  const dbStarted = [...afterTransfer, ...(dbs.length > 0 ? [id('target-db')] : [])];
  // After the database's start: two Compose runs at once on a new project race to create its network.
  if (created.length > 0)
    steps.push(
      createStep({
        id: id('create'),
        stack: name,
        side: m.target,
        release: m.release,
        services: created,
        dependsOn: dbStarted,
      }),
    );
  // The target's nginx and the stack's site before the pause (its upstreams name no container
  // yet: nginx answers 502 there until the switch); inside it, only the upstreams' refresh.
  const proxy = i.stack.def.proxy
    ? proxyLink({
        stack: { ...i.stack.def, proxy: { ...i.stack.def.proxy, tls: 'none' } },
        project: project.name,
        host: i.target.name,
        sudo: m.target.sudo,
        dependsOn: afterTransfer,
      })
    : undefined;
  for (const s of proxy?.steps ?? []) {
    s.phase = 'transfer';
    steps.push(s);
  }
  const beforePause = [
    ...dbStarted,
    ...(created.length > 0 ? [id('create')] : []),
    ...(proxy?.steps ?? []).map((s) => s.id),
  ];
  steps.push(
    servicesStateStep({
      id: id('freeze'),
      stack: name,
      redis: m.redis,
      side: m.source,
      release: i.sourceRelease,
      services: others,
      want: 'stopped',
      phase: 'deploy',
      dependsOn: beforePause,
      title: `stop the writers on ${i.source.name} (${others.join(', ') || 'none'})`,
      onApply: () => (m.marks.freezeAt ??= Date.now()),
    }),
  );
  if (volumes.length > 0) {
    steps.push(
      syncStep({
        id: id('final-copy'),
        ch,
        copies,
        source: m.source.transport,
        target: m.target.transport,
        phase: 'deploy',
        dependsOn: [id('freeze')],
        title: `final copy of ${volumes.join(', ')}, writers stopped`,
        onBytes: addBytes,
      }),
    );
  }
  const frozen = [id('freeze'), ...(volumes.length > 0 ? [id('final-copy')] : [])];
  if (dbs.length > 0) {
    // Started before the freeze, so that its start is not part of the write pause.
    steps.push(
      servicesStateStep({
        id: id('target-db'),
        stack: name,
        side: m.target,
        release: m.release,
        services: dbServices,
        want: 'running',
        phase: 'transfer',
        dependsOn: afterTransfer,
        title: `start ${dbServices.join(', ')} on ${i.target.name}`,
      }),
    );
  }
  const refresh = proxyRefresh(i, m, id);
  const start = (dependsOn: string[]) =>
    upStep({
      id: id('start'),
      host: i.target.name,
      stack: name,
      project: project.name,
      release: deploy.meta,
      services: deploy.meta.services,
      healthTimeoutMs: i.stack.def.deploy.healthTimeoutMs,
      httpChecks: i.stack.def.deploy.httpChecks,
      sudo: m.target.sudo,
      dependsOn,
      title: `start ${name} on ${i.target.name}`,
    });
  const switched = switchStep({ id: id('switch'), m, stack: i.stack.def, dependsOn: [] });
  const verify = (dependsOn: string[], snapshot?: VerifyOptions['snapshot']) =>
    verifyStep({ id: id('verify'), m, copies, dependsOn, ...(snapshot ? { snapshot } : {}) });
  const stopSourceDb = (dependsOn: string[]) =>
    servicesStateStep({
      id: id('stop-source-db'),
      stack: name,
      side: m.source,
      release: i.sourceRelease,
      services: dbServices,
      want: 'stopped',
      phase: 'verify',
      dependsOn,
      title: `stop ${dbServices.join(', ')} on ${i.source.name} (kept, with its data, for rollback)`,
    });
  let served: string[];
  if (i.mode === 'replicate') {
    served = replicateSteps({
      i,
      m,
      id,
      steps,
      dbs,
      frozen,
      beforePause,
      proxy: refresh ? [refresh] : [],
      switched,
      verify,
      start,
      stopSourceDb,
    });
  } else {
    if (dbs.length > 0)
      for (const d of dbs)
        steps.push(
          dumpStep({ id: id(`dump/${d.service}`), m, d, dependsOn: [...frozen, id('target-db'), id('channel')] }),
        );
    steps.push(verify([...frozen, ...dbs.map((d) => id(`dump/${d.service}`))]));
    steps.push(start([id('verify')]));
    if (refresh) steps.push(refresh);
    if (switched) {
      switched.dependsOn = [id('start'), ...(refresh ? [refresh.id] : [])];
      steps.push(switched);
    }
    // Writes are served again once clients reach the target: through the source's nginx when there is one.
    markServing(switched ?? steps.find((s) => s.id === id('start'))!, m);
    served = [id('start'), ...(refresh ? [refresh.id] : []), ...(switched ? [switched.id] : [])];
    if (dbs.length > 0) steps.push(stopSourceDb(served));
  }
  for (const s of dns?.cutover ?? []) {
    s.dependsOn = served;
    steps.push(s);
  }
  close.dependsOn = [...served, ...(dbs.length > 0 ? [id('stop-source-db')] : [])];
  steps.push(close);
  steps.push(
    markerStep({
      id: id('mark'),
      m,
      dependsOn: [...served, ...(i.mode === 'replicate' && dbs.length > 0 ? [id('proof')] : [])],
    }),
  );
  steps.push(
    removeStep({
      id: id('moved'),
      host: i.source.name,
      path: movingPath(name),
      sudo: m.source.sudo,
      dependsOn: [id('mark')],
    }),
  );
  // Written before anything else changes: every step that waits for the preflight waits for it too.
  const moving = {
    ...markerStep({ id: id('moving'), m, moving: true, dependsOn: [id('preflight')] }),
    recordOnly: true,
  };
  for (const s of steps) if (s.dependsOn.includes(id('preflight'))) s.dependsOn.push(moving.id);
  steps.push(moving);
  return { steps, m, ...(dns ? { dns: dns.seen } : {}) };
}
