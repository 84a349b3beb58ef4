/**
 * `no-healthcheck`: a service without a healthcheck (or with it disabled) that others wait
 * on with `condition: service_healthy` (error: `docker compose up` fails with "dependency
 * failed to start: container … has no healthcheck configured"), or that publishes ports
 * (warning: nothing can tell when it is ready or stuck).
 */
import { finding, type Finding } from '../../core/finding.js';
import type { Service } from '../../model/compose.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { dependedOnWith, hasHealthcheck, ids, loadedStacks, locSvc, type StackView } from '../common.js';

const IMAGE_NOTE =
  "Ferry reads compose files offline and can't see a HEALTHCHECK in the image's Dockerfile; if the image has one, write it in the compose file so it is visible and reviewed.";

function state(s: Service): string {
  return s.healthcheck?.disabled || s.healthcheck?.test?.[0]?.toUpperCase() === 'NONE'
    ? 'has its healthcheck disabled'
    : 'has no healthcheck';
}

function waitedOn(st: StackView, svc: Service, waiters: string[]): Finding {
  const disabled = svc.healthcheck !== undefined;
  return finding(
    'no-healthcheck',
    'error',
    `${st.name}/${svc.name} ${state(svc)}, but ${waiters.join(', ')} ${waiters.length === 1 ? 'waits' : 'wait'} for it with condition: service_healthy`,
    disabled ? locSvc(st, svc.name, 'healthcheck') : locSvc(st, svc.name),
    `Compose then fails \`up\` with "dependency failed to start: container … has no healthcheck configured". Add a \`healthcheck:\` (for example \`pg_isready\`, \`redis-cli ping\`, or an HTTP probe), or wait with condition: service_started.${disabled ? '' : ` ${IMAGE_NOTE}`}`,
    ids(st, svc.name),
  );
}

function servesTraffic(st: StackView, svc: Service): Finding {
  return finding(
    'no-healthcheck',
    'warning',
    `${st.name}/${svc.name} publishes ports but ${state(svc)}`,
    locSvc(st, svc.name),
    `Add a \`healthcheck:\` that probes what it serves (an HTTP endpoint, a TCP connect), so deploys can wait for it to be ready and stuck containers show as unhealthy. ${IMAGE_NOTE}`,
    ids(st, svc.name),
  );
}

export function noHealthcheck(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    const healthy = dependedOnWith(st.project, 'service_healthy');
    for (const svc of st.project.services) {
      if (hasHealthcheck(svc)) continue;
      const waiters = healthy.get(svc.name);
      if (waiters) out.push(waitedOn(st, svc, waiters));
      else if (svc.ports.length > 0) out.push(servesTraffic(st, svc));
    }
  }
  return out;
}
