/**
 * MySQL and MariaDB, backed up consistently: `mysqldump --single-transaction` (one InnoDB
 * snapshot) streamed into restic, and the run's manifest made from the very bytes that went
 * into the repository: every table's rows and a hash of its rows, read off the dump as it
 * passes. A drill loads the dump into a scratch server of the same image, dumps it again
 * with the same options and reads the same figures: equal figures prove every row came back.
 *
 * The client logs in inside the container with the credentials of its own environment, as
 * the official images take them (MARIADB_ROOT_PASSWORD or MYSQL_ROOT_PASSWORD, or their
 * _FILE forms; else MARIADB_USER/MYSQL_USER and its password), passed to the client in
 * MYSQL_PWD: no command line holds a password. Nothing here runs anything.
 */
import { cmd, type Command } from '../shell/command.js';
import { argvOf, backupInto, dumpFile, type RepoAccess } from './restic.js';

/**
 * The client inside the container (POSIX sh): `ferry-mysql sql|dump|user ARGS`. `sql` runs
 * mariadb (or mysql), `dump` mariadb-dump (or mysqldump), `user` prints who logs in.
 */
export const MYSQL_CLIENT = `pw() { if [ -n "$2" ]; then cat "$2"; else printf '%s' "$1"; fi; }
u=root
p=$(pw "\${MARIADB_ROOT_PASSWORD:-\${MYSQL_ROOT_PASSWORD:-}}" "\${MARIADB_ROOT_PASSWORD_FILE:-\${MYSQL_ROOT_PASSWORD_FILE:-}}") || exit 1
if [ -z "$p" ] && [ -z "\${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-\${MYSQL_ALLOW_EMPTY_PASSWORD:-}}" ]; then
  u=\${MARIADB_USER:-\${MYSQL_USER:-}}
  [ -n "$u" ] || { echo "the container's environment has no root password and no MARIADB_USER or MYSQL_USER to log in with" >&2; exit 1; }
  p=$(pw "\${MARIADB_PASSWORD:-\${MYSQL_PASSWORD:-}}" "\${MARIADB_PASSWORD_FILE:-\${MYSQL_PASSWORD_FILE:-}}") || exit 1
fi
export MYSQL_PWD="$p"
tool=$1; shift
case $tool in
  user) echo "$u"; exit 0 ;;
  sql) set -- mariadb mysql "$@" ;;
  dump) set -- mariadb-dump mysqldump "$@" ;;
  *) echo "ferry-mysql: unknown tool $tool" >&2; exit 2 ;;
esac
if command -v "$1" >/dev/null 2>&1; then b=$1; else b=$2; fi
shift 2
exec "$b" -u"$u" "$@"`;

/**
 * The dump's options, the same for a backup and for a drill's second dump: one snapshot
 * (InnoDB), one INSERT per row (so that rows can be counted and hashed line by line) in one
 * transaction per table (a restore does not commit row by row), binary values in hex.
 */
export const DUMP_FLAGS = [
  '--single-transaction',
  '--quick',
  '--skip-extended-insert',
  '--no-autocommit',
  '--hex-blob',
  '--skip-dump-date',
  '--no-tablespaces',
  '--triggers',
];

/**
 * The dump's figures, read as it streams through (awk, which passes every line on): each
 * table of each database (`USE`) is registered by its `CREATE TABLE`, its rows counted by
 * their INSERT lines and those lines hashed, in order, by a sha256sum of its own. At the end,
 * `DIR/tables` lists `DB.TABLE<TAB>ROWS<TAB>K`, the hash in `DIR/K`.
 */
export const MYSQL_SUMS = `function reg(k) {
  if (!(k in rows)) { rows[k] = 0; n++; order[n] = k; hash[k] = "sha256sum >> " dir "/" n }
}
{ print }
/^USE \`/ { db = substr($0, 5); sub(/;$/, "", db); next }
/^CREATE TABLE \`/ { t = substr($0, 14); sub(/ \\($/, "", t); reg(db "." t); next }
/^INSERT INTO \`/ {
  t = substr($0, 13); i = index(t, " VALUES ("); t = substr(t, 1, i - 1); k = db "." t; reg(k)
  if (k != cur) { if (cur != "") close(hash[cur]); cur = k }
  rows[k]++; print | hash[k]
}
END {
  if (cur != "") close(hash[cur])
  for (j = 1; j <= n; j++) print order[j] "\\t" rows[order[j]] "\\t" j > (dir "/tables")
  if (n == 0) printf "" > (dir "/tables")
}`;

