/**
 * `backup-age`: a stack's data-loss window, from what its server holds: the metrics file
 * each backup run leaves (scheduled or by hand) and the stack's backup timer. A repository
 * with no good backup, a last run that failed, a timer missing or stopped, a failed
 * scheduled run, and a last good backup older than the schedule allows (or than a day and
 * a twelfth, for a stack without a schedule) are reported; so is a failed restore drill,
 * and a drill schedule without its timer.
 */
import { finding, type Finding } from '../../core/finding.js';
import { overdueAfterMs, scheduleProblem, span } from '../../backup/schedule-status.js';
import { ids, loadedStacks, type StackView } from '../common.js';
import type { HostFacts } from '../../inventory/live/facts.js';
import type { LiveRule } from './context.js';

const DAY_MS = 24 * 3600_000;
const iso = (s: number): string => `${new Date(s * 1000).toISOString().slice(0, 16)}Z`;

function stackFindings(st: StackView, f: HostFacts): Finding[] {
  const def = st.def.backups!;
  const server = st.server!;
  const where = { host: server, path: `stacks/${st.name}/backups` };
  const now = Date.parse(f.collectedAt);
  const out: Finding[] = [];
  const add = (severity: 'error' | 'warning', message: string, hint: string) =>
    out.push(finding('backup-age', severity, message, where, hint, ids(st)));
  const runs = f.backups.runs.filter((r) => r.stack === st.name);
  const good: number[] = [];
  for (const repo of def.repositories) {
    const r = runs.find((x) => x.repository === repo.name);
    if (r?.lastSuccess === undefined) {
      add(
        'warning',
        `${server} records no good backup of ${st.name} into ${repo.name}`,
        `Run \`ferry backup run ${st.name}\`${def.schedule ? '' : ', and give `backups` a `schedule`'}.`,
      );
      continue;
    }
    good.push(r.lastSuccess);
    if (!r.ok)
      add(
        'warning',
        `the last backup run of ${st.name} into ${repo.name} on ${server} failed (${iso(r.lastRun)}); the last good one is ${span(now - r.lastSuccess * 1000)} old`,
        `See why: \`journalctl -u ferry-backup-${st.name}.service\` for a scheduled run, \`ferry runs\` for one by hand; then \`ferry backup run ${st.name}\`.`,
      );
  }
  const newest = good.length > 0 ? Math.max(...good) : undefined;
  const lastGood = newest !== undefined ? new Date(newest * 1000).toISOString() : undefined;
  const schedule = f.backups.schedules[st.name];
  if (def.schedule !== undefined && !schedule)
    add(
      'error',
      `backups.schedule of ${st.name} is "${def.schedule}", but ${server} has no backup timer for it: no backup runs by itself`,
      `Run \`ferry backup run ${st.name}\`: it installs the timer.`,
    );
  else if (def.schedule !== undefined && schedule) {
    const problem = scheduleProblem(schedule, lastGood, now);
    if (problem)
      add(
        'error',
        `backups of ${st.name} on ${server}: ${problem}`,
        `\`ferry backup status ${st.name}\` and \`journalctl -u ferry-backup-${st.name}.service\` say more; \`ferry backup run ${st.name}\` backs up now and reinstalls the timer.`,
      );
  } else if (newest !== undefined && now - newest * 1000 > overdueAfterMs(DAY_MS))
    add(
      'warning',
      `${st.name} has no backup schedule, and its last good backup is ${span(now - newest * 1000)} old: that much data would be lost`,
      'Give `backups` a `schedule` (`daily`, `"*-*-* 03:00"`): a timer on the server then backs up without Ferry.',
    );
  out.push(...drillFindings(st, f, where), ...checkFindings(st, f, where), ...kindFindings(st, f, where));
  return out;
}

/** A kind's own schedule without its active timer, and its last scheduled run failed. */
function kindFindings(st: StackView, f: HostFacts, where: { host: string; path: string }): Finding[] {
  return Object.entries(st.def.backups!.kindSchedules ?? {}).flatMap(([kind, calendar]) => {
    const timer = f.backups.schedules[`${st.name}.${kind}`];
    const unit = `ferry-backup-${st.name}.${kind}.service`;
    const problem = scheduleProblem(timer ?? { timer: 'missing' }, undefined, Date.parse(f.collectedAt));
    if (!problem) return [];
    return [
      finding(
        'backup-age',
        'error',
        `backups.schedule.${kind} of ${st.name} is "${calendar}", but on ${st.server} its timer says: ${problem}`,
        { ...where, path: `${where.path}/schedule/${kind}` },
        timer
          ? `\`journalctl -u ${unit}\` says why; \`ferry backup run ${st.name}\` backs up now and reinstalls the timers.`
          : `Run \`ferry backup run ${st.name}\`: it installs the timers.`,
        ids(st),
      ),
    ];
  });
}

/** A repository check schedule without its active timer, and a last scheduled check that failed. */
function checkFindings(st: StackView, f: HostFacts, where: { host: string; path: string }): Finding[] {
  const calendar = st.def.backups!.check;
  if (calendar === undefined) return [];
  const timer = f.backups.checkSchedules[st.name];
  if (timer?.timer !== 'active')
    return [
      finding(
        'backup-age',
        'error',
        `backups.check of ${st.name} is "${calendar}", but ${st.server} has ${timer ? `its check timer ${timer.timer}` : 'no check timer'}: no repository check runs by itself`,
        where,
        `Run \`ferry backup run ${st.name}\`: it installs the timers.`,
        ids(st),
      ),
    ];
  if (timer.lastResult === undefined || timer.lastResult === 'success') return [];
  return [
    finding(
      'backup-age',
      'error',
      `the last scheduled check of ${st.name}'s repositories on ${st.server} failed (${timer.lastResult}, ${timer.lastExit?.slice(0, 16)}Z): a repository may be damaged`,
      where,
      `\`journalctl -u ferry-check-${st.name}.service\` names the repository and what restic found; \`ferry backup drill ${st.name} --repository NAME\` reads all of it.`,
      ids(st),
    ),
  ];
}

/** A failed restore drill (by hand or scheduled), and a drill schedule without its active timer. */
function drillFindings(st: StackView, f: HostFacts, where: { host: string; path: string }): Finding[] {
  const def = st.def.backups!;
  const out: Finding[] = [];
  for (const d of f.backups.drills.filter((x) => x.stack === st.name && !x.ok))
    out.push(
      finding(
        'backup-age',
        'error',
        `the last restore drill of ${st.name} from ${d.repository} on ${st.server} failed (${iso(d.at)}): its backups may not restore`,
        where,
        `\`ferry backup drill ${st.name} --repository ${d.repository}\` says which table, key count or file differs; \`journalctl -u ferry-drill-${st.name}.service\` for a scheduled drill.`,
        ids(st),
      ),
    );
  const timer = f.backups.drillSchedules[st.name];
  if (def.drill !== undefined && timer?.timer !== 'active')
    out.push(
      finding(
        'backup-age',
        'error',
        `backups.drill of ${st.name} is "${def.drill}", but ${st.server} has ${timer ? `its drill timer ${timer.timer}` : 'no drill timer'}: no drill runs by itself`,
        where,
        `Run \`ferry backup run ${st.name}\`: it installs the timers.`,
        ids(st),
      ),
    );
  return out;
}

export const backupAge: LiveRule = (fleet, factsByServer) =>
  loadedStacks(fleet).flatMap((st) => {
    const f = st.server ? factsByServer.get(st.server) : undefined;
    return f && st.def.backups ? stackFindings(st, f) : [];
  });
