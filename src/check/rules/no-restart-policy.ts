/**
 * `no-restart-policy`: a long-running service that stays down after a crash or a reboot.
 * One-shot services (others wait for them with `service_completed_successfully`) are exempt.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { dependedOnWith, ids, loadedStacks, locSvc } from '../common.js';

export function noRestartPolicy(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    const oneShot = dependedOnWith(st.project, 'service_completed_successfully');
    for (const svc of st.project.services) {
      if (svc.restart !== undefined || svc.deployRestartCondition !== undefined || oneShot.has(svc.name)) continue;
      out.push(
        finding(
          'no-restart-policy',
          'warning',
          `${st.name}/${svc.name} has no restart policy: it stays down after a crash or a server reboot`,
          locSvc(st, svc.name),
          'Add `restart: unless-stopped` (or `always`). If it is a one-shot job, make the services that need it wait with `condition: service_completed_successfully`, or set `restart: "no"` to say so.',
          ids(st, svc.name),
        ),
      );
    }
  }
  return out;
}
