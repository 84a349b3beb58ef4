/**
 * The commands of `ferry restore`, as data. A restore never overwrites what the stack
 * serves: each source is restored beside it first (a staging database, a staging RDB file,
 * a staging directory on the volume's filesystem) and proven there; the swap then renames
 * the live data aside (`..._before_ID`, kept) and the staged data into its place. Every
 * name carries the restore's id, so that a resumed run finds what the killed one made.
 */
import { cmd, type Command } from '../shell/command.js';
import { sqlIdent, sqlLiteral } from '../shell/sql.js';
import type { Database } from '../migrate/postgres.js';
import { psqlIn } from '../migrate/dump-commands.js';
import { argvOf, dumpFile, restoreTo, type RepoAccess } from './restic.js';

/** Postgres caps names at 63 bytes: the database's part is cut to leave room for the suffix. */
const dbPart = (db: string): string => Buffer.from(db).subarray(0, 40).toString();

/** Where a database is restored and proven before the swap: never served. */
export const stagingDb = (db: string): string => `${dbPart(db)}_ferry_restore`;
/** The database as it was before the restore, kept after the swap. */
export const beforeDb = (db: string, id: string): string => `${dbPart(db)}_before_${id}`;
/** The restored database, moved aside when the swap is undone (it may have served writes). */
export const restoredDb = (db: string, id: string): string => `${dbPart(db)}_restored_${id}`;

/** Another database to connect to: `template1` when the stack's own is `postgres`. */
const maintenanceDb = (db: string): string => (db === 'postgres' ? 'template1' : 'postgres');

/** The names among the database, its staging copy and its kept copies that exist, one per line. */
export const databasesPresent = (container: string, d: Database, id: string): Command =>
  psqlIn(
    container,
    d,
    maintenanceDb(d.db),
    '-c',
    `SELECT datname FROM pg_database WHERE datname IN (${[d.db, stagingDb(d.db), beforeDb(d.db, id), restoredDb(d.db, id)].map(sqlLiteral).join(', ')}) ORDER BY 1`,
  );

/** `BYTES|DATA_DIRECTORY` of the live database: the room its staging copy will take, and where. */
export const databaseSize = (container: string, d: Database): Command =>
  psqlIn(
    container,
    d,
    d.db,
    '-c',
    "SELECT pg_database_size(current_database()) || '|' || current_setting('data_directory')",
  );

/** The sessions of `db` ended (a killed load's, or any), as a first `-c` of a command. */
const endSessions = (db: string): string[] => [
  '-c',
  `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${sqlLiteral(db)} AND pid <> pg_backend_pid()`,
];

/** The staging database dropped (it was never served; a killed load's sessions ended first). */
const dropArgs = (db: string): string[] => [
  ...endSessions(stagingDb(db)),
  '-c',
  `DROP DATABASE IF EXISTS ${sqlIdent(stagingDb(db))}`,
];

export const dropStaging = (container: string, d: Database): Command =>
  psqlIn(container, d, maintenanceDb(d.db), ...dropArgs(d.db));

/** The staging database made anew, empty, owned by the stack's role. */
export const createStaging = (container: string, d: Database): Command =>
  psqlIn(
    container,
    d,
    maintenanceDb(d.db),
    ...dropArgs(d.db),
    '-c',
    `CREATE DATABASE ${sqlIdent(stagingDb(d.db))} TEMPLATE template0`,
  );

/** The dump of `snapshot` from the repository into the staging database (pipefail: either side's failure fails it). */
export const loadStaging = (r: RepoAccess, snapshot: string, container: string, d: Database): Command =>
  cmd(
    'bash',
    '-c',
    'set -o pipefail; c=$1 u=$2 d=$3; shift 3; "$@" | docker exec -i "$c" psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -U "$u" -d "$d"',
    'ferry-restore-load',
    container,
    d.user,
    stagingDb(d.db),
    ...argvOf(dumpFile(r, snapshot, `/postgres-${d.service}.sql`)),
  );

/**
 * The swap, in one session: the live database closed to new sessions, its sessions ended
 * (waited for, at most 30 s), renamed to its kept name, the staging database renamed into
 * its place, and the kept copy opened again (it is served by no name the stack uses).
 */
