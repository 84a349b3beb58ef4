/**
 * The scheduled backup's runner: one bash script, the same on every server, that a
 * systemd timer starts without Ferry. It does what `ferry backup run` does, with the same
 * per-source scripts (PG_BACKUP, REDIS_BACKUP, the files manifest): every source into each
 * repository, the run's manifest last, retention, and the metrics file monitoring reads.
 * What to back up comes from the stack's configuration file, which Ferry writes
 * (`/etc/ferry/backup/STACK.json`); jq reads it and assembles the manifest. Sourced
 * (`. backup-run`), it only defines its functions: the tests call them. Pure.
 */
import { MANIFEST_BATCH, MANIFEST_MAIN } from '../migrate/manifest.js';
import { MANIFEST_VERSION } from './manifest.js';
import { GAUGE_HELP } from './metrics.js';
import { literal, quote } from '../shell/command.js';
import { BUCKET_REFUSED } from '../tools/classify.js';
import { PG_BACKUP, REDIS_BACKUP, SUMS_GEN_SQL, passwordFile } from './restic.js';
import { TEXTFILE_DIR } from '../monitoring/render/health.js';
import { LOCK_ROOT } from '../lock/lock.js';
import { MYSQL_BACKUP, MYSQL_CLIENT, MYSQL_PROVE, MYSQL_SUMS } from './mysql.js';
import { TCP_OPEN_FN } from '../shell/tcp.js';

/** Where the runner is installed. */
export const RUNNER_PATH = '/usr/local/lib/ferry/backup-run';
/** The stack's configuration the runner reads. */
export const runnerConfigPath = (stack: string): string => `${passwordFile(stack).replace(/\.password$/, '')}.json`;
/** A Redis service's password, for the runner (mode 600); absent when the service has none. */
export const redisAuthPath = (stack: string, service: string): string =>
  `${passwordFile(stack).replace(/\.password$/, '')}.redis-${service}.auth`;
/** How long a scheduled run waits for a stack locked by another run (a deploy, a migration). */
export const LOCK_WAIT_S = 30 * 60;

/** A bash function running `body` in a subshell of its own, with its positional arguments. */
const fn = (name: string, body: string): string => `${name}() (\n${body}\n)`;

const HEADER = `#!/bin/bash
# Ferry's scheduled backup of one stack: ferry-backup-STACK.service runs it, without Ferry.
# What it backs up is in /etc/ferry/backup/STACK.json. \`ferry backup run\` rewrites this file.
set -uo pipefail
export LC_ALL=C
textfile=\${FERRY_TEXTFILE_DIR:-${TEXTFILE_DIR}}
# systemd gives a service no HOME: restic keeps its cache in the user's, as for \`ferry backup run\`.
HOME=\${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}
export HOME`;

