/**
 * `ferry restore` of a MySQL/MariaDB service, as data. MySQL cannot rename a database, so
 * the restore keeps dumps instead of renamed databases, all in the restore's directory
 * (mode 700) under its id:
 *
 *   stage   the dump taken out of the repository (`mysql-SVC.sql.partial`), loaded into a
 *           scratch server of the same image and proven against the manifest; only then
 *           named `mysql-SVC.sql` (staged)
 *   swap    with the stack's other services stopped: the live databases dumped once
 *           (`mysql-SVC.before.sql`, the kept copy, never written again once there), then
 *           dropped and the staged dump loaded; the staged file is then named
 *           `mysql-SVC.restored.sql` (swapped). A swap killed at any point runs again from
 *           the kept copy's presence: it never dumps a half-loaded server over it.
 *   undo    the live (restored, perhaps written to) databases dumped once
 *           (`mysql-SVC.served.sql`), dropped, and the kept copy loaded back; it is then
 *           named `mysql-SVC.before.put-back.sql`.
 *
 * Only the databases of the backup are dropped and loaded: users, grants and the system
 * databases stay as they are. Nothing here runs anything.
 */
import { cmd, render, type Command } from '../shell/command.js';
import { DUMP_FLAGS, MYSQL_BATCH, MYSQL_CLIENT, MYSQL_PROVE, MYSQL_SUMS, mysqlFile } from './mysql.js';
import { dumpFile, type RepoAccess } from './restic.js';
import { sqlLiteral } from '../shell/sql.js';

/** The restore's own directory on the server. */
export const restoreDir = (stack: string, id: string): string => `/var/lib/ferry/restore/${stack}-${id}`;

/** The files of one MySQL service's restore. */
export interface MysqlFiles {
  /** Taken out of the repository, not proven yet. */
  partial: string;
  /** Proven: ready to be loaded. */
  staged: string;
  /** The live databases before the restore: the kept copy. */
  before: string;
  /** The staged dump once loaded. */
  restored: string;
  /** The live databases when the restore was undone. */
  served: string;
  /** The kept copy once loaded back. */
  putBack: string;
}

export function mysqlFiles(stack: string, id: string, service: string): MysqlFiles {
  const base = `${restoreDir(stack, id)}/${mysqlFile(service).replace(/\.sql$/, '')}`;
  return {
    partial: `${base}.sql.partial`,
    staged: `${base}.sql`,
    before: `${base}.before.sql`,
    restored: `${base}.restored.sql`,
    served: `${base}.served.sql`,
    putBack: `${base}.before.put-back.sql`,
  };
}

/** The dump of `service` from the snapshot into the partial file (pipefail: restic's failure fails it). */
export const takeOutDump = (r: RepoAccess, snapshot: string, service: string, f: MysqlFiles): Command =>
  cmd(
    'bash',
    '-c',
    `set -o pipefail; install -d -m 700 "\${1%/*}" && ${render(dumpFile(r, snapshot, `/${mysqlFile(service)}`))} > "$1"`,
    'ferry-restore-take-out',
    f.partial,
  );

/** The partial dump loaded into scratch container `container` and its figures printed (`table|...`). */
export const proveStaged = (container: string, databases: string[], f: MysqlFiles): Command =>
  cmd(
    'bash',
    '-c',
    MYSQL_PROVE,
    'ferry-restore-prove',
    container,
    MYSQL_CLIENT,
    MYSQL_SUMS,
    databases.join('\n'),
    'cat',
    '--',
    f.partial,
  );

/** The bytes the databases take in the server (data and indexes): about what each of their dumps takes. */
export const databasesSize = (container: string, databases: string[]): Command =>
  cmd(
    'docker',
    'exec',
    container,
    'sh',
    '-c',
    MYSQL_CLIENT,
    'ferry-mysql',
    'sql',
    '-N',
    '-B',
    '-e',
    `SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables WHERE table_schema IN (${databases.map(sqlLiteral).join(', ') || "''"})`,
  );

/** The proven dump named staged. */
export const markStaged = (f: MysqlFiles): Command => cmd('mv', '-f', '--', f.partial, f.staged);

/**
 * `dump_once FILE`: the databases "${dbs[@]}" that the server has dumped into FILE unless
 * it is there (through FILE.partial: a dump killed midway is never taken for a whole one);
 * `replace FILE`: those databases dropped and FILE loaded. As root, routines and events too.
 */
const HELPERS = `dump_once() {
  [ ! -e "$1" ] || return 0
  local have keep flags=(${DUMP_FLAGS.join(' ')})
  have=$(docker exec "$c" sh -c "$my" ferry-mysql sql -N -B -e 'SELECT schema_name FROM information_schema.schemata')
  mapfile -t keep < <(grep -Fxf <(printf '%s\\n' "$have") < <(printf '%s\\n' "\${dbs[@]}") || true)
  [ "$(docker exec "$c" sh -c "$my" ferry-mysql user)" != root ] || flags+=(--routines --events)
  if [ \${#keep[@]} -gt 0 ]; then
    docker exec "$c" sh -c "$my" ferry-mysql dump "\${flags[@]}" --databases "\${keep[@]}" > "$1.partial"
  else : > "$1.partial"; fi
  mv -f -- "$1.partial" "$1"
}
replace() {
  { for d in "\${dbs[@]}"; do printf 'DROP DATABASE IF EXISTS \`%s\`;\\n' "\${d//\\\`/\\\`\\\`}"; done; awk '${MYSQL_BATCH}' < "$1"; } \\
    | docker exec -i "$c" sh -c "$my" ferry-mysql sql
}`;

/**
 * The swap and its undo, which are the same moves: when `load` is there, what is live is
 * dumped once into `before`, replaced by `load`, and `load` named `after`. $1 container,
 * $2 the client, $3 the databases (one per line), $4 load, $5 before, $6 after. Nothing to
 * load: nothing to do.
 */
export const MYSQL_REPLACE = `set -euo pipefail
c=$1 my=$2; mapfile -t dbs <<<"$3"; load=$4 before=$5 after=$6
${HELPERS}
[ -e "$load" ] || exit 0
dump_once "$before"
replace "$load"
mv -f -- "$load" "$after"`;

const replaceWith = (container: string, databases: string[], load: string, before: string, after: string): Command =>
  cmd(
    'bash',
    '-c',
    MYSQL_REPLACE,
    'ferry-restore-replace',
    container,
    MYSQL_CLIENT,
    databases.join('\n'),
    load,
    before,
    after,
  );

/** The swap: the staged dump loaded, the live databases kept in `before`, the staged file then named `restored`. */
export const swapMysql = (container: string, databases: string[], f: MysqlFiles): Command =>
  replaceWith(container, databases, f.staged, f.before, f.restored);

/** The swap undone: the kept copy loaded back, what was served kept in `served`, the kept copy then named `putBack`. */
export const unswapMysql = (container: string, databases: string[], f: MysqlFiles): Command =>
  replaceWith(container, databases, f.before, f.served, f.putBack);

/** What a restore of the service left besides its kept copy: the partial and staged dumps removed (never served). */
export const unstageMysql = (f: MysqlFiles): Command => cmd('rm', '-f', '--', f.partial, f.staged);
