/**
 * What the exporter of a Postgres installed on a server logs in with: a role of Ferry's
 * (`ferry_monitor`, a member of `pg_monitor`: it reads statistics, not data), whose password
 * is made on the server and never leaves it (a root file, mode 600, mounted read-only into
 * the exporter), and a block of `pg_hba.conf` that lets that role in from loopback. Pure:
 * the commands the step runs (host-postgres-step.ts).
 */
import type { HostPostgresDef } from '../model/fleet.js';
import { script, type Command } from '../shell/command.js';
import { hbaBlock } from '../deploy/host-postgres.js';

export const MONITOR_ROLE = 'ferry_monitor';
export const MONITOR_PASSWORD_FILE = '/etc/ferry/monitoring/host-postgres.pass';
/** Its block's name in pg_hba.conf. */
export const MONITOR_BLOCK = 'monitoring';
/** The exporter holds one connection; a few more leave room for a restart's overlap. */
export const MONITOR_CONNECTIONS = 3;

/** The monitoring role's block of pg_hba.conf: the role, to the `postgres` database, from loopback. */
export const monitorHbaBlock = (): string =>
  hbaBlock(MONITOR_BLOCK, [{ database: 'postgres', user: MONITOR_ROLE }], ['127.0.0.1/32']);

/** Prints `file` when the password file is there (48 hex digits). */
export const passwordFileCommand = (): Command =>
  script('grep -qxE "[0-9a-f]{48}" "$1" 2>/dev/null && echo file; exit 0', MONITOR_PASSWORD_FILE);

/** The role's state: `role` when it exists, `member` when it is in pg_monitor (as SQL for psqlAsSuperuser). */
export const ROLE_SQL = `SELECT 'role' FROM pg_roles WHERE rolname = '${MONITOR_ROLE}' UNION ALL SELECT 'member' FROM pg_roles WHERE rolname = '${MONITOR_ROLE}' AND pg_has_role(oid, 'pg_monitor', 'member')`;

/** 24 random bytes in hex, written once (root's, mode 600); kept when it is there. */
export const makePasswordCommand = (): Command =>
  script(
    'f="$1"; umask 077; mkdir -p "$(dirname "$f")"; grep -qxE "[0-9a-f]{48}" "$f" 2>/dev/null && exit 0; od -An -tx1 -N24 /dev/urandom | tr -d " \\n" > "$f.tmp" && mv "$f.tmp" "$f"',
    MONITOR_PASSWORD_FILE,
  );

/**
 * The role created when missing, put in pg_monitor, its connections limited, and its
 * password set from the file: the SQL reaches psql on its standard input (printf is the
 * shell's own), so the password is on no command line.
 */
export function setRoleCommand(pg: HostPostgresDef): Command {
  const sql = [
    `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${MONITOR_ROLE}') THEN CREATE ROLE ${MONITOR_ROLE}; END IF; END$$;`,
    `GRANT pg_monitor TO ${MONITOR_ROLE};`,
    `ALTER ROLE ${MONITOR_ROLE} WITH LOGIN NOSUPERUSER CONNECTION LIMIT ${MONITOR_CONNECTIONS} PASSWORD '%s';`,
  ].join('\n');
  return script(
    `pw=$(cat "$1") || exit 1; case "$pw" in *[!0-9a-f]*|'') echo "$1 does not hold a password Ferry made" >&2; exit 1;; esac; cd / && printf "${sql.replaceAll('$', '\\$')}\\n" "$pw" | runuser -u "$2" -- psql -p "$3" -d postgres -XAtq -v ON_ERROR_STOP=1`,
    MONITOR_PASSWORD_FILE,
    pg.superuser,
    String(pg.port),
  );
}

/** Logs in as the exporter will: the role, its password, over TCP on loopback. */
export const loginCommand = (pg: HostPostgresDef): Command =>
  script(
    'PGPASSWORD=$(cat "$1") PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p "$2" -U "$3" -d postgres -XAtqc "SELECT 1"',
    MONITOR_PASSWORD_FILE,
    String(pg.port),
    MONITOR_ROLE,
  );

/** The role dropped and its password file removed (the step's undo, when it made them). */
export function dropCommand(pg: HostPostgresDef, role: boolean, file: boolean): Command {
  return script(
    `${role ? `cd / && runuser -u "$2" -- psql -p "$3" -d postgres -XAtq -c 'DROP ROLE IF EXISTS ${MONITOR_ROLE}' || exit 1; ` : ''}${file ? 'rm -f "$1"' : 'true'}`,
    MONITOR_PASSWORD_FILE,
    pg.superuser,
    String(pg.port),
  );
}