const HELPERS = `die() { echo "ferry-backup \${stack:-}: $*" >&2; exit 1; }
${TCP_OPEN_FN}
conf() { jq -r "$@" "$config"; }

# restic on the configuration's repository $1 (an index), the password from its file; a
# REST repository with credentials is named by its file (they are on no command line).
# With $limit set, restic is stopped after that many seconds.
repo() {
  local i=$1 url sftp file e t=(); shift
  [ -z "\${limit:-}" ] || t=(timeout "$limit")
  url=$(conf ".repositories[$i].url"); sftp=$(conf ".repositories[$i].sftp_command // empty")
  file=$(conf ".repositories[$i].repository_file // empty")
  mapfile -t e < <(conf ".repositories[$i].env // [] | .[]")
  if [ -n "$sftp" ]; then "\${t[@]}" env RESTIC_PASSWORD_FILE="$pwfile" restic -r "$url" -o "sftp.command=$sftp" "$@"
  elif [ -n "$file" ]; then "\${t[@]}" env RESTIC_PASSWORD_FILE="$pwfile" restic --repository-file "$file" "$@"
  else "\${t[@]}" env RESTIC_PASSWORD_FILE="$pwfile" "\${e[@]}" restic -r "$url" "$@"; fi
}

# Whether repository $1's REST server or S3 endpoint answers on its port within 10 s, and a
# bucket opens with its keys within 30 s (restic itself would retry a refused connection or
# refused keys for minutes); any other repository passes.
reachable() {
  local h p out
  h=$(conf ".repositories[$1].reach_host // empty"); [ -n "$h" ] || return 0
  p=$(conf ".repositories[$1].reach_port")
  if ! tcp_open "$h" "$p" 10 2>/dev/null; then
    echo "ferry-backup $stack: $(conf ".repositories[$1].name"): the server at $h:$p cannot be reached" >&2
    return 1
  fi
  [[ $(conf ".repositories[$1].url") == s3:* ]] || return 0
  out=$(limit=30 repo "$1" cat config 2>&1 >/dev/null) && return 0
  # No repository yet (exit 10) is for the run to make; a refusal restic reads as one is not.
  [ $? -ne 10 ] || grep -qiE '${BUCKET_REFUSED}' <<<"$out" || return 0
  echo "ferry-backup $stack: $(conf ".repositories[$1].name"): the bucket refuses its keys, or cannot be opened: $({ grep -m 1 -E '^Fatal' <<<"$out" || tail -n 1 <<<"$out"; } | cut -c1-300)" >&2
  return 1
}

# The running container of service $1 of the project, or nothing.
container() {
  docker ps -q --no-trunc --filter "label=com.docker.compose.project=$project" \\
    --filter "label=com.docker.compose.service=$1" --filter status=running | head -n 1
}

# The snapshot id in restic backup --json output (its summary message).
snapshot_of() { grep '^{' | jq -r 'select(.message_type == "summary") | .snapshot_id' | tail -n 1; }

# One gauge of repository $REPO: $1 its name after ferry_backup_, $2 its help, $3 its value.
gauge() {
  echo "# HELP ferry_backup_$1 $2"
  echo "# TYPE ferry_backup_$1 gauge"
  echo "ferry_backup_$1{stack=\\"$stack\\",repository=\\"$REPO\\"} $3"
}

# The metrics file of repository $1 for node_exporter: run begun at $2, success $3 (1 or 0).
# A failed run keeps the last good run's time the file held.
metrics() {
  local f="$textfile/ferry_backup_\${stack}_$1.prom" good REPO=$1
  if [ "$3" = 1 ]; then good=\${4:-$2}
  else good=$(sed -n 's/^ferry_backup_last_success_timestamp_seconds{[^}]*} \\([0-9][0-9]*\\)$/\\1/p' "$f" 2>/dev/null | head -n 1); fi
  mkdir -p "$textfile" || return 1
  {
    gauge last_run_timestamp_seconds ${quote(GAUGE_HELP.last_run_timestamp_seconds)} "$2"
    gauge last_run_success ${quote(GAUGE_HELP.last_run_success)} "$3"
    [ -z "$good" ] || gauge last_success_timestamp_seconds ${quote(GAUGE_HELP.last_success_timestamp_seconds)} "$good"
  } > "$f.tmp" && mv "$f.tmp" "$f"
}`;

