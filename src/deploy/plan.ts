/**
 * The steps that deploy one stack to its server, in order: Docker and Compose present,
 * images there (pushed or pulled), the release written, the release started (with
 * health waits and zero-downtime swaps), nginx and TLS, old releases pruned.
 */
import type { Step } from '../engine/step.js';
import { imageStep } from '../engine/steps/images.js';
import { localImageIds, stackImages } from './stack-images.js';
import type { AcmeDef, Fleet, ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import type { Locator, Service } from '../model/compose.js';
import type { Transport } from '../transport/transport.js';
import { makeBundle, type Bundle, type GeneratedCompose } from './bundle.js';
import { buildsOf, refuseUnnamedLocalBuilds, withBuiltImages, type BuildPlan } from './builds.js';
import { buildStep } from './steps/build.js';
import { hostPostgresAccess, hostPostgresServers } from './host-postgres.js';
import { serviceTunes, withTunes, type ServiceTune } from './postgres-service-tune.js';
import { hostPostgresStep } from './steps/host-postgres.js';
import type { ReleaseMeta } from './release-meta.js';
import { engineStep } from './steps/engine.js';
import { pullStep } from './steps/images-pull.js';
import { pruneStep } from './steps/prune.js';
import { releaseStep } from './steps/release.js';
import { stopGraceOf, upStep, type ServicePlan } from './steps/up.js';
import { proxyLink } from './proxy-link.js';
import { mergedDocument, placementOf, splitStack } from './placement.js';
import { renderComposeDocument, type Placed, type Split } from './split.js';
import { placedPlan, SPLIT_FILE, type PlacedPlan } from './plan-placed.js';
import { HOST_GATEWAY, servedDatabases, type ServedDatabase } from './server-postgres.js';
import { serverPostgresId, serverPostgresStep } from './steps/server-postgres.js';

/** A service kept in the host's Postgres, as the split of the compose document takes it. */
const onHost = (d: ServedDatabase, host: string): Placed => ({
  service: d.service,
  server: host,
  address: HOST_GATEWAY,
  allowFrom: '',
  port: d.postgres.port,
  onHost: true,
});

export interface StackPlanInput {
  stack: LoadedStack;
  server: ServerDef;
  acme?: AcmeDef;
  /** This machine, for pushed images. */
  local: Transport;
  /** The fleet's servers, for services placed on another server than the stack's. */
  fleet?: Pick<Fleet, 'servers' | 'locate'>;
  /** The fleet's servers, for a Postgres on another server's host that the stack connects to (default: `fleet`'s). */
  servers?: Record<string, ServerDef>;
  /** Finds a key in ferry.yml, for errors (default: `fleet`'s). */
  locate?: Locator;
}

export interface StackPlan {
  steps: Step[];
  bundle: Bundle;
  meta: ReleaseMeta;
  /** Per placed service, what runs on its server. */
  parts: Record<string, PlacedPlan>;
}

/** Routed, replaceable side by side, and with a way to tell it is ready. */
function canSwap(svc: Service, stack: LoadedStack): boolean {
  const routed = stack.def.proxy?.routes.some((r) => r.service === svc.name) ?? false;
  const ready =
    (svc.healthcheck !== undefined && !svc.healthcheck.disabled) ||
    stack.def.deploy.httpChecks.some((h) => h.service === svc.name);
  return routed && ready && svc.containerName === undefined && svc.ports.length === 0 && svc.replicas > 0;
}

export async function stackPlan(input: StackPlanInput): Promise<StackPlan> {
  const { stack, server } = input;
  const project = stack.project!;
  const name = stack.def.name;
  const host = server.name;
  const sudo = server.sudo ?? false;
  const deploy = stack.def.deploy;
  const placed = input.fleet ? placementOf(stack, input.fleet) : [];
  const served = servedDatabases(stack, server, input.locate ?? input.fleet?.locate);
  const apart = [...placed, ...served.map((d) => onHost(d, host))];
  const split = apart.length > 0 ? splitStack(stack, apart) : undefined;
  const here = project.services.filter((s) => !apart.some((p) => p.service === s.name));
  if (deploy.build === 'local') refuseUnnamedLocalBuilds(stack, here);
  const builds = deploy.build === 'server' ? buildsOf(stack, here) : [];
  const built = new Set(builds.flatMap((b) => b.services));
  const images = stackImages(here.filter((s) => !built.has(s.name)));
  const ids = deploy.images === 'push' ? await localImageIds(input.local, images) : {};
  const tunes = serviceTunes(stack, server).filter((t) => here.some((s) => s.name === t.service));
  const bundle = makeBundle(stack, ids, generatedCompose(stack, host, here, apart, split, builds, tunes));
  const awaited = new Set(
    here.flatMap((s) =>
      Object.entries(s.dependsOn)
        .filter(([, d]) => d.condition === 'service_completed_successfully')
        .map(([name]) => name),
    ),
  );
  const services: ServicePlan[] = here.map((s) => ({
    name: s.name,
    replicas: s.replicas,
    swap: canSwap(s, stack),
    ...(awaited.has(s.name) ? { oneShot: true } : {}),
    ...stopGraceOf(s),
  }));
  const meta: ReleaseMeta = { id: bundle.id, project: project.name, composeFiles: bundle.composeFiles, services };
  if (bundle.envFile) meta.envFile = bundle.envFile;
  if (project.activeProfiles.length > 0) meta.profiles = [...project.activeProfiles];
  if (placed.length > 0) meta.placed = Object.fromEntries(placed.map((p) => [p.service, p.server]));

  const id = (s: string) => `${name}/${s}`;
  const parts: Record<string, PlacedPlan> = {};
  for (const p of placed)
    parts[p.service] = await placedPlan({
      stack,
      placed: p,
      doc: split!.parts[p.service]!,
      server: input.fleet!.servers[p.server]!,
      local: input.local,
    });
  const steps: Step[] = [engineStep({ id: id('engine'), host, sudo })];
  const transferDeps: string[] = [];
  for (const b of builds) {
    const buildId = id(`build/${b.services[0]}`);
    steps.push(buildStep({ id: buildId, host, stack: name, build: b, sudo, dependsOn: [id('engine')] }));
    transferDeps.push(buildId);
  }
  if (images.length > 0) {
    steps.push(
      deploy.images === 'push'
        ? imageStep({ id: id('images'), host, images, local: input.local, sudo, dependsOn: [id('engine')] })
        : pullStep({ id: id('images'), host, images, sudo, dependsOn: [id('engine')] }),
    );
    transferDeps.push(id('images'));
  }
  const notes = tunes.map((t) => `${t.service} tuned: ${t.settings.join(', ')}`);
  steps.push(
    releaseStep({ id: id('release'), host, stack: name, bundle, meta, sudo, dependsOn: [id('engine')], notes }),
  );
  const pgSteps = postgresSteps(input, served);
  steps.push(...pgSteps);
  transferDeps.push(...pgSteps.map((s) => s.id));
  const proxy = stack.def.proxy
    ? proxyLink({
        stack: stack.def,
        project: project.name,
        host,
        sudo,
        ...(input.acme ? { acme: input.acme } : {}),
        dependsOn: [id('up')],
      })
    : undefined;
  steps.push(
    upStep({
      id: id('up'),
      host,
      stack: name,
      project: project.name,
      release: meta,
      services,
      healthTimeoutMs: deploy.healthTimeoutMs,
      httpChecks: deploy.httpChecks.filter((h) => !placed.some((p) => p.service === h.service)),
      sudo,
      dependsOn: [...transferDeps, id('release'), ...Object.values(parts).map((p) => p.upId)],
      ...(proxy ? { switchUpstream: proxy.switchUpstream, refreshUpstreams: proxy.refreshUpstreams } : {}),
    }),
  );
  if (proxy) steps.push(...proxy.steps);
  steps.push(
    pruneStep({
      id: id('prune'),
      host,
      stack: name,
      keep: deploy.keepReleases,
      sudo,
      ...(builds.length > 0 ? { built: { repo: builds[0]!.tag.split(':')[0]!, composeFile: SPLIT_FILE } } : {}),
      dependsOn: [id('up'), ...(proxy ? proxy.steps.map((s) => s.id) : [])],
    }),
  );
  for (const p of Object.values(parts)) steps.push(...p.steps);
  return { steps, bundle, meta, parts };
}

/**
 * The steps on the Postgres installed on a server that the stack reaches: each such server
 * lets the stack in (its own first), then the role and database of each service kept in
 * the stack's server's Postgres (`served`).
 */
function postgresSteps(input: StackPlanInput, served: ServedDatabase[]): Step[] {
  const { stack, server } = input;
  const host = server.name;
  const id = (s: string) => `${stack.def.name}/${s}`;
  const steps: Step[] = hostPostgresServers(stack, server, input.servers ?? input.fleet?.servers ?? {}).map((pg) =>
    hostPostgresStep({
      id: pg.name === host ? id('host-postgres') : id(`host-postgres/${pg.name}`),
      host: pg.name,
      access: hostPostgresAccess(stack, pg, server)!,
      sudo: pg.sudo ?? false,
      dependsOn: pg.name === host ? [id('engine')] : [],
    }),
  );
  for (const d of served)
    steps.push(
      serverPostgresStep({
        id: serverPostgresId(stack.def.name, d.service),
        host,
        stack: stack.def.name,
        d,
        sudo: server.sudo ?? false,
        dependsOn: [id('engine')],
      }),
    );
  return steps;
}

/**
 * The compose file Ferry writes in place of the user's: without the placed services (and
 * references to them pointed at their server), and with each service built on the server
 * running its build's image (no `build:` left for Compose to act on). None when neither.
 */
function generatedCompose(
  stack: LoadedStack,
  host: string,
  here: Service[],
  placed: Placed[],
  split: Split | undefined,
  builds: BuildPlan[],
  tunes: ServiceTune[],
): GeneratedCompose | undefined {
  if (!split && builds.length === 0 && tunes.length === 0) return undefined;
  const doc = withTunes(withBuiltImages(split ? split.main : mergedDocument(stack), builds), tunes);
  const why = [
    ...(split
      ? [
          `without ${placed.map((p) => (p.onHost ? `${p.service} (kept in ${host}'s Postgres)` : `${p.service} (on ${p.server}, at ${p.address}:${p.port})`)).join(', ')}`,
        ]
      : []),
    ...builds.map((b) => `${b.services.join(', ')} running ${b.tag}, built on ${host}`),
    ...tunes.map((t) => `${t.service} tuned (${t.settings.join(', ')})`),
  ];
  return {
    rel: SPLIT_FILE,
    text: renderComposeDocument(doc, `Written by Ferry: stack ${stack.def.name} on ${host}, ${why.join('; ')}.`),
    services: here.map((s) => s.name),
  };
}
