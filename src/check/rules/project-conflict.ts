/**
 * `project-conflict`: two stacks placed on one server under the same Compose project
 * name. Compose finds containers by project name, so deploying the second would take
 * over (and remove the orphans of) the first.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { loadedStacks, type StackView } from '../common.js';

export function projectConflict(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  const seen = new Map<string, StackView>();
  for (const st of loadedStacks(fleet)) {
    if (!st.server) continue;
    const key = `${st.server}\u0000${st.project.name}`;
    const first = seen.get(key);
    if (!first) {
      seen.set(key, st);
      continue;
    }
    out.push(
      finding(
        'project-conflict',
        'error',
        `stacks ${first.name} and ${st.name} are both Compose project "${st.project.name}" on server ${st.server}; deploying one would take over the other's containers`,
        fleet.fleet.locate(['stacks', st.name]),
        `Give one of them its own project name: \`project:\` in ferry.yml, or \`name:\` in its compose file.`,
        { stack: st.name, server: st.server },
      ),
    );
  }
  return out;
}
