/**
 * Postgres services of a stack whose database is kept in the Postgres installed on the
 * stack's server (`stacks.NAME.services.SERVICE.server_postgres`), not in a container. Ferry
 * runs no container of them: the compose file it writes leaves them out and maps their
 * names to the host (`extra_hosts: SERVICE:host-gateway`), so that the other services'
 * `postgresql://USER:PASSWORD@SERVICE:5432/DB` reaches the host's Postgres unchanged. Their
 * role and database are created there from the service's POSTGRES_USER, POSTGRES_PASSWORD
 * and POSTGRES_DB. Pure: no I/O.
 */
import { InputError } from '../core/errors.js';
import { atKeyPath, finding, type Finding, type Where } from '../core/finding.js';
import { Secret } from '../core/secret.js';
import type { HostPostgresDef, ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { databases } from '../migrate/postgres.js';

/** The port the other services reach a Postgres service on; the host's Postgres must listen on it too. */
const POSTGRES_PORT = 5432;

export interface ServedDatabase {
  service: string;
  db: string;
  user: string;
  password: Secret;
  postgres: HostPostgresDef;
}

/**
 * The stack's services kept in `home`'s Postgres, resolved; an `InputError` naming every
 * problem at its key (`server-postgres-invalid`). `locate` finds the key in ferry.yml.
 */
export function servedDatabases(
  stack: LoadedStack,
  home: ServerDef,
  locate: (path: string[]) => Where = atKeyPath,
): ServedDatabase[] {
  const names = stack.def.serverPostgres ?? [];
  const project = stack.project;
  if (names.length === 0 || !project) return [];
  const problems: Finding[] = [];
  const out: ServedDatabase[] = [];
  for (const service of names) {
    const at = locate(['stacks', stack.def.name, 'services', service, 'server_postgres']);
    const bad = (message: string, hint: string) =>
      problems.push(
        finding('server-postgres-invalid', 'error', `stack ${stack.def.name}: ${message}`, at, hint, {
          stack: stack.def.name,
          service,
        }),
      );
    const svc = project.services.find((s) => s.name === service);
    const d = svc ? databases([svc])[0] : undefined;
    if (!svc || !d) {
      bad(
        svc
          ? `${service} is not a Postgres service (image ${svc.image ?? 'none'})`
          : `${service} is not a service of the stack`,
        'Set server_postgres on the Postgres service whose database the host keeps.',
      );
      continue;
    }
    if (!home.postgres) {
      bad(
        `${service}'s database is to be kept in the Postgres of ${home.name}, and servers/${home.name} has no postgres`,
        `Describe the Postgres installed on ${home.name} (servers/${home.name}/postgres), or take server_postgres out.`,
      );
      continue;
    }
    if (home.postgres.port !== POSTGRES_PORT)
      bad(
        `${home.name}'s Postgres listens on port ${home.postgres.port}; the other services reach ${service} on ${POSTGRES_PORT}`,
        `Keep ${service} in a container, or run ${home.name}'s Postgres on ${POSTGRES_PORT}.`,
      );
    const password = svc.environment.POSTGRES_PASSWORD;
    if (!password)
      bad(
        `${service} has no POSTGRES_PASSWORD, so its role on ${home.name}'s Postgres would have no password to log in with`,
        `Give ${service} POSTGRES_PASSWORD (in its environment or env file); POSTGRES_PASSWORD_FILE is not read.`,
      );
    if (/[\s\\]/.test(d.user))
      bad(
        `${service}'s role "${d.user}" has a space or a backslash, which the commands acting as it cannot pass`,
        `Name ${service}'s role without spaces or backslashes (POSTGRES_USER).`,
      );
    if (['postgres', home.postgres.superuser].includes(d.user))
      bad(
        `${service}'s role is ${d.user}, the superuser of ${home.name}'s Postgres`,
        `Give ${service} a role of its own (POSTGRES_USER).`,
      );
    if (password && !problems.some((p) => p.service === service))
      out.push({ service, db: d.db, user: d.user, password: new Secret(password), postgres: home.postgres });
  }
  if (problems.length > 0) throw new InputError(problems);
  return out;
}

/** The address a service name is mapped to for a database kept on the host. */
export const HOST_GATEWAY = 'host-gateway';
