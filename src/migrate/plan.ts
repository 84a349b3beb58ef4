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
import { withPlace, type Step, type StepContext } from '../engine/step.js';
import { healthInPauseMs, maxPauseOf, type AcmeDef, type DnsDef, type ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import type { ComposeProject } from '../model/compose.js';
import type { Transport } from '../transport/transport.js';
import { stackPlan, type StackPlan } from '../deploy/plan.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { upStep } from '../deploy/steps/up.js';
import { upstreamsStep } from '../deploy/proxy-link.js';
import { channelFor, channelSteps, type Endpoint } from './channel.js';
import { sideOf, type Migration } from './context.js';
import { databases, isRedisImage, type Database } from './postgres.js';
import { servicesStateStep } from './steps/services.js';
import { dumpStep } from './steps/dump.js';
import { verifyStep, type VerifyOptions } from './steps/proof-in-pause.js';
import { liveStep } from './steps/live.js';
import { ancestors, doneOnceLive } from './live.js';
import { markerStep, movingPath, switchStep } from './steps/switch.js';
import { removeStep } from './steps/remove.js';
import { volumeMountpoint, type VolumeCopy } from './volumes.js';
import { replicaFreezeAfter, replicateSteps } from './plan-replicate.js';
import { pauseSteps, transferSteps } from './plan-transfer.js';
import { Secret } from '../core/secret.js';
import { FerryError } from '../core/errors.js';
import { atKeyPath, formatWhere } from '../core/finding.js';
import type { Locator } from '../model/compose.js';
import { servedDatabases } from '../deploy/server-postgres.js';
import { inContainers } from './db-container.js';
import { serverPostgresId } from '../deploy/steps/server-postgres.js';
import { dnsSteps } from './steps/dns.js';
import { serverAddresses } from './dns.js';
import type { DnsLookup } from './dns.js';
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
  /** Finds a key in ferry.yml, for errors. */
  locate?: Locator;
}

/** What the steps of a move share, before any of them ran: `o` says what moves, and where to. */
export function newMigration(
  i: MoveInput,
  o: Pick<Migration, 'release' | 'databases' | 'volumes' | 'redis' | 'mode'>,
): Migration {
  const project = i.stack.project!;
  const installed = servedDatabases(i.stack, i.target, i.locate);
  // Kept in the source's own Postgres: the release it runs has no container of them.
  const running = new Set(i.sourceRelease.services.map((s) => s.name));
  const sourceKept = (i.stack.def.serverPostgres ?? []).filter((s) => !running.has(s) && i.source.postgres);
  return {
    ...(installed.length > 0 ? { installed: Object.fromEntries(installed.map((d) => [d.service, d.postgres])) } : {}),
    ...(sourceKept.length > 0
      ? { sourceInstalled: Object.fromEntries(sourceKept.map((s) => [s, i.source.postgres!])) }
      : {}),
    stack: i.stack.def.name,
    project: project.name,
    source: sideOf(i.source, i.transports),
    target: sideOf(i.target, i.transports),
    ch: channelFor(i.stack.def.name, i.sourceEndpoint, i.targetEndpoint),
    sourceRelease: i.sourceRelease,
    maxPauseMs: maxPauseOf(i.stack.def),
    ...o,
    passwords: Object.fromEntries(
      o.databases.map((d) => [
        d.service,
        new Secret(project.services.find((s) => s.name === d.service)?.environment.POSTGRES_PASSWORD ?? ''),
      ]),
    ),
    marks: { startedAt: Date.now(), tables: [], volumes: [] },
  };
}

export interface MigratePlanInput extends MoveInput {
  acme?: AcmeDef;
  mode: 'dump' | 'replicate';
  dns?: DnsDef;
  /** How the domains' records are read (default: Node's resolver); tests answer from memory. */
  lookup?: DnsLookup;
  /** The fleet's servers: a Postgres on another server's host lets the target in before it starts. */
  servers?: Record<string, ServerDef>;
}

/** What the parts of a migration's plan share while it is built. */
export interface Planning {
  i: MigratePlanInput;
  m: Migration;
  id: (s: string) => string;
  deploy: StackPlan;
  dbs: Database[];
  /** Named volumes moved by copy (see Migration.volumes). */
  volumes: string[];
  copies: (ctx: StepContext) => Promise<VolumeCopy[]>;
  /** After these the target serves the stack again; the last is where writes are served again. */
  served: string[];
}

/** Steps built where the plan needs them, from the dependencies computed there. */
export interface Builders {
  verify: (dependsOn: string[], snapshot?: VerifyOptions['snapshot']) => Step;
  /** The target's data in use from here: written after the proof, right before the stack starts there. */
  live: (dependsOn: string[]) => Step;
  start: (dependsOn: string[]) => Step;
  stopSourceDb: (dependsOn: string[]) => Step;
  /** The source's nginx sent to the target's; none without a proxy. */
  switchTo: (dependsOn: string[]) => Step | undefined;
  /** Inside the pause, once the target's stack runs: its nginx sends the domains to the started containers. */
  refresh: Step | undefined;
}

