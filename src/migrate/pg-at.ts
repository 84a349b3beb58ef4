/**
 * Where a database's Postgres runs, for the commands of a move: in a container of the stack
 * (its name), or installed on the server (`servers.NAME.postgres`), for a service kept there
 * (`server_postgres`). A client command runs inside the container as the database's role
 * (`docker exec CONTAINER TOOL -U ROLE`), or on the server as the cluster's superuser by peer
 * authentication, acting as the role (`PGOPTIONS=-c role=ROLE`): what it creates belongs to
 * the role, as in the container. Pure.
 */
import { cmd, type Command } from '../shell/command.js';
import type { HostPostgresDef } from '../model/fleet.js';

export interface InstalledPg {
  installed: HostPostgresDef;
}

export type PgAt = string | InstalledPg;

/** For messages: the container's name, or `the server's Postgres`. */
export const describeAt = (at: PgAt): string =>
  typeof at === 'string' ? at : `the server's Postgres (port ${at.installed.port})`;

/** `-U ROLE` in a container (its superuser); nothing on a server, where the role is set by PGOPTIONS. */
export const roleArgs = (at: PgAt, role: string): string[] => (typeof at === 'string' ? ['-U', role] : []);

/**
 * `tool` (psql, pg_restore, pg_isready, sh) where `at` is; `role` acts on a server (none: the
 * superuser itself; in a container, give `roleArgs`); `stdin` keeps standard input open (`docker exec -i`).
 */
export function pgClient(at: PgAt, o: { role?: string; stdin?: boolean }, tool: string, ...args: string[]): Command {
  if (typeof at === 'string') return cmd('docker', 'exec', ...(o.stdin ? ['-i'] : []), at, tool, ...args);
  return cmd(
    'runuser',
    '-u',
    at.installed.superuser,
    '--',
    'env',
    '-C',
    '/',
    `PGPORT=${at.installed.port}`,
    ...(o.role ? [`PGOPTIONS=-c role=${o.role}`] : []),
    tool,
    ...args,
  );
}
