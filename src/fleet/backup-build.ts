/** A stack's `backups` merged over the fleet's, key by key; paths resolved against ferry.yml. */
import { resolve } from 'node:path';
import {
  DEFAULT_RETENTION,
  type BackupDef,
  type BackupPasswordDef,
  type BackupRepositoryDef,
} from '../model/backup.js';
import type { BackupsEntry } from './backup-schema.js';

export function backupDef(
  fleet: BackupsEntry | undefined,
  stack: BackupsEntry | undefined,
  baseDir: string,
): BackupDef | undefined {
  if (stack === undefined) return undefined;
  const m = { ...fleet, ...stack };
  const def: BackupDef = {
    repositories: (m.repositories ?? []).map((r) => repositoryDef(r, baseDir)),
    retention: { ...DEFAULT_RETENTION, ...fleet?.retention, ...stack.retention },
  };
  if (m.password) def.password = secretDef(m.password, baseDir);
  if (m.postgres !== undefined) def.postgres = m.postgres;
  if (m.redis !== undefined) def.redis = m.redis;
  if (m.mysql !== undefined) def.mysql = m.mysql;
  if (m.volumes !== undefined) def.volumes = m.volumes;
  if (m.paths !== undefined) def.paths = m.paths;
  if (m.release !== undefined) def.release = m.release;
  if (typeof m.schedule === 'string') def.schedule = m.schedule;
  else if (m.schedule) {
    const { default: all, ...kinds } = m.schedule;
    def.schedule = all;
    const own = Object.entries(kinds).filter(([, c]) => c !== undefined && c !== all);
    if (own.length > 0) def.kindSchedules = Object.fromEntries(own) as BackupDef['kindSchedules'];
  }
  if (typeof m.drill === 'string') def.drill = m.drill;
  if (typeof m.check === 'string') def.check = m.check;
  if (m.check_read !== undefined) def.checkRead = m.check_read;
  return def;
}

type SecretEntry = { env: string } | { file: string };
const secretDef = (p: SecretEntry, baseDir: string): BackupPasswordDef =>
  'env' in p ? { env: p.env } : { file: resolve(baseDir, p.file) };

type RepositoryEntry = NonNullable<BackupsEntry['repositories']>[number];

/** The schema let through exactly one of `path`, `rest` and `s3`. */
function repositoryDef(r: RepositoryEntry, baseDir: string): BackupRepositoryDef {
  if (r.rest) {
    const { url, user, password } = r.rest;
    return {
      name: r.name,
      rest: { url, ...(user !== undefined && password ? { user, password: secretDef(password, baseDir) } : {}) },
    };
  }
  if (r.s3) {
    const { url, access_key_id, secret_access_key, region } = r.s3;
    return {
      name: r.name,
      s3: {
        url,
        accessKeyId: secretDef(access_key_id, baseDir),
        secretAccessKey: secretDef(secret_access_key, baseDir),
        ...(region ? { region } : {}),
      },
    };
  }
  return { name: r.name, path: r.path!, ...(r.server ? { server: r.server } : {}) };
}