export const swapDatabases = (container: string, d: Database, id: string): Command => {
  const [live, staged, before] = [d.db, stagingDb(d.db), beforeDb(d.db, id)].map(sqlLiteral);
  return psqlIn(
    container,
    d,
    maintenanceDb(d.db),
    '-c',
    `ALTER DATABASE ${sqlIdent(d.db)} WITH ALLOW_CONNECTIONS false`,
    '-c',
    [
      'DO $$ DECLARE n int; BEGIN',
      `FOR i IN 1..300 LOOP PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${live} AND pid <> pg_backend_pid();`,
      `SELECT count(*) INTO n FROM pg_stat_activity WHERE datname = ${live} AND pid <> pg_backend_pid(); EXIT WHEN n = 0; PERFORM pg_sleep(0.1); END LOOP;`,
      `EXECUTE format('ALTER DATABASE %I RENAME TO %I', ${live}, ${before});`,
      `EXECUTE format('ALTER DATABASE %I RENAME TO %I', ${staged}, ${live});`,
      `EXECUTE format('ALTER DATABASE %I WITH ALLOW_CONNECTIONS true', ${before});`,
      'END $$',
    ].join(' '),
  );
};

/**
 * The swap undone: the restored database (it may have served) renamed aside, the kept one
 * back into its place. A database the swap closed but did not rename is opened again.
 */
export const unswapDatabases = (container: string, d: Database, id: string): Command => {
  const [live, before, restored] = [d.db, beforeDb(d.db, id), restoredDb(d.db, id)].map(sqlLiteral);
  return psqlIn(
    container,
    d,
    maintenanceDb(d.db),
    '-c',
    [
      'DO $$ BEGIN',
      `IF EXISTS (SELECT 1 FROM pg_database WHERE datname = ${before}) THEN`,
      `PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${live};`,
      `EXECUTE format('ALTER DATABASE %I RENAME TO %I', ${live}, ${restored});`,
      `EXECUTE format('ALTER DATABASE %I RENAME TO %I', ${before}, ${live});`,
      'END IF;',
      `EXECUTE format('ALTER DATABASE %I WITH ALLOW_CONNECTIONS true', ${live});`,
      'END $$',
    ].join(' '),
  );
};

/** The RDB file of `snapshot` into `path` (on the server). */
export const stageRdb = (r: RepoAccess, snapshot: string, service: string, path: string): Command =>
  cmd(
    'bash',
    '-c',
    'set -o pipefail; p=$1; shift; umask 077; "$@" > "$p.part" && mv -f "$p.part" "$p"',
    'ferry-restore-rdb',
    path,
    ...argvOf(dumpFile(r, snapshot, `/redis-${service}.rdb`)),
  );

/** redis-check-rdb of the Redis image on a file of the server: it checks the CRC and counts the keys. */
export const checkRdbFile = (image: string, path: string): Command =>
  cmd(
    'docker',
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'redis-check-rdb',
    '-v',
    `${path}:/restore.rdb:ro`,
    image,
    '/restore.rdb',
  );

/** Where Redis keeps its data on the server, and in which files. */
export interface RedisFiles {
  /** The host directory mounted at Redis's `dir`. */
  dir: string;
  dbfilename: string;
  /** With `appendonly yes`: the AOF's directory (Redis 7) or file (Redis 6), relative to `dir`. */
  aof?: { dirname?: string; filename: string };
}

export const stagedRdb = (f: RedisFiles, id: string): string => `${f.dir}/.ferry-restore-${id}.rdb`;
export const redisBefore = (f: RedisFiles, id: string): string => `${f.dir}/.ferry-before-${id}`;

/**
 * The swap of a stopped Redis: its RDB and AOF moved into the kept directory, the staged
 * RDB into place as the RDB, and with AOF on also as the base of a new AOF (Redis 7: a
 * manifest naming it; Redis 6: the AOF file itself, which may begin with an RDB), since a
 * Redis with AOF on and no AOF starts empty. Files take the directory's owner.
 */
