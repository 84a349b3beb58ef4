/**
 * restic's commands, as data. The password is read by restic from a mode-600 file on the
 * server (RESTIC_PASSWORD_FILE): no command line holds it. A repository on another server
 * is reached over SFTP through an SSH channel from the stack's server (`sftp.command`).
 * Nothing here runs anything.
 */
import { tcpOpen } from '../shell/tcp.js';
import { aptInstall } from '../deploy/steps/packages.js';
import { cmd, type Command } from '../shell/command.js';
import { sshArgv, type Channel } from '../migrate/channel.js';
import type { Secret } from '../core/secret.js';

/** Where a stack's password file lives on its server. */
export const passwordFile = (stack: string): string => `/etc/ferry/backup/${stack}.password`;

/** How the stack's server reaches one repository. */
export interface RepoAccess {
  /** The repository's name in ferry.yml. */
  name: string;
  stack: string;
  /** A local path, or `sftp:USER@ADDRESS:PATH`. */
  url: string;
  /** For an SFTP repository: the channel from the stack's server to the repository's. */
  channel?: Channel;
  /**
   * The mode-600 file on the server that holds a repository's credentials: for a REST
   * repository with a user, its URL with them (`holds: 'url'`, read with
   * `--repository-file`; `url` is then shown only); for a bucket, its keys in the AWS
   * credentials format (`holds: 'keys'`, read through AWS_SHARED_CREDENTIALS_FILE).
   * `content`, a secret, when this machine has it (to write the file).
   */
  file?: { path: string; content?: Secret; holds: 'url' | 'keys' };
  /** A bucket's region (AWS_DEFAULT_REGION), when ferry.yml gives it. */
  region?: string;
}

/**
 * The channel's ssh command for restic's `sftp.command`, without the cipher list: restic
 * cuts an option's value at its commas (`-o Ciphers=a,b` reaches ssh as `-o Ciphers=a` and
 * a stray `b`, and ssh prints its usage).
 */
export function sftpCommand(ch: Channel): string {
  const argv = sshArgv(ch);
  const at = argv.findIndex((a) => a.startsWith('Ciphers='));
  return [...(at > 0 ? [...argv.slice(0, at - 1), ...argv.slice(at + 1)] : argv), '-s', 'sftp'].join(' ');
}

/** `restic -r URL [-o sftp.command=...]` with the password file in its environment. */
export function restic(r: RepoAccess, ...args: string[]): Command {
  const sftp = r.channel ? ['-o', `sftp.command=${sftpCommand(r.channel)}`] : [];
  const repo = r.file?.holds === 'url' ? ['--repository-file', r.file.path] : ['-r', r.url];
  return cmd(
    'env',
    `RESTIC_PASSWORD_FILE=${passwordFile(r.stack)}`,
    ...bucketEnv(r),
    'restic',
    ...repo,
    ...sftp,
    ...args,
  );
}

/** What restic needs in its environment for a bucket: its keys file and region; none for any other repository. */
export const bucketEnv = (r: RepoAccess): string[] => [
  ...(r.file?.holds === 'keys' ? [`AWS_SHARED_CREDENTIALS_FILE=${r.file.path}`] : []),
  ...(r.region ? [`AWS_DEFAULT_REGION=${r.region}`] : []),
];

/** A REST repository's or a bucket's HTTP server as `[host, port]`; undefined for any other repository. */
export function httpServerOf(r: RepoAccess): [string, number] | undefined {
  const scheme = ['rest:', 's3:'].find((x) => r.url.startsWith(x));
  if (!scheme) return undefined;
  const u = new URL(r.url.slice(scheme.length));
  return [u.hostname.replace(/^\[(.*)\]$/, '$1'), Number(u.port || (u.protocol === 'https:' ? 443 : 80))];
}

/** Exit 0 when a TCP connection to the server opens within 10 s. */
export const reachCommand = (host: string, port: number): Command => tcpOpen(host, port, 10);

/** The tags every snapshot of a stack's backup run carries. */
export function runTags(stack: string, run: string, kind: string, source?: string): string[] {
  return ['ferry', `stack=${stack}`, `run=${run}`, `kind=${kind}`, ...(source ? [`source=${source}`] : [])].flatMap(
    (t) => ['--tag', t],
  );
}

/** Exit 0: the repository is there and the password opens it; 10: no repository; 12: wrong password. */
export const probeRepo = (r: RepoAccess): Command => {
  const c = restic(r, 'cat', 'config');
  // restic retries a bucket's refusal (an unknown key, a bad signature) for minutes, saying
  // why each time: 30 s is enough to read why.
  return r.url.startsWith('s3:') ? cmd('timeout', '30', ...argvOf(c)) : c;
};
export const initRepo = (r: RepoAccess): Command => restic(r, 'init');

export const INSTALL_CHECK: Command = cmd('sh', '-c', 'command -v restic && restic version');
export const installRestic: Command = aptInstall(['restic']);

