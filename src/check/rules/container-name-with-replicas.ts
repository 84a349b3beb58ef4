/** `container-name-with-replicas`: a fixed container name can't be shared by several replicas. */
import { finding, type Finding } from '../../core/finding.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { ids, loadedStacks, locSvc } from '../common.js';

export function containerNameWithReplicas(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    for (const svc of st.project.services) {
      if (svc.containerName === undefined || svc.replicas <= 1) continue;
      out.push(
        finding(
          'container-name-with-replicas',
          'error',
          `${st.name}/${svc.name} sets container_name "${svc.containerName}" and runs ${svc.replicas} replicas: container names are unique, so Compose refuses to scale it`,
          locSvc(st, svc.name, 'container_name'),
          'Remove `container_name` (Compose names replicas <project>-<service>-<n>, and other services reach them by service name) or run one replica.',
          ids(st, svc.name),
        ),
      );
    }
  }
  return out;
}
