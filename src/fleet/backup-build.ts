/** A stack's `backups` merged over the fleet's, key by key; paths resolved against ferry.yml. */
import { resolve } from 'node:path';
import { DEFAULT_RETENTION, type BackupDef } from '../model/backup.js';
import type { BackupsEntry } from './backup-schema.js';

export function backupDef(
  fleet: BackupsEntry | undefined,
  stack: BackupsEntry | undefined,
  baseDir: string,
): BackupDef | undefined {
  if (stack === undefined) return undefined;
  const m = { ...fleet, ...stack };
  const def: BackupDef = {
    repositories: (m.repositories ?? []).map((r) => (r.server ? { ...r } : { name: r.name, path: r.path })),
    retention: { ...DEFAULT_RETENTION, ...fleet?.retention, ...stack.retention },
  };
  if (m.password)
    def.password = 'env' in m.password ? { env: m.password.env } : { file: resolve(baseDir, m.password.file) };
  if (m.postgres !== undefined) def.postgres = m.postgres;
  if (m.redis !== undefined) def.redis = m.redis;
  if (m.volumes !== undefined) def.volumes = m.volumes;
  if (typeof m.schedule === 'string') def.schedule = m.schedule;
  if (typeof m.drill === 'string') def.drill = m.drill;
  return def;
}