export interface MigratePlan {
  steps: Step[];
  m: Migration;
  /** The step whose verification is the moment the stack serves (and takes writes) again. */
  servedBy: string;
  /** The step whose apply begins the write pause (the writers' stop, or the hold of requests). */
  pauseBy: string;
  dns?: DnsPreflight;
}

/** What a stack's move carries: its Postgres databases, its other named volumes (by copy), its Redis services. */
export function movedParts(project: ComposeProject): Pick<Migration, 'databases' | 'volumes' | 'redis'> {
  const dbs = databases(project.services);
  const dbVolumes = new Set(dbs.flatMap((d) => d.volumes));
  return {
    databases: dbs,
    volumes: Object.values(project.volumes)
      .filter((v) => !v.external)
      .map((v) => v.name)
      .filter((v) => !dbVolumes.has(v)),
    redis: project.services.filter((s) => isRedisImage(s.image)).map((s) => s.name),
  };
}

export async function migratePlan(i: MigratePlanInput): Promise<MigratePlan> {
  const parts = movedParts(i.stack.project!);
  refuseReplicaIntoServer(i);
  const { databases: dbs, volumes } = parts;
  const deploy = await stackPlan({
    stack: i.stack,
    server: i.target,
    local: i.local,
    ...(i.servers ? { servers: i.servers } : {}),
    ...(i.locate ? { locate: i.locate } : {}),
  });
  const m = newMigration(i, { release: deploy.meta, ...parts, mode: i.mode });
  const id = (s: string) => `${i.stack.def.name}/migrate/${s}`;
  // Writes are served again once clients reach the target: through the source's nginx when there
  // is one (switched to the target; in replicate mode, once the requests held at the target go on).
  const servedBy = id(i.stack.def.proxy ? (i.mode === 'replicate' ? 'unhold' : 'switch') : 'start');
  const served = [id('start'), ...(i.stack.def.proxy ? [id('upstreams'), servedBy] : [])];
  const p: Planning = {
    ...{ i, m, id, deploy, dbs, volumes, served },
    copies: volumeCopies(i, m, volumes),
  };
  const dns = await dnsOf(p);
  const channel = channelSteps({
    ch: m.ch,
    openId: id('channel'),
    closeId: id('channel-close'),
    dependsOn: [id('preflight'), id('moving')],
  });
  const transfer = transferSteps(p, channel.open, dns?.preflight.id);
  const b = builders(p);
  const pause = pauseSteps(
    p,
    transfer.afterTransfer,
    i.mode === 'replicate'
      ? replicaFreezeAfter({ id, dbs, beforePause: transfer.beforePause, proxied: i.stack.def.proxy !== undefined })
      : transfer.beforePause,
  );
  const moved =
    i.mode === 'replicate'
      ? replicateSteps({ p, frozen: pause.frozen, beforePause: transfer.beforePause, b })
      : dumpSteps(p, pause.frozen, b);
  const steps = [
    ...(dns ? [dns.preflight] : []),
    ...transfer.steps,
    ...pause.steps,
    ...moved,
    ...(dns?.cutover ?? []),
    ...endSteps(p, channel.close),
  ];
  // Everything before the target's data comes into use is done for good once it has.
  const beforeLive = ancestors(steps, id('live'));
  const pauseBy = id(i.mode === 'replicate' && i.stack.def.proxy ? 'hold' : 'freeze');
  return {
    steps: steps.map((s) => (beforeLive.has(s.id) ? doneOnceLive(s, m) : s)),
    m,
    servedBy,
    pauseBy,
    ...(dns ? { dns: dns.seen } : {}),
  };
}

/** Replication into the Postgres installed on the target is not built: such a database moves by dump. */
function refuseReplicaIntoServer(i: MigratePlanInput): void {
  const kept = i.stack.def.serverPostgres ?? [];
  if (i.mode !== 'replicate' || kept.length === 0) return;
  const server = [i.target, i.source].find((s) => s.postgres);
  if (!server) return;
  throw new FerryError(
    'replicate-unsupported',
    `stack ${i.stack.def.name}: ${kept.join(', ')} is kept in the Postgres installed on ${server.name} (server_postgres), which --mode replicate does not move`,
    formatWhere((i.locate ?? atKeyPath)(['stacks', i.stack.def.name, 'services', kept[0]!, 'server_postgres'])),
    'Move it with --mode dump (the default): the writers stop while the database is copied, then every table is proven.',
    2,
  );
}

/**
 * The volumes' paths on both sides, read when a copy or the proof checks (the target's exist
 * once created), by a step that acts on one side and reaches the other.
 */
