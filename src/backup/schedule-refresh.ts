/**
 * `ferry apply` keeps a stack's installed backup schedule in step with what it deploys: a
 * volume or a database added to the compose project is backed up by the next scheduled
 * run, and a schedule taken out of ferry.yml is removed. Only where `ferry backup run`
 * installed one (it writes the password, creates the repositories and the SFTP key).
 */
import type { Step } from '../engine/step.js';
import type { ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { repoAccess } from './repos.js';
import { scheduleStep } from './schedule-step.js';
import { calendarsOf } from './schedule.js';
import { stackSources } from './stack-sources.js';

export function scheduleRefreshStep(
  stack: LoadedStack,
  server: ServerDef,
  servers: Record<string, ServerDef>,
  dependsOn: string[],
): Step | undefined {
  const def = stack.def.backups;
  if (!def || !stack.project || def.repositories.some((r) => r.server !== undefined && !servers[r.server]))
    return undefined;
  let sources;
  try {
    sources = stackSources(stack.def.name, stack.project, def, stack.def.serverPostgres);
  } catch {
    // A `backups` naming what the project lacks: `ferry backup run` reports it.
    return undefined;
  }
  return scheduleStep({
    stack: stack.def.name,
    server: server.name,
    sudo: server.sudo === true,
    sources,
    repos: def.repositories.map((r) => repoAccess(stack.def.name, r, server, servers)),
    retention: def.retention,
    calendars: calendarsOf(def),
    ...(def.checkRead !== undefined ? { checkRead: def.checkRead } : {}),
    dependsOn,
    refreshOnly: true,
  });
}
