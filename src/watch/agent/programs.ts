/**
 * The watch installed on a server reads, judges and sends as `ferry watch` does, with jq
 * in place of Ferry: these programs are ports of sample.ts (`applyHostOutput`, the
 * containers of collect.ts), evaluate.ts (`conditions`, `step`, for the one server the
 * runner is on) and notify.ts (`deliveries`). programs.test.ts runs them against the
 * TypeScript on the same inputs; keep them in step. Written for jq 1.6 (Debian 12). Pure.
 */
import { PSEUDO_FILESYSTEMS } from '../../inventory/live/probes/system.js';

/** The round to a tenth of sample.ts. */
const ROUND1 = 'def round1: (. * 10 | round) / 10;';

/**
 * From the runner's facts (slurped: one object per line, `k` saying what it is) to a
 * ServerSample. `$server` and `$at` name the server and the time.
 */
export const SAMPLE_JQ = `${ROUND1}
def fields: sub("^\\\\s+"; "") | sub("\\\\s+$"; "") | [splits("\\\\s+")];
def cpu_times: fields
  | if .[0] != "cpu" or length < 5 then null
    else .[1:9] | map(tonumber? // null) | if any(. == null) then null else {idle: (.[3] + (.[4] // 0)), total: add} end
    end;
def cpu_percent($a; $b): ($a | cpu_times) as $x | ($b | cpu_times) as $y
  | if $x == null or $y == null then null
    else ($y.total - $x.total) as $t
      | if $t <= 0 then null else 100 * (1 - ($y.idle - $x.idle) / $t) | round1 end
    end;
def kb($key): [split("\\n")[] | capture("^" + $key + ":\\\\s+(?<n>\\\\d+) kB") | .n | tonumber * 1024][0];
def memory_percent: (kb("MemTotal")) as $total
  | if $total == null or $total <= 0 then null
    else (kb("MemAvailable") // kb("MemFree") // 0) as $a | 100 * (1 - $a / $total) | round1 end;
def pseudo: ${JSON.stringify(PSEUDO_FILESYSTEMS)};
def disks: split("\\n")[1:] | map(fields | select(length >= 6)
  | .[0] as $fs | (.[5:] | join(" ")) as $mount
  | select(((pseudo | index([$fs])) == null) or ($fs == "overlay" and $mount == "/"))
  | select($mount | (startswith("/dev") or startswith("/run") or startswith("/sys") or startswith("/proc")) | not)
  | select(($mount | test("^/var/lib/docker/(overlay2|containers)/")) or ($mount | startswith("/etc/")) | not)
  | {mount: $mount, usePercent: (.[4] | sub("%"; "") | tonumber)});
def opt($k; $v): if $v == null or $v == "" then {} else {($k): $v} end;
def containers($stack; $services; $inspect):
  [$services[] as $service
    | [$inspect[] | select((.Config.Labels // {})["com.docker.compose.service"] == $service)] as $mine
    | if ($mine | length) == 0 then {stack: $stack, name: $service, service: $service, status: "missing"}
      else $mine[] | {stack: $stack, name: (.Name // "" | sub("^/"; "")), service: $service,
        status: (.State.Status // "unknown"), exitCode: (.State.ExitCode // 0)}
        + opt("health"; .State.Health.Status) + opt("restart"; .HostConfig.RestartPolicy.Name)
      end];
(map(select(.k == "host"))[0] // {}) as $h
| {server: $server, at: $at, disks: [], containers: [], httpProblems: [], logErrors: [], stackProblems: []}
  + opt("cpuPercent"; cpu_percent($h.stat0 // ""; $h.stat1 // ""))
  + opt("memoryPercent"; ($h.meminfo // "") | memory_percent)
  + {disks: (($h.df // "") | disks)}
  + {containers: [.[] | select(.k == "stack") | containers(.stack; .services; .inspect)[]]}
  + {httpProblems: [.[] | select(.k == "http") | {stack, check, problem}]}
  + {logErrors: [.[] | select(.k == "log") | {stack, container, lines, last}]}
  + {stackProblems: [.[] | select(.k == "unreadable") | {stack, problem}]}
  + (map(select(.k == "peer"))[0] // null | if . == null then {} else {peer: ({server, address, ok} + opt("problem"; .problem))} end)`;

/**
 * One sample judged against the state: input `{state: {pending, firing}, sample}`,
 * \`$t\` the thresholds; output \`{state, transitions}\`. A port of evaluate.ts for one
 * server that can always read itself; and, beyond it, the server it watches in turn
 * (`sample.peer`): HostUnreachable of that server after two samples in a row without an
 * answer on its SSH port, resolved by the first answer.
 */