/** The password file's directory (mode 700) before the file is uploaded (mode 600). */
export const passwordDir = (stack: string): Command =>
  cmd('install', '-d', '-m', '700', passwordFile(stack).slice(0, passwordFile(stack).lastIndexOf('/')));

/**
 * Postgres, consistently: a session exports a snapshot and holds it; every table's rows and
 * checksum are read in that snapshot (printed `table|NAME|ROWS|SUM`), then `pg_dump
 * --snapshot` of the same snapshot is streamed into restic (`--stdin-from-command`: no
 * temporary file, and a dump that fails fails the backup). $1 container, $2 role, $3
 * database, $4 the SQL that writes the per-table queries (for `\gexec`), then restic's argv.
 */
export const PG_BACKUP = `set -euo pipefail
trap 'rc=$?; echo "Postgres backup, line $LINENO: exit $rc of: $BASH_COMMAND" >&2' ERR
c=$1 u=$2 d=$3 gen=$4; shift 4
coproc PG { docker exec -i "$c" psql -X -q -At -v ON_ERROR_STOP=1 -U "$u" -d "$d"; }
w=\${PG[1]} r=\${PG[0]}
printf 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\\nSELECT pg_export_snapshot();\\n' >&"$w"
IFS= read -r -t 60 snap <&"$r" || { echo "no snapshot from Postgres in $c" >&2; exit 1; }
[[ $snap =~ ^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$ ]] || { echo "no snapshot from Postgres in $c" >&2; exit 1; }
printf 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\\nSET TRANSACTION SNAPSHOT %s;\\n%s \\\\gexec\\nCOMMIT;\\n' "'$snap'" "$gen" \\
  | docker exec -i "$c" psql -X -q -At -F '|' -v ON_ERROR_STOP=1 -U "$u" -d "$d" | sed 's/^/table|/'
"$@" --stdin-from-command -- docker exec "$c" pg_dump -U "$u" -d "$d" --snapshot="$snap" --no-owner --no-privileges
printf 'COMMIT;\\n' >&"$w"
exec {w}>&-
wait`;

/** The per-table queries of `checksumSql` (src/migrate/postgres.ts), written by Postgres itself from its catalog. */
export const SUMS_GEN_SQL =
  "SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(md5(x::text), %L ORDER BY md5(x::text)), %L)) FROM %s x', t, '', '', t) " +
  "FROM (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1) AS q(t)";

export const postgresBackup = (
  r: RepoAccess,
  container: string,
  d: { service: string; user: string; db: string },
  run: string,
): Command =>
  cmd(
    'bash',
    '-c',
    PG_BACKUP,
    'ferry-backup',
    container,
    d.user,
    d.db,
    SUMS_GEN_SQL,
    ...argvOf(backupInto(r, run, 'postgres', d.service, `postgres-${d.service}.sql`)),
  );

/**
 * Redis, saved afresh: LASTSAVE read, BGSAVE (after a save already running ends), LASTSAVE
 * until it changes (at most 120 s),
 * the last save's status checked, the RDB file's keys counted by redis-check-rdb (printed
 * `keys|N`), then the file streamed into restic. The password, when there is one, is read
 * from stdin into REDISCLI_AUTH, which `docker exec -e` passes by name. $1 container, then
 * restic's argv.
 */
export const REDIS_BACKUP = `set -euo pipefail
trap 'rc=$?; echo "Redis backup, line $LINENO: exit $rc of: $BASH_COMMAND" >&2' ERR
c=$1; shift
IFS= read -r REDISCLI_AUTH || true
if [ -n "$REDISCLI_AUTH" ]; then export REDISCLI_AUTH; else unset REDISCLI_AUTH; fi
cli() {
  local out; out=$(docker exec -e REDISCLI_AUTH "$c" redis-cli "$@") || return 1
  case "$out" in NOAUTH*|WRONGPASS*|ERR*|*"AUTH failed"*) echo "redis-cli $1: $out" >&2; return 1 ;; esac
  printf '%s\\n' "$out"
}
before=$(cli LASTSAVE)
[ "$before" -lt "$(date +%s)" ] || sleep 1
for _ in $(seq 300); do
  if out=$(cli BGSAVE SCHEDULE 2>&1); then break; fi
  case "$out" in *"already in progress"*) sleep 0.2 ;; *) echo "$out" >&2; exit 1 ;; esac
done
case "$out" in *"saving started"*|*"scheduled"*) ;; *) echo "BGSAVE: $out" >&2; exit 1 ;; esac
for _ in $(seq 600); do now=$(cli LASTSAVE); [ "$now" != "$before" ] && break; sleep 0.2; done
[ "$now" != "$before" ] || { echo "the save did not end within 120 s" >&2; exit 1; }
info=$(cli INFO persistence)
[[ $info == *rdb_last_bgsave_status:ok* ]] || { echo "the save failed: $(tr -d '\\r' <<<"$info" | grep -E '^rdb_(last_bgsave_status|bgsave_in_progress|last_save_time)')" >&2; exit 1; }
dir=$(cli CONFIG GET dir | sed -n 2p); file=$(cli CONFIG GET dbfilename | sed -n 2p)
check=$(docker exec "$c" redis-check-rdb "$dir/$file" 2>&1) || { echo "redis-check-rdb $dir/$file failed: $(tail -n 3 <<<"$check")" >&2; exit 1; }
keys=$(sed -n 's/.*\\[info\\] \\([0-9]*\\) keys read.*/\\1/p' <<<"$check")
[ -n "$keys" ] || { echo "redis-check-rdb read no keys count from $dir/$file" >&2; exit 1; }
echo "keys|$keys"
"$@" --stdin-from-command -- docker exec "$c" cat "$dir/$file"`;

