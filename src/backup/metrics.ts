/**
 * What a backup run leaves for monitoring: per stack and repository, a file for
 * node_exporter's textfile collector (the directory the monitoring stack's node_exporter
 * reads) with when the last run began, whether it succeeded, and when the last good one
 * began. A failed run keeps the last good time it finds in the file: the age of the last
 * good backup is the data-loss window, which the BackupTooOld rule watches. Pure, but the
 * writer, which renames a complete file into place so that a scrape never reads half.
 */
import type { StepContext } from '../engine/step.js';
import type { Transport } from '../transport/transport.js';
import { StepError } from '../engine/errors.js';
import { script, type Command } from '../shell/command.js';
import { TEXTFILE_DIR } from '../monitoring/render/health.js';

export const metricsPath = (stack: string, repository: string): string =>
  `${TEXTFILE_DIR}/ferry_backup_${stack}_${repository}.prom`;

export interface BackupMetrics {
  stack: string;
  repository: string;
  /** Unix seconds the last run began. */
  lastRun: number;
  ok: boolean;
  /** Unix seconds the last good run began; absent when none is known. */
  lastSuccess?: number;
}

const LAST_SUCCESS = 'ferry_backup_last_success_timestamp_seconds';

/** Each gauge's help text, by name without its `ferry_backup_` prefix (the runner writes the same). */
export const GAUGE_HELP = {
  last_run_timestamp_seconds: 'When the last backup run of the stack into the repository began.',
  last_run_success: '1 when the last backup run into the repository ended with its manifest, 0 when it failed.',
  last_success_timestamp_seconds:
    'When the oldest data of the last backup run into the repository that ended with its manifest was backed up (its start, or an entry a run of one kind carried over).',
  last_drill_timestamp_seconds: 'When the last restore drill of the stack from the repository began.',
  last_drill_success: '1 when the last restore drill proved every row, key and file, 0 when it failed.',
} as const;

/** One gauge with its HELP and TYPE lines. */
const gauge = (name: keyof typeof GAUGE_HELP, labels: string, value: number): string[] => [
  `# HELP ferry_backup_${name} ${GAUGE_HELP[name]}`,
  `# TYPE ferry_backup_${name} gauge`,
  `ferry_backup_${name}${labels} ${value}`,
];

export function renderBackupMetrics(m: BackupMetrics): string {
  const labels = `{stack="${m.stack}",repository="${m.repository}"}`;
  return [
    ...gauge('last_run_timestamp_seconds', labels, m.lastRun),
    ...gauge('last_run_success', labels, m.ok ? 1 : 0),
    ...(m.lastSuccess !== undefined ? gauge('last_success_timestamp_seconds', labels, m.lastSuccess) : []),
    '',
  ].join('\n');
}

export const drillMetricsPath = (stack: string, repository: string): string =>
  `${TEXTFILE_DIR}/ferry_drill_${stack}_${repository}.prom`;

export interface DrillMetrics {
  stack: string;
  repository: string;
  /** Unix seconds the drill began. */
  at: number;
  ok: boolean;
}

/** A restore drill's outcome, by hand (`ferry backup drill`) or scheduled: the `BackupDrillFailed` rule watches it. */
export function renderDrillMetrics(m: DrillMetrics): string {
  const labels = `{stack="${m.stack}",repository="${m.repository}"}`;
  return [
    ...gauge('last_drill_timestamp_seconds', labels, m.at),
    ...gauge('last_drill_success', labels, m.ok ? 1 : 0),
    '',
  ].join('\n');
}

/** The last good run's time in a file this module wrote, if it holds one. */
export function lastSuccessIn(text: string): number | undefined {
  const m = new RegExp(`^${LAST_SUCCESS}\\{[^}]*\\} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The file's content on stdin, written beside it, then renamed over it. $1 directory, $2 file. */
const writeCommand = (path: string): Command =>
  script('mkdir -p "$1" && cat > "$2.tmp" && mv "$2.tmp" "$2"', TEXTFILE_DIR, path);
const readCommand = (path: string): Command => script('cat "$1" 2>/dev/null || true', path);

/** Writes a drill's outcome; false when the file could not be written (the drill's own report comes first). */
export async function recordDrill(t: Transport, m: DrillMetrics, sudo: boolean): Promise<boolean> {
  const r = await t.exec(writeCommand(drillMetricsPath(m.stack, m.repository)), { sudo, stdin: renderDrillMetrics(m) });
  return r.code === 0;
}

/** Writes the run's outcome; on a failure, keeps the last good time the file held. */
export async function recordBackupRun(
  ctx: StepContext,
  o: { stack: string; repository: string; sudo: boolean; startedAt: Date; ok: boolean },
): Promise<void> {
  const path = metricsPath(o.stack, o.repository);
  const at = Math.floor(o.startedAt.getTime() / 1000);
  const before = o.ok
    ? undefined
    : lastSuccessIn((await ctx.transport.exec(readCommand(path), { sudo: o.sudo })).stdout);
  const m: BackupMetrics = {
    stack: o.stack,
    repository: o.repository,
    lastRun: at,
    ok: o.ok,
    ...(o.ok ? { lastSuccess: at } : before !== undefined ? { lastSuccess: before } : {}),
  };
  const r = await ctx.transport.exec(writeCommand(path), { sudo: o.sudo, stdin: renderBackupMetrics(m) });
  // A failed run's own error is what the user must read: its record is written when it can be.
  if (r.code !== 0 && o.ok)
    throw new StepError(
      'backup-metrics-failed',
      `${ctx.transport.name}: the backup into ${o.repository} is complete, but ${path} could not be written for monitoring: ${ctx.redactor.redact(r.stderr.trim()).slice(-400)}`,
      'Free the disk or make /var/lib writable, then run the backup again.',
      `host ${ctx.transport.name}`,
    );
}
