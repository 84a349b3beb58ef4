/**
 * The stacks Ferry generates for `ferry plan` and `ferry apply`: the monitoring stack and
 * the exporters (src/monitoring/stacks.ts), made only when the command deploys them (no
 * stack named, or one of theirs), since making them reads the receivers' secrets.
 */
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { LoadedStack } from '../model/loaded.js';
import { isMonitoringStack, monitoringStacks } from '../monitoring/stacks.js';
import { stateDir } from '../state/dir.js';
import { secretSource } from './secret-source.js';
import type { Session } from './session.js';

export interface Generated {
  stacks: LoadedStack[];
  /** Removes what was written for the releases that only they needed (secrets): call once the plan is built. */
  done: () => void;
}

export function generatedStacks(s: Session, names: string[]): Generated {
  const none = { stacks: [], done: () => {} };
  if (!s.loaded.fleet.monitoring) return none;
  if (names.length > 0 && !names.some(isMonitoringStack)) return none;
  const taken = s.loaded.stacks.find((x) => isMonitoringStack(x.def.name));
  if (taken)
    throw new UsageError(
      `stack ${taken.def.name} has a name Ferry gives the monitoring stacks it generates`,
      'Rename the stack in ferry.yml: `ferry-monitoring` and `ferry-exporters-*` are taken when the fleet has `monitoring`.',
      `stacks/${taken.def.name}`,
    );
  const m = monitoringStacks(s.loaded, secretSource(s.io), join(stateDir(s.io.env), 'generated', 'monitoring'));
  for (const secret of m.secrets) s.redactor.add(secret.reveal());
  return { stacks: m.stacks, done: m.removeSecrets };
}
