/**
 * The watch installed on a server: one bash script, the same on every server, that a
 * systemd timer starts every `--every` without Ferry. Each run takes one sample of the
 * server as `ferry watch` does over SSH (CPU, memory, disks; each stack's containers, HTTP
 * checks and error lines in logs), judges it against the state the run before left, and
 * sends what fired or resolved to the receivers; the jq programs doing so are ports of the
 * watch's TypeScript (programs.ts). What it watches is in `/etc/ferry/watch/NAME.json`;
 * the receivers' URLs (secrets) in `NAME.receivers.json`, mode 600, posted with curl's
 * configuration on stdin, never on a command line. What it saw goes to
 * `/var/lib/ferry/watch/NAME/events.jsonl`. At its end the watch records so, deletes its
 * receivers file and disables its timer. Pure.
 */
import { literal } from '../../shell/command.js';
import { TCP_OPEN_FN, TCP_OPEN_NAME } from '../../shell/tcp.js';
import { ERROR_WORDS } from '../sample.js';
import { DELIVER_JQ, EVALUATE_JQ, SAMPLE_JQ } from './programs.js';

export const WATCH_RUNNER_PATH = '/usr/local/lib/ferry/watch-run';
export const WATCH_ETC = '/etc/ferry/watch';
export const WATCH_STATE = '/var/lib/ferry/watch';

const HEADER = `#!/bin/bash
# Ferry's watch of this server: ferry-watch-NAME.timer runs it (\`watch-run NAME\`), without
# Ferry. What it watches: ${WATCH_ETC}/NAME.json; what it saw: ${WATCH_STATE}/NAME/events.jsonl.
# \`ferry watch --install\` rewrites this file.
set -uo pipefail
export LC_ALL=C
name=\${1:?usage: watch-run NAME}
etc=\${FERRY_WATCH_ETC:-${WATCH_ETC}}
config=$etc/$name.json
receivers=$etc/$name.receivers.json
dir=\${FERRY_WATCH_STATE:-${WATCH_STATE}}/$name
events=$dir/events.jsonl
umask 077`;

