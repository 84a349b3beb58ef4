/** A loaded stack's backup sources: the pure choice of sources.ts, with the data binds read off this machine. */
import { FerryError } from '../core/errors.js';
import { dataBinds } from '../deploy/bundle.js';
import type { BackupDef } from '../model/backup.js';
import type { ComposeProject } from '../model/compose.js';
import { backupSources, type BackupSources } from './sources.js';

/**
 * `kept`: Postgres services kept in the Postgres installed on the server (`server_postgres`),
 * which a backup does not reach yet (it dumps from the service's container): refused.
 */
export function stackSources(
  stack: string,
  project: ComposeProject,
  def: BackupDef,
  kept: string[] = [],
): BackupSources {
  const sources = backupSources(stack, project, def, (s) => dataBinds(s, project.workingDir));
  const there = sources.postgres.filter((d) => kept.includes(d.service)).map((d) => d.service);
  if (there.length > 0)
    throw new FerryError(
      'backup-source-unsupported',
      `stack ${stack}: ${there.join(', ')} is kept in the Postgres installed on its server (server_postgres), which Ferry's backups do not dump yet`,
      `stacks/${stack}/backups/postgres`,
      `List the Postgres services to back up without it (backups.postgres: [...]) or set backups.postgres: false, and back its database up on the server (pg_dump as its superuser).`,
      2,
    );
  return sources;
}
