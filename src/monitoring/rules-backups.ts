/**
 * Alert rules of backups, on what every `ferry backup run` writes for node_exporter's
 * textfile collector (backup/metrics.ts): the age of the last good run (the data-loss
 * window, should the server die now), a run that failed, and a restore drill that failed.
 */
import type { Thresholds } from '../model/monitoring.js';
import type { RuleGroup } from './rule.js';
import { sel } from './rules-hosts.js';

const BACKUP = { job: 'node', instance: '10.0.0.5:9100', server: 'app', stack: 'shop', repository: 'offsite' };
const labels = { server: BACKUP.server, stack: BACKUP.stack, repository: BACKUP.repository };

export function backupRules(t: Thresholds): RuleGroup {
  // Samples 5 minutes apart (Prometheus' lookback: no gap between them): in the bad case the
  // last good run began at the start, in the good one at every sample.
  const steps = Math.ceil(((t.backupMaxAgeHours + 2) * 60) / 5);
  return {
    name: 'ferry-backups',
    rules: [
      {
        alert: 'BackupTooOld',
        expr: `max by (server, stack, repository) (time() - ferry_backup_last_success_timestamp_seconds) > ${t.backupMaxAgeHours} * 3600`,
        for: '10m',
        severity: 'critical',
        summary: 'The last good backup of {{ $labels.stack }} into {{ $labels.repository }} is too old',
        description: `The oldest data in the last backup run of {{ $labels.stack }} on {{ $labels.server }} into {{ $labels.repository }} that ended with its manifest was backed up over ${t.backupMaxAgeHours} hours ago (a run of one kind carries the others over): a loss of the server now loses that much data. Run \`ferry backup run {{ $labels.stack }}\` and read why the last runs failed.`,
        proof: {
          series: [
            {
              series: sel('ferry_backup_last_success_timestamp_seconds', BACKUP),
              bad: `0x${steps}`,
              good: `0+300x${steps}`,
            },
          ],
          interval: '5m',
          evalAt: `${t.backupMaxAgeHours + 1}h`,
          labels,
        },
      },
      {
        alert: 'BackupFailed',
        expr: 'max by (server, stack, repository) (ferry_backup_last_run_success == 0)',
        for: '0m',
        severity: 'warning',
        summary: 'The last backup run of {{ $labels.stack }} into {{ $labels.repository }} failed',
        description:
          'The last backup run of {{ $labels.stack }} on {{ $labels.server }} into {{ $labels.repository }} ended without its manifest: `ferry runs show` has the error of a run by hand, `journalctl -u ferry-backup-{{ $labels.stack }}.service` that of a scheduled one.',
        proof: {
          series: [{ series: sel('ferry_backup_last_run_success', BACKUP), bad: '0x10', good: '1x10' }],
          evalAt: '5m',
          labels: { ...labels },
        },
      },
      {
        alert: 'BackupDrillFailed',
        expr: 'max by (server, stack, repository) (ferry_backup_last_drill_success == 0)',
        for: '0m',
        severity: 'critical',
        summary: 'The last restore drill of {{ $labels.stack }} from {{ $labels.repository }} failed',
        description:
          "The last restore drill of {{ $labels.stack }} on {{ $labels.server }} from {{ $labels.repository }} could not restore the latest backup, or what it restored differs from the backup's manifest: the backups may not restore. `journalctl -u ferry-drill-{{ $labels.stack }}.service` (scheduled) or `ferry backup drill {{ $labels.stack }}` says which table, key count or file.",
        proof: {
          series: [{ series: sel('ferry_backup_last_drill_success', BACKUP), bad: '0x10', good: '1x10' }],
          evalAt: '5m',
          labels: { ...labels },
        },
      },
    ],
  };
}