const BACKUP_INTO = `# The files of directory $3 (a $1 named $2) into repository $i of backup_into, and its
# manifest entry appended to file $4.
files_into() {
  local kind=$1 svc=$2 path=$3 files bytes sum out sid
  read -r files bytes sum < <(files_manifest "$path" "$MANIFEST_BATCH") || die "no files manifest of $path"
  [[ $sum =~ ^[0-9a-f]{64}$ ]] || die "no files manifest of $path"
  out=$(repo "$i" "\${bk[@]}" --tag "kind=$kind" --tag "source=$svc" "$path") || die "backing up $kind $svc into $name failed"
  sid=$(snapshot_of <<<"$out"); [ -n "$sid" ] || die "backing up $kind $svc into $name: no snapshot id"
  jq -n -c --arg name "$svc" --arg path "$path" --arg snapshot "$sid" --argjson files "$files" --argjson bytes "$bytes" \\
    --arg sha256 "$sum" '{$name, $path, $snapshot, $files, $bytes, $sha256}' >> "$4"
}

# One run into repository $1 (an index), begun at $2 (unix seconds): every source, then
# the manifest. Runs under set -e in a subshell: the first failure ends it.
backup_into() {
  local i=$1 at name out sid n k svc user db cid image auth keys path tables dbs prev='' oldest
  at=$(date -u -d "@$2" +%Y-%m-%dT%H:%M:%S.000Z)
  name=$(conf ".repositories[$i].name")
  local bk=(backup --json --quiet --host "$stack" --tag ferry --tag "stack=$stack" --tag "run=$run")
  tmp=$(mktemp -d); trap "rm -rf '$tmp'" EXIT
  : > "$tmp/postgres"; : > "$tmp/mysql"; : > "$tmp/redis"; : > "$tmp/volumes"; : > "$tmp/paths"; : > "$tmp/release"
  # A run of one kind ($only) carries the others over from the newest manifest, each entry
  # with the time it was backed up; when that manifest lacks a source, every kind runs.
  if [ -n "$only" ]; then
    prev=$(latest_manifest "$i" 2>/dev/null) || prev=''
    if [ -z "$prev" ] || ! carries "$prev"; then
      echo "ferry-backup $stack: $name holds no run with every source to carry over: this run backs up every kind" >&2
      prev=''
    fi
  fi
  wants() { [ -z "$prev" ] || [ "$1" = "$only" ]; }
  for k in postgres mysql redis volumes paths release; do wants "$k" || carry "$k" "$prev" "$tmp/$k"; done
  wants postgres && n=$(conf '.postgres | length') || n=0
  for ((k = 0; k < n; k++)); do
    svc=$(conf ".postgres[$k].service"); user=$(conf ".postgres[$k].user"); db=$(conf ".postgres[$k].db")
    cid=$(container "$svc"); [ -n "$cid" ] || die "no running container of $svc in project $project: it cannot be backed up"
    image=$(docker inspect --format '{{.Config.Image}}' "$cid")
    out=$(pg_backup "$cid" "$user" "$db" "$SUMS_GEN" repo "$i" "\${bk[@]}" --tag kind=postgres --tag "source=$svc" \\
      --stdin-filename "postgres-$svc.sql") || die "backing up Postgres $svc ($db) into $name failed"
    sid=$(snapshot_of <<<"$out"); [ -n "$sid" ] || die "backing up Postgres $svc into $name: no snapshot id"
    tables=$({ grep '^table|' <<<"$out" || true; } | jq -R -n '[inputs | split("|") | {name: .[1], rows: (.[2] | tonumber), checksum: (.[3] // "")}]')
    jq -n -c --arg service "$svc" --arg db "$db" --arg user "$user" --arg image "$image" --arg snapshot "$sid" \\
      --argjson tables "$tables" '{$service, $db, $user, $image, $snapshot, $tables}' >> "$tmp/postgres"
  done
  wants mysql && n=$(conf '.mysql // [] | length') || n=0
  for ((k = 0; k < n; k++)); do
    svc=$(conf ".mysql[$k].service")
    cid=$(container "$svc"); [ -n "$cid" ] || die "no running container of $svc in project $project: it cannot be backed up"
    image=$(docker inspect --format '{{.Config.Image}}' "$cid")
    out=$(mysql_backup "$cid" "$MYSQL_CLIENT" "$MYSQL_SUMS" repo "$i" "\${bk[@]}" --tag kind=mysql --tag "source=$svc" \\
      --stdin-filename "mysql-$svc.sql") || die "backing up MySQL $svc into $name failed"
    sid=$(snapshot_of <<<"$out"); [ -n "$sid" ] || die "backing up MySQL $svc into $name: no snapshot id"
    tables=$({ grep '^table|' <<<"$out" || true; } | jq -R -n '[inputs | split("|") | {name: .[1], rows: (.[2] | tonumber), checksum: (.[3] // "")}]')
    dbs=$({ sed -n 's/^database|//p' <<<"$out" || true; } | jq -R -n '[inputs]')
    jq -n -c --arg service "$svc" --arg image "$image" --arg snapshot "$sid" --argjson databases "$dbs" \\
      --argjson tables "$tables" '{$service, $image, $snapshot, $databases, $tables}' >> "$tmp/mysql"
  done
  wants redis && n=$(conf '.redis | length') || n=0
  for ((k = 0; k < n; k++)); do
    svc=$(conf ".redis[$k].service")
    cid=$(container "$svc"); [ -n "$cid" ] || die "no running container of $svc in project $project: it cannot be backed up"
    image=$(docker inspect --format '{{.Config.Image}}' "$cid")
    auth=$authdir/$stack.redis-$svc.auth; [ -r "$auth" ] || auth=/dev/null
    out=$(redis_backup "$cid" repo "$i" "\${bk[@]}" --tag kind=redis --tag "source=$svc" \\
      --stdin-filename "redis-$svc.rdb" < "$auth") || die "backing up Redis $svc into $name failed"
    sid=$(snapshot_of <<<"$out"); [ -n "$sid" ] || die "backing up Redis $svc into $name: no snapshot id"
    keys=$(sed -n 's/^keys|\\([0-9][0-9]*\\)$/\\1/p' <<<"$out"); [ -n "$keys" ] || die "Redis $svc: no key count"
    jq -n -c --arg service "$svc" --arg image "$image" --arg snapshot "$sid" --argjson keys "$keys" \\
      '{$service, $image, $snapshot, $keys}' >> "$tmp/redis"
  done
  wants volumes && n=$(conf '.volumes | length') || n=0
  for ((k = 0; k < n; k++)); do
    svc=$(conf ".volumes[$k].name")
    path=$(docker volume inspect --format '{{ .Mountpoint }}' "$(conf ".volumes[$k].docker")") || die "no volume $svc"
    files_into volume "$svc" "$path" "$tmp/volumes"
  done
  wants paths && n=$(conf '.paths | length') || n=0
  for ((k = 0; k < n; k++)); do
    files_into path "$(conf ".paths[$k].name")" "$(conf ".paths[$k].path")" "$tmp/paths"
  done
  wants release && path=$(conf '.release_link // empty') || path=''
  if [ -n "$path" ] && path=$(readlink -e "$path"); then files_into release "$(basename "$path")" "$path" "$tmp/release"; fi
  jq -n --argjson version ${MANIFEST_VERSION} --arg stack "$stack" --arg run "$run" --arg at "$at" \\
    --slurpfile postgres "$tmp/postgres" --slurpfile mysql "$tmp/mysql" --slurpfile redis "$tmp/redis" --slurpfile volumes "$tmp/volumes" \\
    --slurpfile paths "$tmp/paths" --slurpfile release "$tmp/release" \\
    '{$version, $stack, $run, $at, $postgres, $mysql, $redis, $volumes, $paths} + ($release | if length > 0 then {release: .[0]} else {} end)' \\
    > "$tmp/manifest.json"
  # The oldest data the manifest holds: what the run carried over, else its own start.
  oldest=$(jq -r '[.at, ((.postgres, .mysql, .redis, .volumes, .paths)[]? | .at // empty), (.release.at // empty)] | min' "$tmp/manifest.json")
  [ "$oldest" = "$at" ] || bk+=(--tag "oldest=$oldest")
  out=$(repo "$i" "\${bk[@]}" --tag kind=manifest --stdin-filename manifest.json --stdin < "$tmp/manifest.json") \\
    || die "writing the manifest into $name failed"
  sid=$(snapshot_of <<<"$out"); [ -n "$sid" ] || die "writing the manifest into $name: no snapshot id"
  date -u -d "$oldest" +%s > "$3"
}

# The newest manifest in repository $1, as JSON.
latest_manifest() {
  local mid
  mid=$(repo "$1" snapshots --json --no-lock --tag "ferry,stack=$stack,kind=manifest" | jq -r 'sort_by(.time) | last | .id // empty')
  [ -n "$mid" ] || return 1
  repo "$1" dump "$mid" /manifest.json
}

# Whether manifest $1 has an entry for every source of the configuration, of each kind but $only.
carries() {
  local k want have
  for k in postgres mysql redis volumes paths; do
    [ "$k" != "$only" ] || continue
    want=$(conf --arg k "$k" '[.[$k] // [] | .[] | .service // .name] | sort | join("/")')
    have=$(jq -r --arg k "$k" '[.[$k] // [] | .[] | .service // .name] | sort | join("/")' <<<"$1")
    [ "$want" = "$have" ] || return 1
  done
  [ "$only" = release ] || [ -z "$(conf '.release_link // empty')" ] || jq -e .release >/dev/null <<<"$1"
}

# The $1 entries of manifest $2 appended to file $3, each with the time it was backed up.
carry() {
  if [ "$1" = release ]; then jq -c '.at as $at | .release // empty | .at //= $at' <<<"$2" >> "$3"
  else jq -c --arg k "$1" '.at as $at | .[$k] // [] | .[] | .at //= $at' <<<"$2" >> "$3"; fi
}

# Retention in repository $1: each kind's snapshots older than its days before the newest
# of their source forgotten, then prune when anything was.
retention() {
  local i=$1 removed=0 kind days out n g
  while read -r kind days; do
    # Every release has a path of its own: releases are one group (by host, the stack).
    g=(); [ "$kind" != release ] || g=(--group-by host)
    out=$(repo "$i" forget --json --tag "ferry,stack=$stack,kind=$kind" --keep-within "\${days}d" "\${g[@]}")
    n=$({ grep '^\\[' <<<"$out" || true; } | jq -s '[.[][] | (.remove // []) | length] | add // 0')
    removed=$((removed + n))
  done < <(conf '.retention[] | "\\(.kind) \\(.days)"')
  [ "$removed" -eq 0 ] || repo "$i" prune
}`;

