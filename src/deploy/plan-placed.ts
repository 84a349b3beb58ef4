/**
 * The steps that run a placed service on its own server (see split.ts): Docker and
 * Compose there, its image, a release of its own (the one-service compose file Ferry
 * wrote), the firewall that lets only the stack's server in, and `up`. The stack's
 * server waits for it before its own `up`.
 */
import type { Step } from '../engine/step.js';
import { imageStep } from '../engine/steps/images.js';
import type { ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import type { Dict } from '../compose/compose-file.js';
import type { Transport } from '../transport/transport.js';
import { makeBundle, type Bundle } from './bundle.js';
import type { ReleaseMeta } from './release-meta.js';
import { engineStep } from './steps/engine.js';
import { pullStep } from './steps/images-pull.js';
import { releaseStep } from './steps/release.js';
import { stopGraceOf, upStep } from './steps/up.js';
import { pruneStep } from './steps/prune.js';
import { firewallStep } from './steps/firewall.js';
import { renderComposeDocument, type Placed } from './split.js';
import { localImageIds, stackImages } from './stack-images.js';

/** The compose file Ferry writes in the release of a stack spread over servers. */
export const SPLIT_FILE = 'compose.ferry.yml';

export interface PlacedPlan {
  placed: Placed;
  server: ServerDef;
  steps: Step[];
  bundle: Bundle;
  meta: ReleaseMeta;
  /** Ids of its steps, by kind. */
  engineId: string;
  imagesId?: string;
  releaseId: string;
  firewallId: string;
  upId: string;
}

export async function placedPlan(o: {
  stack: LoadedStack;
  placed: Placed;
  doc: Dict;
  server: ServerDef;
  local: Transport;
}): Promise<PlacedPlan> {
  const { stack, placed: p, server } = o;
  const name = stack.def.name;
  const project = stack.project!;
  const host = server.name;
  const sudo = server.sudo ?? false;
  const deploy = stack.def.deploy;
  const svc = project.services.find((s) => s.name === p.service)!;
  const images = stackImages([svc]);
  const ids = deploy.images === 'push' ? await localImageIds(o.local, images) : {};
  const bundle = makeBundle(stack, ids, {
    rel: SPLIT_FILE,
    text: renderComposeDocument(
      o.doc,
      `Written by Ferry: ${p.service} of stack ${name}, placed on ${host}, reached by ${p.allowFrom} at ${p.address}:${p.port}.`,
    ),
    services: [p.service],
  });
  const meta: ReleaseMeta = {
    id: bundle.id,
    project: project.name,
    composeFiles: bundle.composeFiles,
    services: [{ name: p.service, replicas: svc.replicas, swap: false, ...stopGraceOf(svc) }],
  };
  const id = (s: string) => `${name}/${p.service}/${s}`;
  const steps: Step[] = [engineStep({ id: id('engine'), host, sudo })];
  if (images.length > 0) {
    steps.push(
      deploy.images === 'push'
        ? imageStep({ id: id('images'), host, images, local: o.local, sudo, dependsOn: [id('engine')] })
        : pullStep({ id: id('images'), host, images, sudo, dependsOn: [id('engine')] }),
    );
  }
  steps.push(releaseStep({ id: id('release'), host, stack: name, bundle, meta, sudo, dependsOn: [id('engine')] }));
  steps.push(firewallStep({ id: id('firewall'), host, stack: name, placed: p, sudo, dependsOn: [id('engine')] }));
  steps.push(
    upStep({
      id: id('up'),
      host,
      stack: name,
      project: project.name,
      release: meta,
      services: meta.services,
      healthTimeoutMs: deploy.healthTimeoutMs,
      httpChecks: deploy.httpChecks.filter((h) => h.service === p.service),
      sudo,
      dependsOn: [...(images.length > 0 ? [id('images')] : []), id('release'), id('firewall')],
      title: `start ${p.service} of ${name} on ${host} (release ${bundle.id})`,
    }),
  );
  steps.push(pruneStep({ id: id('prune'), host, stack: name, keep: deploy.keepReleases, sudo, dependsOn: [id('up')] }));
  return {
    placed: p,
    server,
    steps,
    bundle,
    meta,
    engineId: id('engine'),
    ...(images.length > 0 ? { imagesId: id('images') } : {}),
    releaseId: id('release'),
    firewallId: id('firewall'),
    upId: id('up'),
  };
}
