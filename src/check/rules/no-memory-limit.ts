/** `no-memory-limit`: a service that may take all of the server's memory, and that capacity checks can't count. */
import { finding, type Finding } from '../../core/finding.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { ids, loadedStacks, locSvc } from '../common.js';

export function noMemoryLimit(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    for (const svc of st.project.services) {
      if (svc.resources.memoryLimit !== undefined) continue;
      out.push(
        finding(
          'no-memory-limit',
          'warning',
          `${st.name}/${svc.name} has no memory limit`,
          locSvc(st, svc.name),
          'Set `deploy.resources.limits.memory` (or `mem_limit`) so one leaking container cannot push the whole server into the OOM killer, and so the capacity check can count it.',
          ids(st, svc.name),
        ),
      );
    }
  }
  return out;
}