const DRILL = `# Everything a drill makes: scratch containers (by label) and a scratch directory.
drill_cleanup() {
  local ids
  ids=$(docker ps -aq --filter "label=ferry-drill=$stack"); [ -z "$ids" ] || docker rm -f $ids >/dev/null
  rm -rf -- "/var/tmp/ferry-drill-$stack"
}

# The files of manifest entry $2 (a $1) restored into $dir/$3 and proven, for drill_from.
drill_files() {
  local kind=$1 e=$2 sub=$3 svc path snap want files bytes sum
  svc=$(m "$e.name"); path=$(m "$e.path"); snap=$(m "$e.snapshot")
  want=$(m "$e | \\"\\\\(.files) \\\\(.bytes) \\\\(.sha256)\\"")
  repo "$i" restore "$snap" --target "$dir/$sub" >/dev/null || die "restoring $kind $svc failed"
  read -r files bytes sum < <(files_manifest "$dir/$sub$path" "$MANIFEST_BATCH") || die "no files manifest of $kind $svc"
  if [ "$files $bytes $sum" = "$want" ]; then echo "ok   $kind $svc: $files files, $bytes bytes, sha256 \${sum:0:12}"
  else echo "FAIL $kind $svc: expected $want, found $files $bytes $sum"; fail=1; fi
}

# A restore drill from repository $1 (an index), as \`ferry backup drill\` does it: every pack
# read, the latest run with a manifest restored into scratch containers and a scratch
# directory, every table, key count and volume proven against the manifest, everything it
# made removed. One line per proof; fails when any proof fails.
drill_from() {
  local i=$1 name mid man n k svc user db image snap c pw want got keys dir fail=0
  name=$(conf ".repositories[$i].name"); dir=/var/tmp/ferry-drill-$stack
  trap drill_cleanup EXIT
  repo "$i" check --read-data >/dev/null || die "restic check --read-data of $name failed: the repository cannot be opened, or a pack is damaged"
  man=$(latest_manifest "$i") || die "$name holds no backup of $stack, or its newest manifest cannot be read"
  m() { jq -r "$@" <<<"$man"; }
  drill_cleanup; install -d -m 700 "$dir"
  n=$(m '.postgres | length')
  for ((k = 0; k < n; k++)); do
    svc=$(m ".postgres[$k].service"); user=$(m ".postgres[$k].user"); db=$(m ".postgres[$k].db")
    image=$(m ".postgres[$k].image"); snap=$(m ".postgres[$k].snapshot")
    c=ferry-drill-$stack-$svc; pw=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \\n')
    docker run -d --name "$c" --label "ferry-drill=$stack" --network none -e "POSTGRES_USER=$user" \\
      -e "POSTGRES_DB=$db" -e "POSTGRES_PASSWORD=$pw" "$image" >/dev/null || die "a scratch Postgres could not be started from $image"
    for ((w = 0; w < 480; w++)); do docker exec "$c" pg_isready -q -h 127.0.0.1 && break; sleep 0.25; done
    docker exec "$c" pg_isready -q -h 127.0.0.1 || die "the scratch Postgres $c does not accept connections"
    repo "$i" dump "$snap" "/postgres-$svc.sql" | docker exec -i "$c" psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -U "$user" -d "$db" \\
      || die "restoring $svc into $c failed"
    want=$(m ".postgres[$k].tables[] | \\"\\\\(.name)|\\\\(.rows)|\\\\(.checksum)\\"" | sort)
    got=$(printf '%s \\\\gexec\\n' "$SUMS_GEN" | docker exec -i "$c" psql -X -q -At -F '|' -v ON_ERROR_STOP=1 -U "$user" -d "$db" | sort)
    if [ "$want" = "$got" ]; then echo "ok   postgres $svc: $(grep -c . <<<"$want") table(s), every row count and checksum"
    else echo "FAIL postgres $svc: the restored tables differ from the manifest (< manifest, > restored):"; diff <(echo "$want") <(echo "$got") | sed 's/^/  /' || true; fail=1; fi
  done
  n=$(m '.mysql // [] | length')
  for ((k = 0; k < n; k++)); do
    svc=$(m ".mysql[$k].service"); image=$(m ".mysql[$k].image"); snap=$(m ".mysql[$k].snapshot")
    c=ferry-drill-$stack-$svc; pw=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \\n')
    docker run -d --name "$c" --label "ferry-drill=$stack" --network none -e "MARIADB_ROOT_PASSWORD=$pw" \\
      -e "MYSQL_ROOT_PASSWORD=$pw" "$image" >/dev/null || die "a scratch MySQL could not be started from $image"
    want=$(m ".mysql[$k].tables[] | \\"\\\\(.name)|\\\\(.rows)|\\\\(.checksum)\\"" | sort)
    got=$(mysql_prove "$c" "$MYSQL_CLIENT" "$MYSQL_SUMS" "$(m ".mysql[$k].databases[]")" repo "$i" dump "$snap" "/mysql-$svc.sql" \\
      | sed -n 's/^table|//p' | sort) || die "restoring $svc into $c failed"
    if [ "$want" = "$got" ]; then echo "ok   mysql $svc: $(grep -c . <<<"$want") table(s), every row count and checksum"
    else echo "FAIL mysql $svc: the restored tables differ from the manifest (< manifest, > restored):"; diff <(echo "$want") <(echo "$got") | sed 's/^/  /' || true; fail=1; fi
  done
  n=$(m '.redis | length')
  for ((k = 0; k < n; k++)); do
    svc=$(m ".redis[$k].service"); image=$(m ".redis[$k].image"); snap=$(m ".redis[$k].snapshot"); want=$(m ".redis[$k].keys")
    repo "$i" dump "$snap" "/redis-$svc.rdb" > "$dir/$svc.rdb" || die "restoring the RDB of $svc failed"
    keys=$(docker run --rm --label "ferry-drill=$stack" --network none --entrypoint redis-check-rdb -v "$dir:/drill:ro" "$image" \\
      "/drill/$svc.rdb" | sed -n 's/.*\\[info\\] \\([0-9][0-9]*\\) keys read.*/\\1/p')
    if [ "$keys" = "$want" ]; then echo "ok   redis $svc: $keys keys"
    else echo "FAIL redis $svc: expected $want keys, found \${keys:-no key count}"; fail=1; fi
  done
  n=$(m '.volumes | length')
  for ((k = 0; k < n; k++)); do drill_files volume ".volumes[$k]" "volume-$(m ".volumes[$k].name")"; done
  n=$(m '.paths // [] | length')
  for ((k = 0; k < n; k++)); do drill_files path ".paths[$k]" "path-$k"; done
  [ "$(m '.release // empty')" = "" ] || drill_files release .release release
  echo "ferry-backup $stack: drill of run $(m .run) from $name (oldest data backed up $(m '[.at, ((.postgres, .mysql, .redis, .volumes, .paths)[]? | .at // empty), (.release.at // empty)] | min')): $([ $fail = 0 ] && echo 'every row, key and file came back' || echo FAILED)"
  return $fail
}

# The drill metrics file of repository $1: drill begun at $2, success $3 (1 or 0).
drill_metrics() {
  local f="$textfile/ferry_drill_\${stack}_$1.prom" REPO=$1
  mkdir -p "$textfile" || return 1
  {
    gauge last_drill_timestamp_seconds ${quote(GAUGE_HELP.last_drill_timestamp_seconds)} "$2"
    gauge last_drill_success ${quote(GAUGE_HELP.last_drill_success)} "$3"
  } > "$f.tmp" && mv "$f.tmp" "$f"
}`;

