/** What Ferry's backups left on a server: the metrics file of each stack and repository, and each backup timer. */
import { script } from '../../../shell/command.js';
import { TEXTFILE_DIR } from '../../../monitoring/render/health.js';
import { scheduleStateOf } from '../../../backup/schedule-status.js';
import { JOBS, type Job } from '../../../backup/schedule.js';
import type { BackupMetrics, DrillMetrics } from '../../../backup/metrics.js';
import { sections, type Probe } from '../probe.js';
import { emptyFacts, type BackupFacts } from '../facts.js';
import type { Transport } from '../../../transport/transport.js';

const READ = `echo @@metrics
for f in ${TEXTFILE_DIR}/ferry_backup_*.prom ${TEXTFILE_DIR}/ferry_drill_*.prom; do [ -f "$f" ] && cat "$f"; done
export TZ=UTC
for t in ${JOBS.map((j) => `/etc/systemd/system/ferry-${j}-*.timer`).join(' ')}; do
  [ -f "$t" ] || continue
  n=\${t##*/}; u=\${n%.timer}; j=\${u#ferry-}; j=\${j%%-*}; s=\${u#ferry-$j-}
  echo "@@timer.$j.$s"; systemctl show "$n" -p ActiveState -p NextElapseUSecRealtime -p LastTriggerUSec
  echo "@@service.$j.$s"; systemctl show "$u.service" -p Result -p ExecMainExitTimestamp
  echo "@@calendar.$j.$s"; systemd-analyze calendar --iterations=2 -- "$(sed -n 's/^OnCalendar=//p' "$t")" 2>&1
done
true`;

const TIMER_SECTION = new RegExp(`^timer\\.(${JOBS.join('|')})\\.(.+)$`);

const LINE =
  /^ferry_backup_(last_run_timestamp_seconds|last_run_success|last_success_timestamp_seconds|last_drill_timestamp_seconds|last_drill_success)\{stack="([^"]*)",repository="([^"]*)"\} (\d+)$/;

/** The runs and drills the metrics files record, one of each per stack and repository. */
export function parseBackupMetrics(text: string): { runs: BackupMetrics[]; drills: DrillMetrics[] } {
  const runs = new Map<string, BackupMetrics>();
  const drills = new Map<string, DrillMetrics>();
  for (const l of text.split('\n')) {
    const m = LINE.exec(l.trim());
    if (!m) continue;
    const [, name, stack, repository, value] = m as unknown as [string, string, string, string, string];
    const key = `${stack}/${repository}`;
    if (name.startsWith('last_drill')) {
      const d = drills.get(key) ?? { stack, repository, at: 0, ok: false };
      if (name === 'last_drill_success') d.ok = value === '1';
      else d.at = Number(value);
      drills.set(key, d);
      continue;
    }
    const r = runs.get(key) ?? { stack, repository, lastRun: 0, ok: false };
    if (name === 'last_run_timestamp_seconds') r.lastRun = Number(value);
    else if (name === 'last_run_success') r.ok = value === '1';
    else r.lastSuccess = Number(value);
    runs.set(key, r);
  }
  return { runs: [...runs.values()], drills: [...drills.values()] };
}

export const backupsProbe: Probe = {
  name: 'backups',
  root: true,
  command: script(READ),
  apply(facts, result) {
    const s = sections(result.stdout);
    const { runs, drills } = parseBackupMetrics(s.get('metrics') ?? '');
    facts.backups.runs = runs;
    facts.backups.drills = drills;
    for (const name of s.keys()) {
      const m = TIMER_SECTION.exec(name);
      if (!m) continue;
      const key = `${m[1]}.${m[2]}`;
      const state = scheduleStateOf(s.get(name) ?? '', s.get(`service.${key}`) ?? '', s.get(`calendar.${key}`) ?? '');
      const into: Record<Job, BackupFacts['schedules']> = {
        backup: facts.backups.schedules,
        drill: facts.backups.drillSchedules,
        check: facts.backups.checkSchedules,
      };
      into[m[1] as Job][m[2]!] = state;
    }
  },
};

/** One server's backup facts, read by the probe's own command (`ferry backup status`). */
export async function readBackupFacts(t: Transport, sudo: boolean, now: Date): Promise<BackupFacts> {
  const facts = emptyFacts(t.name, t.name, now.toISOString());
  backupsProbe.apply(facts, await t.exec(backupsProbe.command, { sudo }), { now });
  return facts.backups;
}