export const EVALUATE_JQ = `def cond($alert; $severity; $stack; $subject; $summary; $samples):
  {key: ([$alert, .server, ($stack // ""), $subject] | join("|")), alert: $alert, severity: $severity, server: .server}
  + (if $stack == null then {} else {stack: $stack} end)
  + {subject: $subject, summary: $summary, samples: $samples};
def n: tostring;
def one_shot_done: (.restart // "no") as $r | .status == "exited" and .exitCode == 0 and ((["always", "unless-stopped"] | index([$r])) == null);
def conditions($t): . as $s | [
  (if .cpuPercent != null and .cpuPercent > $t.cpuPercent
   then cond("HostHighCpu"; "warning"; null; "cpu"; "\\(.server): CPU \\(.cpuPercent | n) % busy (threshold \\($t.cpuPercent | n) %)"; 3)
   else empty end),
  (if .memoryPercent != null and .memoryPercent > $t.memoryPercent
   then cond("HostHighMemory"; "warning"; null; "memory"; "\\(.server): memory \\(.memoryPercent | n) % used (threshold \\($t.memoryPercent | n) %)"; 1)
   else empty end),
  (.disks[] | select(.usePercent > $t.diskPercent) as $d
   | $s | cond("HostDiskFull"; "warning"; null; $d.mount; "\\(.server): \\($d.mount) is \\($d.usePercent | n) % full (threshold \\($t.diskPercent | n) %)"; 1)),
  (.containers[] as $c | ($c.status != "running" and ($c | one_shot_done | not)) as $stopped
   | select($stopped or $c.health == "unhealthy")
   | $s | cond(if $stopped then "ContainerDown" else "ContainerUnhealthy" end; "critical"; $c.stack; $c.service;
       if $stopped
       then "\\($c.stack)/\\($c.service) on \\(.server): " + (if $c.status == "missing" then "no container"
         else "\\($c.name) is \\($c.status)" + (if ($c.exitCode // 0) != 0 then " (exit \\($c.exitCode | n))" else "" end) end)
       else "\\($c.stack)/\\($c.service) on \\(.server): \\($c.name) is unhealthy" end; 1)),
  (.httpProblems[] as $h | $s | cond("HttpCheckFailing"; "critical"; $h.stack; $h.check; "\\($h.stack) on \\(.server): \\($h.check): \\($h.problem)"; 1)),
  (.stackProblems[] as $p | $s | cond("StackUnreadable"; "critical"; $p.stack; $p.stack; "\\($p.stack) on \\(.server): its containers cannot be read: \\($p.problem)"; 1)),
  (.logErrors[] | select(.lines > 0) as $l | $s
   | cond("LogErrors"; "warning"; $l.stack; $l.container; "\\($l.stack) on \\(.server): \\($l.container) logged \\($l.lines | n) error line\\(if $l.lines == 1 then "" else "s" end), the last: \\($l.last)"; 1)),
  (if .peer != null and (.peer.ok | not)
   then .peer as $p | {server: $p.server}
     | cond("HostUnreachable"; "critical"; null; $p.server; "\\($p.server) does not answer on its SSH port \\($p.address), seen from \\($s.server): \\($p.problem // "no answer")"; 2)
   else empty end)
];
.sample as $s | ($s | conditions($t)) as $now | ($now | map(.key)) as $keys
| ([$s.stackProblems[].stack]) as $unread
| def known($alert; $stack): $alert == "StackUnreadable" or $stack == null or $stack == "" or (($unread | index([$stack])) == null);
  def ours($alert; $server): $server == $s.server or ($s.peer != null and $server == $s.peer.server and $alert == "HostUnreachable");
  def settled($alert; $server; $stack): if $server == $s.server then known($alert; $stack) else true end;
  reduce $now[] as $c ({state: .state, transitions: []};
    if .state.firing[$c.key] != null then .
    else ((.state.pending[$c.key] // 0) + 1) as $seen
      | if $seen < $c.samples then .state.pending[$c.key] = $seen
        else ($c | del(.samples) + {firedAt: $s.at}) as $a
          | .state.pending |= del(.[$c.key]) | .state.firing[$c.key] = $a
          | .transitions += [{status: "firing", alert: $a}]
        end
    end)
| reduce (.state.firing | to_entries[]) as $e (.;
    if ours($e.value.alert; $e.value.server) and settled($e.value.alert; $e.value.server; $e.value.stack) and (($keys | index([$e.key])) == null)
    then .state.firing |= del(.[$e.key]) | .transitions += [{status: "resolved", alert: ($e.value + {resolvedAt: $s.at})}]
    else . end)
| .state.pending |= with_entries(select(.key as $k | ($k | split("|")) as $p
    | (ours($p[0]; $p[1]) | not) or (($keys | index([$k])) != null) or (settled($p[0]; $p[1]; $p[2]) | not)))`;

/**
 * What to post for one transition (`$tr`) to each receiver of the input that wants it:
 * one \`{receiver, url, body}\` per line. A port of notify.ts's \`deliveries\`.
 */
export const DELIVER_JQ = `$tr.alert as $a
| "[\\(if $tr.status == "firing" then "FIRING" else "RESOLVED" end)] \\($a.severity) \\($a.alert): \\($a.summary)" as $text
| ({alertname: $a.alert, severity: $a.severity, server: $a.server} + (if $a.stack then {stack: $a.stack} else {} end)
   + {subject: $a.subject, source: "ferry-watch"}) as $labels
| .[] | select(.type != "email" and (.url // "") != "")
| select((.severity == "warning" or $a.severity == "critical") and ($tr.status == "firing" or .send_resolved))
| {receiver: .name, url: .url, body: (
    if .type == "webhook" then {version: "4", status: $tr.status, receiver: .name, groupKey: $a.key,
      groupLabels: {alertname: $a.alert}, commonLabels: $labels, commonAnnotations: {summary: $a.summary},
      externalURL: "", alerts: [{status: $tr.status, labels: $labels, annotations: {summary: $a.summary},
        startsAt: $a.firedAt, endsAt: ($a.resolvedAt // "0001-01-01T00:00:00Z"), fingerprint: $a.key}]}
    elif .type == "slack" then {text: $text} + (if .channel then {channel: .channel} else {} end)
    elif .type == "discord" then {content: $text}
    else {chat_id: .chat_id, text: $text} end)}`;