const MAIN = `# The stack's lock, the one \`ferry apply\` and \`ferry migrate\` take: a scheduled run waits
# for a deploy or a migration to end (at most ${LOCK_WAIT_S / 60} min).
take_lock() {
  local w
  mkdir -p -m 700 "\${lock%/*}" || return 1
  for ((w = 0; ; w += 10)); do
    mkdir "$lock" 2>/dev/null && break
    [ "$w" -lt ${LOCK_WAIT_S} ] || { echo "ferry-backup $stack: locked by another run for ${LOCK_WAIT_S / 60} min: $(cat "$lock/owner.json" 2>/dev/null)" >&2; return 1; }
    sleep 10
  done
  trap 'rm -rf "$lock"' EXIT
  trap 'exit 143' TERM INT
  printf '{"run":"%s","by":"systemd@%s","at":"%s","command":"scheduled backup"}\\n' \\
    "$run" "$(hostname)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$lock/owner.json"
}

main() {
  stack=\${1:?usage: backup-run STACK [run [KIND]|drill|check]}
  authdir=/etc/ferry/backup config=/etc/ferry/backup/$stack.json pwfile=/etc/ferry/backup/$stack.password
  lock=${LOCK_ROOT}/$stack.lock
  [ -r "$config" ] || die "no $config: run \\\`ferry backup run $stack\\\` once"
  project=$(conf .project)
  run=$(date -u +%Y%m%dT%H%M%SZ)-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \\n')
  local mode=\${2:-run} only=\${3:-} n i name start read_share since failed=0
  case "$mode" in run|drill|check) ;; *) die "usage: backup-run STACK [run [KIND]|drill|check]" ;; esac
  case "$mode/$only" in */|run/postgres|run/mysql|run/redis|run/volumes|run/paths|run/release) ;; *) die "usage: backup-run STACK [run [KIND]|drill|check]" ;; esac
  n=$(conf '.repositories | length')
  if ! take_lock; then
    for ((i = 0; i < n; i++)); do
      if [ "$mode" = run ]; then metrics "$(conf ".repositories[$i].name")" "$(date +%s)" 0
      elif [ "$mode" = drill ]; then drill_metrics "$(conf ".repositories[$i].name")" "$(date +%s)" 0; fi
    done
    exit 1
  fi
  # The lock's directory goes with the lock: the oldest data of each run is noted there.
  since=$lock/since
  for ((i = 0; i < n; i++)); do
    name=$(conf ".repositories[$i].name"); start=$(date +%s)
    if ! reachable "$i"; then
      if [ "$mode" = run ]; then metrics "$name" "$start" 0
      elif [ "$mode" = drill ]; then drill_metrics "$name" "$start" 0; fi
      failed=1
      continue
    fi
    if [ "$mode" = check ]; then
      # The structure, and a random share of the packs read and their hashes checked.
      read_share=$(conf '.check_read // "10%"')
      if repo "$i" check --read-data-subset="$read_share"; then
        echo "ferry-backup $stack: check of $name ($read_share of its packs read): no errors"
      else
        echo "ferry-backup $stack: check of $name FAILED" >&2
        failed=1
      fi
      continue
    fi
    if [ "$mode" = drill ]; then
      (set -e; drill_from "$i")
      if [ $? -eq 0 ]; then drill_metrics "$name" "$start" 1 || failed=1
      else
        drill_metrics "$name" "$start" 0
        echo "ferry-backup $stack: drill from $name FAILED" >&2
        failed=1
      fi
      continue
    fi
    (set -e; backup_into "$i" "$start" "$since")
    if [ $? -eq 0 ]; then
      metrics "$name" "$start" 1 "$(cat "$since")" || failed=1
      echo "ferry-backup $stack: run $run\${only:+ (the $only)} into $name complete"
      (set -e; retention "$i")
      [ $? -eq 0 ] || { echo "ferry-backup $stack: retention in $name failed" >&2; failed=1; }
    else
      metrics "$name" "$start" 0
      echo "ferry-backup $stack: run $run into $name FAILED" >&2
      failed=1
    fi
  done
  exit $failed
}`;

