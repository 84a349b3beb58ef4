/** Where a migration of a stack stands, read from the markers on its fleet server. */
import { UsageError } from '../core/errors.js';
import { cmd, quiet } from '../shell/command.js';
import type { ServerDef } from '../model/fleet.js';
import { markerPath, movingPath } from '../migrate/steps/switch.js';
import { reportPath } from '../migrate/report.js';
import type { Session } from './session.js';

/** Where a migration of the stack went, seen from its fleet server (the source or, once ferry.yml names it, the target). */
export async function migrationOf(
  s: Session,
  stack: string,
  server: ServerDef,
): Promise<{ source: ServerDef; target: ServerDef } | undefined> {
  const t = s.transports(server.name);
  const sudo = server.sudo ?? false;
  const read = async (path: string) => {
    const r = await t.exec(quiet(cmd('cat', path)), { sudo });
    return r.code === 0 ? r.stdout : undefined;
  };
  const known = (name: string | undefined, what: string): ServerDef => {
    const def = name ? s.loaded.fleet.servers[name] : undefined;
    if (!def)
      throw new UsageError(
        `stack ${stack} was moved ${what} server "${name}", which the fleet file does not define`,
        'Add the server back to ferry.yml to roll the migration back.',
      );
    return def;
  };
  const to = (await read(markerPath(stack)))?.trim() || (await read(movingPath(stack)))?.trim();
  if (to) return { source: server, target: known(to, 'to') };
  const saved = await read(reportPath(stack));
  if (saved) {
    try {
      const from = (JSON.parse(saved) as { from?: string }).from;
      if (from && from !== server.name) return { source: known(from, 'from'), target: server };
    } catch {
      /* not a report: no migration */
    }
  }
  return undefined;
}