const HELPERS = `die() { echo "ferry-watch $name: $*" >&2; exit 1; }
${TCP_OPEN_FN}
conf() { jq -r "$@" "$config"; }
iso() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
# Appends an event: the JSON object on stdin, with its time.
note() { jq -c --arg at "$(iso)" '{at: $at} + .' >>"$events"; }
fact() { jq -cn "$@"; }

# The containers of project $1, as docker inspect gives them ([] for none), with only what
# the watch reads: their environment (passwords) never reaches a file.
inspect() {
  local ids
  ids=$(docker ps -aq --filter "label=com.docker.compose.project=$1") || return 1
  [ -n "$ids" ] || { echo '[]'; return 0; }
  docker inspect $ids | jq -c 'map({Name, State: {Status: .State.Status, ExitCode: .State.ExitCode, Health: {Status: .State.Health.Status}},
    Config: {Labels: .Config.Labels}, NetworkSettings: {Networks: .NetworkSettings.Networks},
    HostConfig: {RestartPolicy: .HostConfig.RestartPolicy}})'
}

# Facts about the running container $2 (service $3, address $4) of stack $1, the stack's
# index $5: its failing HTTP checks, and the error lines it logged in the last $6 seconds.
container_facts() {
  local stack=$1 cname=$2 service=$3 addr=$4 i=$5 since=$6 svc port path code url err problem lines
  while IFS=$'\\t' read -r svc port path; do
    url="http://$addr:$port$path"
    if [ -z "$addr" ]; then
      problem="$cname: no address to check http://…:$port$path on"
    else
      code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$url" 2>"$dir/curl.err")
      [[ $code =~ ^[23][0-9][0-9]$ ]] && continue
      err=$(tr '\\n' ' ' <"$dir/curl.err" | sed 's/[[:space:]]*$//')
      if [[ $code =~ ^[1-9][0-9]*$ ]]; then problem="$cname: GET $url answered $code"
      else problem="$cname: GET $url answered \${err:-nothing}"; fi
    fi
    fact --arg stack "$stack" --arg check "GET $svc:$port$path" --arg p "$problem" \\
      '{k: "http", stack: $stack, check: $check, problem: $p}'
  done < <(jq -r --arg s "$service" ".stacks[$i].http_checks[] | select(.service == \\$s) | [.service, .port, .path] | @tsv" "$config")
  docker logs --since "\${since}s" "$cname" 2>&1 | grep -iE '${errorPattern()}' >"$dir/log"
  lines=$(wc -l <"$dir/log")
  [ "$lines" -gt 0 ] || return 0
  fact --arg stack "$stack" --arg c "$cname" --argjson n "$lines" --arg last "$(tail -n 1 "$dir/log")" \\
    '{k: "log", stack: $stack, container: $c, lines: $n, last: ($last | sub("^\\\\s+"; "") | sub("\\\\s+$"; "") | .[0:200])}'
}

# Facts about stack $1 (its index in the configuration), logs read back $2 seconds.
stack_facts() {
  local i=$1 since=$2 stack project cname service addr
  stack=$(conf ".stacks[$i].stack")
  project=$(conf ".stacks[$i].project")
  if ! inspect "$project" >"$dir/inspect.json" 2>"$dir/docker.err" || ! jq -e 'type == "array"' "$dir/inspect.json" >/dev/null 2>&1; then
    fact --arg stack "$stack" --arg p "docker-failed: $(tr '\\n' ' ' <"$dir/docker.err" | cut -c1-300)" \\
      '{k: "unreadable", stack: $stack, problem: ($p | sub("\\\\s+$"; ""))}'
    return 0
  fi
  jq -c --arg stack "$stack" --argjson services "$(conf -c ".stacks[$i].services")" \\
    '{k: "stack", stack: $stack, services: $services, inspect: .}' "$dir/inspect.json"
  while IFS=$'\\t' read -r cname service addr; do
    container_facts "$stack" "$cname" "$service" "$addr" "$i" "$since"
  done < <(jq -r '.[] | select(.State.Status == "running")
    | [(.Name // "" | sub("^/"; "")), ((.Config.Labels // {})["com.docker.compose.service"] // ""),
       ([(.NetworkSettings.Networks // {})[] | .IPAddress // "" | select(. != "")][0] // "")] | @tsv' "$dir/inspect.json")
}

# Whether the server this one watches in turn answers on its SSH port (within 5 s).
peer_fact() {
  local server addr port problem ok=true
  server=$(conf '.peer.server // empty'); [ -n "$server" ] || return 0
  addr=$(conf .peer.address); port=$(conf .peer.port)
  if ! tcp_open "$addr" "$port" 5 2>"$dir/peer.err"; then
    ok=false
    problem=$(sed -e 's/^.*connect: //' -e 's/^${TCP_OPEN_NAME}: line [0-9]*: //' "$dir/peer.err" | grep -v '^\s*$' | head -n 1 | cut -c1-200)
  fi
  fact --arg server "$server" --arg address "$addr:$port" --argjson ok "$ok" --arg problem "\${problem:-no answer within 5 s}" \
    '{k: "peer", server: $server, address: $address, ok: $ok} + (if $ok then {} else {problem: $problem} end)'
}

# One sample of the server, as ferry watch's ServerSample (JSON).
take_sample() {
  local s0 s1 since last n i at
  at=$(iso)
  last=$(jq -r '.last_epoch // 0' "$dir/state.json")
  since=$(($(date +%s) - last + 1))
  [ "$last" -gt 0 ] && [ "$since" -le $((3 * $(conf .every_s) + 5)) ] || since=$(($(conf .every_s) + 5))
  {
    s0=$(head -n 1 /proc/stat)
    sleep 1
    s1=$(head -n 1 /proc/stat)
    fact --arg stat0 "$s0" --arg stat1 "$s1" --arg meminfo "$(cat /proc/meminfo)" --arg df "$(df -P -B1 2>/dev/null)" \\
      '{k: "host", stat0: $stat0, stat1: $stat1, meminfo: $meminfo, df: $df}'
    n=$(conf '.stacks | length')
    for ((i = 0; i < n; i++)); do stack_facts "$i" "$since"; done
    peer_fact
  } | jq -s -c --arg server "$(conf .server)" --arg at "$at" "$SAMPLE"
}

# curl's configuration for posting to URL $1, read on stdin (nothing on the command line).
curl_config() {
  local u=\${1//\\\\/\\\\\\\\}
  u=\${u//\\"/\\\\\\"}
  printf 'url = "%s"\\n' "$u"
}

# Posts transition $1 (JSON) to each receiver that wants it; a refusal is an event.
deliver() {
  local d url code err
  [ -r "$receivers" ] || return 0
  while IFS= read -r d; do
    jq -c .body <<<"$d" >"$dir/body.json"
    url=$(jq -r .url <<<"$d")
    code=$(curl_config "$url" | curl -sS -o /dev/null -w '%{http_code}' --max-time 10 \\
      -H 'content-type: application/json' --data-binary @"$dir/body.json" -K - 2>"$dir/curl.err")
    [[ $code =~ ^2 ]] && continue
    err=$(tr '\\n' ' ' <"$dir/curl.err" | cut -c1-300)
    err=\${err//"$url"/the receiver URL}
    [[ $code =~ ^[1-9] ]] && err="answered $code"
    jq -cn --arg r "$(jq -r .receiver <<<"$d")" --argjson tr "$1" --arg e "\${err:-no answer}" \\
      '{event: "delivery-failed", receiver: $r, alert: $tr.alert.alert, key: $tr.alert.key, error: $e}' | note
  done < <(jq -c --argjson tr "$1" "$DELIVER" "$receivers")
  rm -f "$dir/body.json" "$dir/curl.err"
}

# The end of the watch: said once, the receivers' secrets deleted, the timer disabled.
finish() {
  jq -c '{event: "ended", still_firing: (.firing | keys)}' "$dir/state.json" | note
  rm -f "$receivers"
  systemctl disable --now "ferry-watch-$name.timer" >/dev/null 2>&1 || true
}

main() {
  local started judged t
  command -v jq >/dev/null || die "jq is not installed"
  [ -r "$config" ] || die "no configuration at $config"
  mkdir -p "$dir" && chmod 700 "$dir" || die "cannot make $dir"
  started=$(conf .started)
  if [ "$(jq -r '.started // ""' "$dir/state.json" 2>/dev/null)" != "$started" ]; then
    jq -cn --arg s "$started" '{started: $s, pending: {}, firing: {}, samples: 0, peaks: {}}' >"$dir/state.json"
    jq -c '{event: "started", started, until, every_s, server, stacks: [.stacks[].stack]}' "$config" | note
  fi
  if [ "$(date +%s)" -ge "$(conf .until_epoch)" ]; then finish; return 0; fi
  if ! take_sample >"$dir/sample.json" || ! jq -e .server "$dir/sample.json" >/dev/null 2>&1; then
    jq -cn '{event: "sample-failed"}' | note
    die "the sample could not be taken"
  fi
  judged=$(jq -n -c --slurpfile st "$dir/state.json" --slurpfile s "$dir/sample.json" '{state: $st[0], sample: $s[0]}' |
    jq -c --argjson t "$(conf -c .thresholds)" "$EVALUATE") || die "the sample could not be judged"
  jq -c --slurpfile s "$dir/sample.json" --argjson now "$(date +%s)" '.state | .samples += 1 | .last_epoch = $now
    | .peaks.cpuPercent = ([.peaks.cpuPercent, $s[0].cpuPercent] | max)
    | .peaks.memoryPercent = ([.peaks.memoryPercent, $s[0].memoryPercent] | max)
    | .peaks.diskPercent = ([.peaks.diskPercent, ($s[0].disks[].usePercent)] | max)' <<<"$judged" >"$dir/state.next" &&
    mv "$dir/state.next" "$dir/state.json" || die "cannot write $dir/state.json"
  rm -f "$dir/inspect.json" "$dir/log" "$dir/body.json" "$dir/curl.err" "$dir/docker.err" "$dir/peer.err"
  while IFS= read -r t; do
    jq -r '"[\\(.status | ascii_upcase)] \\(.alert.severity) \\(.alert.alert): \\(.alert.summary)"' <<<"$t"
    jq -c '{event: .status} + .alert' <<<"$t" | note
    deliver "$t"
  done < <(jq -c '.transitions[]' <<<"$judged")
}`;

/** An ERE for grep matching the lines ERROR_LINE matches. */
function errorPattern(): string {
  return `\\b(${ERROR_WORDS.join('|')})\\b`;
}

/** The runner, whole. Sourced with FERRY_WATCH_SOURCED=1, it only defines its functions. */
export function renderWatchRunner(): string {
  return [
    HEADER,
    literal('SAMPLE', SAMPLE_JQ),
    literal('EVALUATE', EVALUATE_JQ),
    literal('DELIVER', DELIVER_JQ),
    HELPERS,
    '[ -n "${FERRY_WATCH_SOURCED:-}" ] || main',
    '',
  ].join('\n');
}
