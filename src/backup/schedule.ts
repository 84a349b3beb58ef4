/**
 * A stack's backup schedule on its server: a systemd timer (`OnCalendar=` the stack's
 * `backups.schedule`, `Persistent=true`: a run missed while the server was off runs at
 * boot) starts a oneshot service that runs the runner (runner.ts) with the stack's
 * configuration. The files, as data; nothing here runs anything. Pure.
 */
import { bucketEnv, httpServerOf, sftpCommand, type RepoAccess } from './restic.js';
import { currentLink } from '../deploy/layout.js';
import {
  BACKUP_KINDS,
  DEFAULT_CHECK_READ,
  keptDays,
  type BackupDef,
  type BackupKind,
  type BackupRetention,
} from '../model/backup.js';
import { RUNNER_PATH, runnerConfigPath, renderRunner } from './runner.js';
import type { BackupSources } from './sources.js';

/** What a timer starts: a backup run, a restore drill, or a check of the repositories. */
export type Job = 'backup' | 'drill' | 'check';
export const JOBS: readonly Job[] = ['backup', 'drill', 'check'];

/**
 * A timer of the stack, by its key: a job (`backup`, `drill`, `check`), or `backup.KIND`,
 * the backups of one kind on a calendar of its own (`backups.schedule.KIND`).
 */
export type TimerKey = Job | `backup.${BackupKind}`;
export const TIMER_KEYS: readonly TimerKey[] = [
  'backup',
  ...BACKUP_KINDS.map((k) => `backup.${k}` as const),
  'drill',
  'check',
];
/** The kind a key backs up alone; undefined for a job. */
export const kindOf = (key: TimerKey): BackupKind | undefined =>
  key.startsWith('backup.') ? (key.slice(7) as BackupKind) : undefined;
export const jobOf = (key: TimerKey): Job => (kindOf(key) ? 'backup' : (key as Job));

/** `ferry-JOB-STACK.TYPE`; a kind's `ferry-backup-STACK.KIND.TYPE` (a stack's name has no dot). */
export const unitName = (stack: string, type: 'service' | 'timer', key: TimerKey = 'backup'): string => {
  const kind = kindOf(key);
  return kind ? `ferry-backup-${stack}.${kind}.${type}` : `ferry-${key}-${stack}.${type}`;
};
export const unitPath = (stack: string, type: 'service' | 'timer', key: TimerKey = 'backup'): string =>
  `/etc/systemd/system/${unitName(stack, type, key)}`;

/** The calendars of a stack's `backups`: `schedule` for the backup timer (and each kind's own), `drill` and `check` for theirs. */
export const calendarsOf = (
  def: Pick<BackupDef, 'schedule' | 'kindSchedules' | 'drill' | 'check'>,
): Partial<Record<TimerKey, string>> => ({
  ...(def.schedule !== undefined ? { backup: def.schedule } : {}),
  ...Object.fromEntries(Object.entries(def.kindSchedules ?? {}).map(([k, c]) => [`backup.${k}`, c])),
  ...(def.drill !== undefined ? { drill: def.drill } : {}),
  ...(def.check !== undefined ? { check: def.check } : {}),
});

/** The timers the calendars want, in the order of TIMER_KEYS. */
export const wantedTimers = (calendars: Partial<Record<TimerKey, string>>): TimerKey[] =>
  TIMER_KEYS.filter((k) => calendars[k] !== undefined);

export interface ScheduleInput {
  stack: string;
  /** When each job (and kind) runs: a systemd calendar expression (`daily`, `*-*-* 03:00`); one left out has no timer. */
  calendars: Partial<Record<TimerKey, string>>;
  sources: BackupSources;
  repos: RepoAccess[];
  retention: BackupRetention;
  /** The share of the packs a scheduled check reads (`backups.check_read`). */
  checkRead?: string;
}

/** What the runner reads: the sources, the repositories (with their SFTP command), the retention. */
export function renderRunnerConfig(i: ScheduleInput): string {
  const config = {
    stack: i.stack,
    project: i.sources.project,
    postgres: i.sources.postgres.map((d) => ({ service: d.service, user: d.user, db: d.db })),
    mysql: i.sources.mysql.map((m) => ({ service: m.service })),
    redis: i.sources.redis.map((r) => ({ service: r.service })),
    volumes: i.sources.volumes.map((v) => ({ name: v.name, docker: v.docker })),
    paths: i.sources.paths.map((p) => ({ name: p.name, path: p.path })),
    ...(i.sources.release ? { release_link: currentLink(i.stack) } : {}),
    repositories: i.repos.map((r) => {
      const http = httpServerOf(r);
      const env = bucketEnv(r);
      return {
        name: r.name,
        url: r.url,
        ...(r.channel ? { sftp_command: sftpCommand(r.channel) } : {}),
        ...(r.file?.holds === 'url' ? { repository_file: r.file.path } : {}),
        ...(env.length > 0 ? { env } : {}),
        ...(http ? { reach_host: http[0], reach_port: http[1] } : {}),
      };
    }),
    retention: keptDays(i.retention).map(([kind, days]) => ({ kind, days })),
    ...(i.calendars.check !== undefined ? { check_read: i.checkRead ?? DEFAULT_CHECK_READ } : {}),
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

const WHAT: Record<Job, string> = { backup: 'backup', drill: 'restore drill', check: 'repository check' };
const what = (key: TimerKey): string => {
  const kind = kindOf(key);
  return kind ? `backup of the ${kind}` : WHAT[key as Job];
};

export function renderService(stack: string, key: TimerKey = 'backup'): string {
  const job = jobOf(key);
  return [
    `# Written by Ferry (\`ferry backup run\`): the scheduled ${what(key)} of stack ${stack}.`,
    '[Unit]',
    `Description=Ferry ${what(key)} of stack ${stack}`,
    'Wants=network-online.target',
    'After=network-online.target docker.service',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${RUNNER_PATH} ${stack} ${job === 'backup' ? 'run' : job}${kindOf(key) ? ` ${kindOf(key)}` : ''}`,
    'Nice=10',
    'IOSchedulingClass=best-effort',
    'IOSchedulingPriority=7',
    'TimeoutStartSec=6h',
    '',
  ].join('\n');
}

export function renderTimer(stack: string, schedule: string, key: TimerKey = 'backup'): string {
  return [
    `# Written by Ferry (\`ferry backup run\`): when the ${what(key)} of stack ${stack} runs.`,
    '[Unit]',
    `Description=Ferry ${what(key)} schedule of stack ${stack}`,
    '',
    '[Timer]',
    `OnCalendar=${schedule}`,
    'Persistent=true',
    'AccuracySec=1min',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
}

/** One file the schedule puts on the server. */
export interface ScheduleFile {
  path: string;
  content: string;
  mode: number;
}

/** Every file of the stack's schedules, the runner first; none when no job has a calendar. */
export function scheduleFiles(i: ScheduleInput): ScheduleFile[] {
  const jobs = wantedTimers(i.calendars);
  if (jobs.length === 0) return [];
  return [
    { path: RUNNER_PATH, content: renderRunner(), mode: 0o755 },
    { path: runnerConfigPath(i.stack), content: renderRunnerConfig(i), mode: 0o600 },
    ...jobs.flatMap((j) => [
      { path: unitPath(i.stack, 'service', j), content: renderService(i.stack, j), mode: 0o644 },
      { path: unitPath(i.stack, 'timer', j), content: renderTimer(i.stack, i.calendars[j]!, j), mode: 0o644 },
    ]),
  ];
}
