/** `floating-tag`: an image pulled by `latest` or by no tag at all, so what runs can change under you. */
import { finding, type Finding } from '../../core/finding.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { ids, loadedStacks, locSvc } from '../common.js';
import { imageProblem, parseImage } from '../image-ref.js';

/** Why an image reference floats, or undefined when it is pinned (a version tag or a digest). */
export function floats(image: string): string | undefined {
  // A reference Docker refuses is `invalid-image`'s to report.
  if (imageProblem(image)) return undefined;
  const ref = parseImage(image);
  if (ref.digest !== undefined) return undefined;
  if (ref.tag === undefined) return 'has no tag (Docker pulls :latest)';
  if (ref.tag.toLowerCase() === 'latest') return 'uses the :latest tag';
  return undefined;
}

export function floatingTag(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    for (const svc of st.project.services) {
      // With `build`, `image` only names what Compose builds: nothing is pulled.
      if (!svc.image || svc.build) continue;
      const why = floats(svc.image);
      if (!why) continue;
      out.push(
        finding(
          'floating-tag',
          'warning',
          `${st.name}/${svc.name}: image ${svc.image} ${why}`,
          locSvc(st, svc.name, 'image'),
          'Pin a version tag (postgres:16.4) or a digest (image@sha256:…) so every server runs the same image and a redeploy or a migration does not upgrade it silently.',
          ids(st, svc.name),
        ),
      );
    }
  }
  return out;
}
