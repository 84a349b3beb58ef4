import type { Finding } from '../core/finding.js';
import type { ComposeProject } from './compose.js';
import type { Fleet, StackDef } from './fleet.js';

/** A stack of the fleet with its Compose project loaded (or the findings that stopped it). */
export interface LoadedStack {
  def: StackDef;
  /** undefined when the project could not be loaded; `findings` then say why. */
  project?: ComposeProject;
  /** Loader findings for this stack (yaml-syntax, schema, missing-variable, ...). */
  findings: Finding[];
}

/** What `inventory` and `check` work on: the fleet and every stack loaded. */
export interface LoadedFleet {
  fleet: Fleet;
  stacks: LoadedStack[];
  /** Fleet-file findings (schema of ferry.yml, unknown servers, ...). */
  findings: Finding[];
}