export const swapRedis = (f: RedisFiles, id: string): Command =>
  cmd(
    'bash',
    '-c',
    `set -euo pipefail
dir=$1 rdb=$2 staged=$3 before=$4 aofdir=$5 aoffile=$6
[ -e "$staged" ] || { echo "no staged RDB at $staged" >&2; exit 1; }
mkdir -p "$before"
for f in "$rdb" \${aofdir:+"$aofdir"} \${aoffile:+"$aoffile"}; do [ ! -e "$dir/$f" ] || mv -f "$dir/$f" "$before/"; done
if [ -n "$aoffile" ] && [ -n "$aofdir" ]; then
  mkdir "$dir/$aofdir"; cp "$staged" "$dir/$aofdir/$aoffile.1.base.rdb"
  printf 'file %s seq 1 type b\\n' "$aoffile.1.base.rdb" > "$dir/$aofdir/$aoffile.manifest"
  chown -R --reference="$dir" "$dir/$aofdir"
elif [ -n "$aoffile" ]; then
  cp "$staged" "$dir/$aoffile"; chown --reference="$dir" "$dir/$aoffile"
fi
chown --reference="$dir" "$staged"; mv -f "$staged" "$dir/$rdb"`,
    'ferry-restore-redis',
    f.dir,
    f.dbfilename,
    stagedRdb(f, id),
    redisBefore(f, id),
    f.aof?.dirname ?? '',
    f.aof?.filename ?? '',
  );

/** The swap undone: the restored files moved into `.ferry-restored-ID`, the kept ones back. */
export const unswapRedis = (f: RedisFiles, id: string): Command =>
  cmd(
    'bash',
    '-c',
    `set -euo pipefail
dir=$1 before=$2 restored=$3; shift 3
[ -d "$before" ] || exit 0
mkdir -p "$restored"
for f in "$@"; do [ ! -e "$dir/$f" ] || mv -f "$dir/$f" "$restored/"; done
for f in "$before"/* "$before"/.[!.]*; do [ ! -e "$f" ] || mv -f "$f" "$dir/"; done
rmdir "$before"`,
    'ferry-restore-redis-undo',
    f.dir,
    redisBefore(f, id),
    `${f.dir}/.ferry-restored-${id}`,
    ...[f.dbfilename, f.aof?.dirname ?? f.aof?.filename].filter((x): x is string => x !== undefined),
  );

/**
 * A directory beside `dir` on the same filesystem (the swap is a rename): for a volume,
 * `ferry-WORD-ID` beside its `_data` (alone in its parent); for a path, which may share its
 * parent, `.NAME.ferry-WORD-ID`.
 */
function beside(dir: string, word: string, id: string): string {
  const at = dir.lastIndexOf('/');
  const base = dir.slice(at + 1);
  return `${dir.slice(0, at)}/${base === '_data' ? '' : `.${base}.`}ferry-${word}-${id}`;
}

/** A directory's staging directory. */
export const volumeStage = (dir: string, id: string): string => beside(dir, 'restore', id);
/** Where the live files are kept by the swap. */
export const volumeBefore = (dir: string, id: string): string => beside(dir, 'before', id);
/** Where restic puts the files of a volume backed up from `path`: it keeps the absolute path. */
export const stagedVolume = (mountpoint: string, id: string, path: string): string =>
  `${volumeStage(mountpoint, id)}${path}`;

export const stageVolume = (r: RepoAccess, snapshot: string, mountpoint: string, id: string): Command =>
  restoreTo(r, snapshot, volumeStage(mountpoint, id));

/** The volume's files moved aside, the staged ones into place, the staging directory removed. */
export const swapVolume = (mountpoint: string, id: string, path: string): Command =>
  cmd(
    'bash',
    '-c',
    'set -euo pipefail; m=$1 staged=$2 before=$3 stage=$4; [ -d "$staged" ] || { echo "nothing staged at $staged" >&2; exit 1; }; [ -e "$before" ] || mv "$m" "$before"; mv "$staged" "$m"; rm -rf -- "$stage"',
    'ferry-restore-volume',
    mountpoint,
    stagedVolume(mountpoint, id, path),
    volumeBefore(mountpoint, id),
    volumeStage(mountpoint, id),
  );

export const unswapVolume = (mountpoint: string, id: string): Command =>
  cmd(
    'bash',
    '-c',
    'set -euo pipefail; m=$1 before=$2 restored=$3; [ -d "$before" ] || exit 0; [ ! -e "$m" ] || mv "$m" "$restored"; mv "$before" "$m"',
    'ferry-restore-volume-undo',
    mountpoint,
    volumeBefore(mountpoint, id),
    beside(mountpoint, 'restored', id),
  );

/** What exists of a staged restore and a kept copy, as `staged` / `before` lines. */
export const pathsPresent = (staged: string, before: string): Command =>
  cmd(
    'bash',
    '-c',
    '[ ! -e "$1" ] || echo staged; [ ! -e "$2" ] || echo before',
    'ferry-restore-state',
    staged,
    before,
  );

/** A staging file or directory removed: it was never served. */
export const removeStaged = (path: string): Command => cmd('rm', '-rf', '--', path);
