/**
 * `invalid-image`: an image reference Docker refuses ("invalid reference format"): a space
 * or `;` in it, capitals in its name, an empty tag left by an unset variable. Compose
 * loads such a file; the deploy would fail at the pull, on the server.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { ids, loadedStacks, locSvc } from '../common.js';
import { imageProblem } from '../image-ref.js';

export function invalidImage(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    for (const svc of st.project.services) {
      if (svc.image === undefined) continue;
      const problem = imageProblem(svc.image);
      if (!problem) continue;
      const shown = svc.image.length > 80 ? '' : `${JSON.stringify(svc.image)} `;
      out.push(
        finding(
          'invalid-image',
          'error',
          `${st.name}/${svc.name}: image ${shown}${problem}: Docker refuses it ("invalid reference format")`,
          locSvc(st, svc.name, 'image'),
          'Write [registry[:port]/]name[:tag][@sha256:digest] with the name in lower case (postgres:16.4, ghcr.io/acme/api:1.2); a variable in it must be set.',
          ids(st, svc.name),
        ),
      );
    }
  }
  return out;
}
