/**
 * The first part of a migration's plan (see plan.ts): prepare and transfer while the stack
 * runs on the source, then the start of the write pause (the writers frozen, the final copy)
 * and the target's databases, started before it.
 */
import { withPlace, type Step } from '../engine/step.js';
import { proxyLink } from '../deploy/proxy-link.js';
import type { Planning } from './plan.js';
import { preflightStep } from './steps/preflight.js';
import { createStep, servicesStateStep } from './steps/services.js';
import { sourceProxyRefresh } from './source-proxy.js';
import { ensureVolumesStep } from './steps/ensure-volumes.js';
import { syncStep } from './volumes.js';
import { inContainers } from './db-container.js';

/**
 * Prepare and transfer: the preflight (after the DNS one), the channel, the release and images,
 * the volumes and their first copy, the target's other containers created, its nginx and site.
 * Every step that waits for the preflight waits for the `moving` marker too, written first.
 */
export function transferSteps(p: Planning, open: Step, dnsPreflight: string | undefined) {
  const { i, m, id, deploy, dbs } = p;
  const project = i.stack.project!;
  const all = Object.values(project.volumes).filter((v) => !v.external);
  // The disk the data needs there: a database kept in the target's own Postgres too.
  const dockerVolumes = all.map((v) => `${i.sourceRelease.project}_${v.name}`);
  // A database kept in the target's own Postgres leaves its volume behind: none made for it.
  const kept = new Set(dbs.filter((d) => m.installed?.[d.service]).flatMap((d) => d.volumes));
  const pre = preflightStep({ id: id('preflight'), m, services: project.services, dockerVolumes });
  const gate = [id('preflight'), id('moving')];
  const fromDeploy = deploy.steps
    .filter((s) => /\/(engine|images|release|build\/[^/]+|host-postgres(\/[^/]+)?|server-postgres\/[^/]+)$/.test(s.id))
    // A Postgres on a host lets the target in while the stack runs on the source: part of the transfer.
    .map((s) =>
      withPlace(s, { dependsOn: [...s.dependsOn, ...gate], phase: s.phase === 'deploy' ? 'transfer' : s.phase }),
    );
  const transferred = fromDeploy.map((s) => s.id);
  const afterTransfer = [
    ...[id('channel'), id('volumes'), ...transferred],
    ...(p.volumes.length > 0 ? [id('precopy')] : []),
  ];
  const dbServices = dbs.map((d) => d.service);
  // The target's other containers created before the pause: the start in it only starts them.
  // After the database's start: two Compose runs at once on a new project race to create its network.
  const created = deploy.meta.services.filter((s) => s.replicas > 0 && !dbServices.includes(s.name)).map((s) => s.name);
  const dbStarted = [...afterTransfer, ...(inContainers(m, 'target').length > 0 ? [id('target-db')] : [])];
  // The target's nginx and the stack's site before the pause (its upstreams name no container
  // yet: nginx answers 502 there until the switch); inside it, only the upstreams' refresh.
  const proxy = (
    i.stack.def.proxy
      ? proxyLink({
          stack: { ...i.stack.def, proxy: { ...i.stack.def.proxy, tls: 'none' } },
          project: project.name,
          host: i.target.name,
          sudo: m.target.sudo,
          dependsOn: afterTransfer,
        }).steps
      : []
  ).map((s) => withPlace(s, { phase: 'transfer' }));
  const steps: Step[] = [
    dnsPreflight ? withPlace(pre, { dependsOn: [...pre.dependsOn, dnsPreflight] }) : pre,
    open,
    ...fromDeploy,
    ensureVolumesStep({
      id: id('volumes'),
      m,
      volumes: all.map((v) => v.name).filter((v) => !kept.has(v)),
      dependsOn: [id('preflight'), ...transferred.filter((x) => x.endsWith('/engine')), id('moving')],
    }),
    ...(p.volumes.length > 0 ? [copyStep(p, 'precopy', [id('channel'), id('volumes')])] : []),
    ...(created.length > 0
      ? [
          createStep({
            id: id('create'),
            stack: i.stack.def.name,
            side: m.target,
            release: m.release,
            services: created,
            dependsOn: dbStarted,
          }),
        ]
      : []),
    ...proxy,
  ];
  const beforePause = [...dbStarted, ...(created.length > 0 ? [id('create')] : []), ...proxy.map((s) => s.id)];
  return { steps, afterTransfer, beforePause };
}

/** A copy of the volumes from the source: the first while the stack runs, the final one with the writers stopped. */
function copyStep(p: Planning, which: 'precopy' | 'final-copy', dependsOn: string[]): Step {
  const { m } = p;
  return syncStep({
    id: p.id(which),
    ch: m.ch,
    copies: p.copies,
    phase: which === 'precopy' ? 'transfer' : 'deploy',
    ...(which === 'precopy' ? { live: true } : {}),
    dependsOn,
    title:
      which === 'precopy'
        ? `first copy of ${p.volumes.join(', ')} while the stack runs`
        : `final copy of ${p.volumes.join(', ')}, writers stopped`,
  });
}

/** The writers frozen on the source, the final copy; and the target's databases, started before the pause. */
export function pauseSteps(p: Planning, afterTransfer: string[], freezeAfter: string[]) {
  const { i, m, id, dbs } = p;
  const project = i.stack.project!;
  const dbServices = dbs.map((d) => d.service);
  const others = project.services.filter((s) => !dbServices.includes(s.name) && s.replicas > 0).map((s) => s.name);
  const freeze = servicesStateStep({
    id: id('freeze'),
    stack: m.stack,
    redis: m.redis,
    side: m.source,
    release: i.sourceRelease,
    services: others,
    want: 'stopped',
    phase: 'deploy',
    dependsOn: freezeAfter,
    title: `stop the writers on ${i.source.name} (${others.join(', ') || 'none'})`,
    redisSaveTimeoutMs: m.maxPauseMs,
    ...sourceProxyRefresh(i, m),
  });
  const started = inContainers(m, 'target');
  // Started before the freeze, so that its start is not part of the write pause.
  const targetDb = servicesStateStep({
    id: id('target-db'),
    stack: m.stack,
    side: m.target,
    release: m.release,
    services: started,
    want: 'running',
    phase: 'transfer',
    dependsOn: afterTransfer,
    title: `start ${started.join(', ')} on ${i.target.name}`,
  });
  const copied = p.volumes.length > 0;
  return {
    steps: [
      freeze,
      ...(copied ? [copyStep(p, 'final-copy', [id('freeze')])] : []),
      ...(started.length > 0 ? [targetDb] : []),
    ],
    /** The freeze, and the final copy when there are volumes. */
    frozen: [id('freeze'), ...(copied ? [id('final-copy')] : [])],
  };
}