/**
 * A dump of one INSERT per row made quick to load: consecutive rows of a table joined into
 * one INSERT of at most 1,000 rows and 1 MiB (each line is exactly one row, so this is
 * text, not parsing); every other line passed on as it is. The same rows, in the same
 * order, in the same transactions. Used as `awk 'MYSQL_BATCH'` (it holds no single quote).
 */
export const MYSQL_BATCH = `function flush() { if (n > 0) { print buf ";"; n = 0; bytes = 0 } }
/^INSERT INTO \`/ {
  i = index($0, " VALUES (")
  head = substr($0, 1, i + 7)
  row = substr($0, i + 8); sub(/;$/, "", row)
  if (n > 0 && (head != cur || bytes + length(row) > 1048576 || n >= 1000)) flush()
  if (n == 0) { buf = head row; cur = head } else buf = buf "," row
  n++; bytes += length(row); next
}
{ flush(); print }
END { flush() }`;

/** The `table|DB.TABLE|ROWS|SHA256` lines of the figures in directory $t (a table without rows: the hash of nothing). */
const PRINT_TABLES = `while IFS=$'\\t' read -r name rows k; do
  sum=$(cut -d ' ' -f 1 "$t/$k" 2>/dev/null || true)
  echo "table|$name|$rows|\${sum:-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855}"
done < "$t/tables"`;

/**
 * The figures of databases "\${dbs[@]}" of container $c as they are now: dumped with the
 * backup's options and read by the figures' program ($sums), printed `table|...`.
 */
const FIGURES = `t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
docker exec "$c" sh -c "$my" ferry-mysql dump ${DUMP_FLAGS.join(' ')} --databases "\${dbs[@]}" | awk -v dir="$t" "$sums" >/dev/null
${PRINT_TABLES}`;

const DB_LIST =
  "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1";

/**
 * A MySQL/MariaDB service into restic: its databases (all but the system ones it can see,
 * printed `database|NAME`), then one dump of them all in one snapshot streamed through the
 * figures into `restic backup --stdin-from-command` (a dump that fails fails the backup),
 * then the figures (`table|...`). As root, routines and events are dumped too. $1 container,
 * $2 the client (MYSQL_CLIENT), $3 the figures' awk program, then restic's argv.
 */
export const MYSQL_BACKUP = `set -euo pipefail
trap 'rc=$?; echo "MySQL backup, line $LINENO: exit $rc of: $BASH_COMMAND" >&2' ERR
c=$1 my=$2 sums=$3; shift 3
t=$(mktemp -d); trap 'rm -rf "$t"' EXIT
list=$(docker exec "$c" sh -c "$my" ferry-mysql sql -N -B -e ${JSON.stringify(DB_LIST)})
mapfile -t dbs < <(grep . <<<"$list" || true)
[ \${#dbs[@]} -gt 0 ] || { echo "no database to back up in $c" >&2; exit 1; }
flags=(${DUMP_FLAGS.join(' ')})
[ "$(docker exec "$c" sh -c "$my" ferry-mysql user)" != root ] || flags+=(--routines --events)
printf 'database|%s\\n' "\${dbs[@]}"
"$@" --stdin-from-command -- bash -c 'set -o pipefail; c=$1 my=$2 t=$3 sums=$4; shift 4; docker exec "$c" sh -c "$my" ferry-mysql dump "$@" | awk -v dir="$t" "$sums"' \\
  ferry-mysql-dump "$c" "$my" "$t" "$sums" "\${flags[@]}" --databases "\${dbs[@]}"
${PRINT_TABLES}`;