/** The runner's whole text: the same file on every server. */
export function renderRunner(): string {
  return [
    HEADER,
    '',
    literal('SUMS_GEN', SUMS_GEN_SQL),
    literal('MANIFEST_BATCH', MANIFEST_BATCH),
    '',
    "# Postgres: $1 container, $2 role, $3 database, $4 the per-table queries, then restic's argv.",
    fn('pg_backup', PG_BACKUP),
    '',
    literal('MYSQL_CLIENT', MYSQL_CLIENT),
    literal('MYSQL_SUMS', MYSQL_SUMS),
    "# MySQL/MariaDB: $1 container, $2 the client, $3 the figures' program, then restic's argv.",
    fn('mysql_backup', MYSQL_BACKUP),
    '',
    "# A MySQL dump loaded into scratch container $1 and its figures read again ($4 the databases, then the dump's argv).",
    fn('mysql_prove', MYSQL_PROVE),
    '',
    "# Redis: $1 container, then restic's argv; the password (or nothing) on stdin.",
    fn('redis_backup', REDIS_BACKUP),
    '',
    '# The files manifest of directory $1 ($2: the batch script): FILES BYTES SHA256.',
    fn('files_manifest', MANIFEST_MAIN),
    '',
    HELPERS,
    '',
    BACKUP_INTO,
    '',
    DRILL,
    '',
    MAIN,
    '',
    '# Sourced: the functions only.',
    '(return 0 2>/dev/null) && return 0',
    'main "$@"',
    '',
  ].join('\n');
}