export const redisBackup = (r: RepoAccess, container: string, service: string, run: string): Command =>
  cmd(
    'bash',
    '-c',
    REDIS_BACKUP,
    'ferry-backup',
    container,
    ...argvOf(backupInto(r, run, 'redis', service, `redis-${service}.rdb`)),
  );

/**
 * `restic backup` of one source of run `run`, tagged with its kind and source; with
 * `filename`, of a stream stored as that file (`--stdin-filename`: a plain name, restic
 * refuses one in a directory that does not exist on the server).
 */
export function backupInto(
  r: RepoAccess,
  run: string,
  kind: string,
  source: string | undefined,
  filename: string | undefined,
  ...rest: string[]
): Command {
  return restic(
    r,
    'backup',
    '--json',
    '--quiet',
    '--host',
    r.stack,
    ...runTags(r.stack, run, kind, source),
    ...(filename ? ['--stdin-filename', filename] : []),
    ...rest,
  );
}

/** The kinds of snapshot that hold a directory's files. */
export type FilesKind = 'volume' | 'path' | 'release';

/** A directory's files: a volume's, a path's, or the running release's (`source` names it). */
export const filesBackup = (r: RepoAccess, kind: FilesKind, path: string, source: string, run: string): Command =>
  backupInto(r, run, kind, source, undefined, path);

/** The run's manifest (JSON on stdin) as its own snapshot, `manifest.json`. */
export const manifestBackup = (r: RepoAccess, run: string): Command =>
  backupInto(r, run, 'manifest', undefined, 'manifest.json', '--stdin');

export const listSnapshots = (r: RepoAccess): Command =>
  restic(r, 'snapshots', '--json', '--no-lock', '--tag', `ferry,stack=${r.stack}`);

export const dumpFile = (r: RepoAccess, snapshot: string, path: string): Command => restic(r, 'dump', snapshot, path);

export const restoreTo = (r: RepoAccess, snapshot: string, target: string): Command =>
  restic(r, 'restore', snapshot, '--target', target);

/** Every pack read and its hash checked: a corrupted pack fails it. */
export const checkData = (r: RepoAccess): Command => restic(r, 'check', '--read-data');

/** The words of an argv command, to append to another's. */
export function argvOf(c: Command): string[] {
  if (c.kind !== 'argv') throw new Error('restic(): expected an argv command');
  return c.argv;
}

/** The snapshot id in `restic backup --json` output (its `summary` message). */
export function snapshotIdOf(stdout: string): string | undefined {
  for (const line of stdout.split('\n').reverse()) {
    if (!line.startsWith('{')) continue;
    try {
      const m = JSON.parse(line) as { message_type?: string; snapshot_id?: string };
      if (m.message_type === 'summary' && m.snapshot_id) return m.snapshot_id;
    } catch {
      /* not a message */
    }
  }
  return undefined;
}

/**
 * Retention of one kind of a stack's snapshots: those older than `days` before the newest
 * of their group (restic groups by host and paths: one group per source) are forgotten.
 * Every release has a path of its own (`releases/ID`), so releases are one group (by
 * host, which is the stack). With `dryRun`, only listed. `--json` prints the groups with
 * their `keep` and `remove`.
 */
export const forgetKind = (r: RepoAccess, kind: string, days: number, dryRun: boolean): Command =>
  restic(
    r,
    'forget',
    '--json',
    '--tag',
    `ferry,stack=${r.stack},kind=${kind}`,
    '--keep-within',
    `${days}d`,
    ...(kind === 'release' ? ['--group-by', 'host'] : []),
    ...(dryRun ? ['--dry-run'] : []),
  );

/** The packs no snapshot needs any more, removed. */
export const prune = (r: RepoAccess): Command => restic(r, 'prune');

/** How many snapshots `restic forget --json` removes (or would). */
export function forgottenCount(stdout: string): number {
  const line = stdout.split('\n').find((l) => l.startsWith('['));
  if (!line) return 0;
  return (JSON.parse(line) as { remove?: unknown[] | null }[]).reduce((n, g) => n + (g.remove?.length ?? 0), 0);
}