export function volumeCopies(i: Pick<MoveInput, 'sourceRelease'>, m: Migration, volumes: string[]): Planning['copies'] {
  return async (ctx) => {
    const [source, target] = [ctx.on(m.source.name), ctx.on(m.target.name)];
    const out: VolumeCopy[] = [];
    for (const v of volumes) {
      out.push({
        name: v,
        sourcePath: await volumeMountpoint(source, `${i.sourceRelease.project}_${v}`, m.source.sudo),
        targetPath: await volumeMountpoint(target, `${m.project}_${v}`, m.target.sudo),
      });
    }
    return out;
  };
}

/** The DNS preflight and, once the target serves, each domain's cut-over; none without domains. */
async function dnsOf(p: Planning) {
  const { i, id } = p;
  const domains = i.stack.def.proxy?.domains ?? [];
  if (domains.length === 0) return undefined;
  return dnsSteps({
    stack: i.stack.def.name,
    domains,
    id,
    host: i.target.name,
    local: i.local,
    cutoverDependsOn: p.served,
    ...(i.dns ? { dns: i.dns } : {}),
    ...(i.lookup ? { lookup: i.lookup } : {}),
    source: { name: i.source.name, addresses: await serverAddresses(i.sourceEndpoint.address) },
    target: { name: i.target.name, addresses: await serverAddresses(i.targetEndpoint.address) },
  });
}

function builders(p: Planning): Builders {
  const { i, m, id, deploy } = p;
  const name = m.stack;
  // The source's own Postgres keeps running (other databases may live there): only containers stop.
  const dbServices = inContainers(m, 'source');
  const def = i.stack.def;
  return {
    verify: (dependsOn, snapshot) =>
      verifyStep({ id: id('verify'), m, copies: p.copies, dependsOn, ...(snapshot ? { snapshot } : {}) }),
    live: (dependsOn) => liveStep({ id: id('live'), m, copies: p.copies, dependsOn }),
    start: (dependsOn) =>
      upStep({
        id: id('start'),
        host: i.target.name,
        stack: name,
        project: m.project,
        release: deploy.meta,
        services: deploy.meta.services,
        healthTimeoutMs: healthInPauseMs(def),
        httpChecks: def.deploy.httpChecks,
        sudo: m.target.sudo,
        dependsOn,
        title: `start ${name} on ${i.target.name}`,
      }),
    stopSourceDb: (dependsOn) =>
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
      }),
    switchTo: (dependsOn) => switchStep({ id: id('switch'), m, stack: def, dependsOn }),
    refresh: def.proxy
      ? withPlace(
          upstreamsStep({
            id: id('upstreams'),
            host: i.target.name,
            stack: def,
            project: m.release.project,
            sudo: m.target.sudo,
            dependsOn: [id('start')],
            title: `${i.target.name}'s nginx sends ${def.proxy.domains.join(', ')} to the started containers`,
          }),
          { phase: 'deploy' },
        )
      : undefined,
  };
}

/** Dump mode, in the pause: each database dumped into the target, the proof, the target started and switched to. */
function dumpSteps(p: Planning, frozen: string[], b: Builders): Step[] {
  const { m, id, dbs } = p;
  const dumps = dbs.map((d) =>
    dumpStep({
      id: id(`dump/${d.service}`),
      m,
      d,
      dependsOn: [
        ...frozen,
        m.installed?.[d.service] ? serverPostgresId(m.stack, d.service) : id('target-db'),
        id('channel'),
      ],
    }),
  );
  const switched = b.switchTo([id('start'), ...(b.refresh ? [b.refresh.id] : [])]);
  return [
    ...dumps,
    b.verify([...frozen, ...dumps.map((s) => s.id)]),
    b.live([id('verify')]),
    b.start([id('live')]),
    ...(b.refresh ? [b.refresh] : []),
    ...(switched ? [switched] : []),
    ...(inContainers(m, 'source').length > 0 ? [b.stopSourceDb(p.served)] : []),
  ];
}

/** After the target serves: the channel closed, the source marked as moved; and the `moving` marker, written first. */
function endSteps(p: Planning, close: Step): Step[] {
  const { i, m, id, dbs, served } = p;
  return [
    // Once the target serves and the source's databases stopped (not after the open: it waited for it).
    withPlace(close, {
      dependsOn: [...served, ...(inContainers(m, 'source').length > 0 ? [id('stop-source-db')] : [])],
    }),
    markerStep({
      id: id('mark'),
      m,
      dependsOn: [...served, ...(i.mode === 'replicate' && dbs.length > 0 ? [id('proof')] : [])],
    }),
    removeStep({
      id: id('moved'),
      host: i.source.name,
      path: movingPath(m.stack),
      sudo: m.source.sudo,
      dependsOn: [id('mark')],
    }),
    // Written before anything else changes: every step that waits for the preflight waits for it too.
    { ...markerStep({ id: id('moving'), m, moving: true, dependsOn: [id('preflight')] }), recordOnly: true },
  ];
}
