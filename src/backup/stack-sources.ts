/** A loaded stack's backup sources: the pure choice of sources.ts, with the data binds read off this machine. */
import { dataBinds } from '../deploy/bundle.js';
import type { BackupDef } from '../model/backup.js';
import type { ComposeProject } from '../model/compose.js';
import { backupSources, type BackupSources } from './sources.js';

export const stackSources = (stack: string, project: ComposeProject, def: BackupDef): BackupSources =>
  backupSources(stack, project, def, (s) => dataBinds(s, project.workingDir));