/**
 * A drill's proof of a MySQL/MariaDB dump: the scratch server awaited (its log's `port:` line
 * of a server that listens, then a query: the official images start a server of their own
 * first to initialise), the dump from the repository loaded, the databases dumped again with
 * the same options and the figures printed (`table|...`). $1 scratch container, $2 the
 * client, $3 the figures' program, $4 the databases (one per line), then the argv writing
 * the dump to stdout (`restic dump`).
 */
export const MYSQL_PROVE = `set -euo pipefail
trap 'rc=$?; echo "MySQL restore, line $LINENO: exit $rc of: $BASH_COMMAND" >&2' ERR
c=$1 my=$2 sums=$3 list=$4; shift 4
up() { docker logs "$c" 2>&1 | grep -qE "Version: '.*port: [1-9]" && docker exec "$c" sh -c "$my" ferry-mysql sql -e 'SELECT 1' >/dev/null 2>&1; }
for ((w = 0; w < 720; w++)); do up && break; sleep 0.25; done
up || { echo "the scratch server $c does not accept connections after 180 s: $(docker logs --tail 5 "$c" 2>&1 | tr '\\n' ' ')" >&2; exit 1; }
"$@" | awk '${MYSQL_BATCH}' | docker exec -i "$c" sh -c "$my" ferry-mysql sql
mapfile -t dbs <<<"$list"
${FIGURES}`;

/**
 * The figures of a live MySQL/MariaDB service's databases, as a backup reads them: $1
 * container, $2 the client, $3 the figures' program, $4 the databases (one per line). A
 * database the server does not have has no tables (nothing is printed for it).
 */
export const MYSQL_FIGURES = `set -euo pipefail
c=$1 my=$2 sums=$3
have=$(docker exec "$c" sh -c "$my" ferry-mysql sql -N -B -e ${JSON.stringify(DB_LIST)})
mapfile -t dbs < <(grep -Fxf <(printf '%s\\n' "$have") <<<"$4" || true)
[ \${#dbs[@]} -gt 0 ] || exit 0
${FIGURES}`;

export const mysqlFigures = (container: string, databases: string[]): Command =>
  cmd('bash', '-c', MYSQL_FIGURES, 'ferry-mysql-figures', container, MYSQL_CLIENT, MYSQL_SUMS, databases.join('\n'));

/** Service `service` of run `run` in container `container` into the repository. */
export const mysqlBackup = (r: RepoAccess, container: string, service: string, run: string): Command =>
  cmd(
    'bash',
    '-c',
    MYSQL_BACKUP,
    'ferry-backup',
    container,
    MYSQL_CLIENT,
    MYSQL_SUMS,
    ...argvOf(backupInto(r, run, 'mysql', service, mysqlFile(service))),
  );

/** The databases a MySQL backup printed (`database|NAME`). */
export const databasesOf = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('database|'))
    .map((l) => l.slice('database|'.length));

/** The file a MySQL/MariaDB service's dump is stored as in its snapshot. */
export const mysqlFile = (service: string): string => `mysql-${service}.sql`;

/**
 * A throwaway server of the backed-up image, with no network, its root password a random
 * one of the drill's (nothing can connect from outside), under both images' names for it.
 */
export const scratchMysql = (name: string, label: string, image: string, password: string): Command =>
  cmd(
    'docker',
    'run',
    '-d',
    '--name',
    name,
    '--label',
    label,
    '--network',
    'none',
    '-e',
    `MARIADB_ROOT_PASSWORD=${password}`,
    '-e',
    `MYSQL_ROOT_PASSWORD=${password}`,
    image,
  );

/** The dump of `service` from the snapshot loaded into the scratch container, then its figures. */
export const proveMysql = (
  r: RepoAccess,
  snapshot: string,
  container: string,
  service: string,
  databases: string[],
): Command =>
  cmd(
    'bash',
    '-c',
    MYSQL_PROVE,
    'ferry-drill',
    container,
    MYSQL_CLIENT,
    MYSQL_SUMS,
    databases.join('\n'),
    ...argvOf(dumpFile(r, snapshot, `/${mysqlFile(service)}`)),
  );
