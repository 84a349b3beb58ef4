/**
 * The migration's report, recorded on the target (`/srv/ferry/STACK/migration.json`) once
 * the copy is proven: what was moved and the proof of every table and volume. A resumed
 * run reads it back instead of proving twice, and refuses it when the source changed since.
 */
import { cmd, quiet } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import type { Transport } from '../transport/transport.js';
import { stackDir } from '../deploy/layout.js';
import type { Migration } from './context.js';
import { changedSince, tableSums, type TableReport } from './postgres.js';
import type { VolumeReport } from './volumes.js';
import { sourceAt } from './db-container.js';

export const reportPath = (stack: string): string => `${stackDir(stack)}/migration.json`;

export interface SavedReport {
  from: string;
  to: string;
  release: string;
  at: string;
  /** null while the tables' proof runs on a snapshot (replicate mode: see steps/proof-snapshot.ts). */
  tables: TableReport[] | null;
  volumes: VolumeReport[];
}

/** The report recorded on the target (`t` reaches it), when it is this migration's. */
export async function readReport(t: Transport, m: Migration): Promise<SavedReport | undefined> {
  const r = await t.exec(quiet(cmd('cat', reportPath(m.stack))), { sudo: m.target.sudo });
  if (r.code !== 0) return undefined;
  try {
    const saved = JSON.parse(r.stdout) as SavedReport;
    return saved.from === m.source.name && saved.release === m.release.id ? saved : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuses a proof recorded before the source changed: a run killed after it, whose source
 * then took writes (its writers started by hand), must not resume as if proven. Row
 * counts only (cheap); databases no longer running on the source cannot have changed.
 * `source` reaches the source.
 */
export async function refuseStaleProof(
  source: Transport,
  m: Migration,
  saved: SavedReport,
  redact: (s: string) => string,
): Promise<void> {
  if (!saved.tables) return;
  for (const d of m.databases) {
    const src = await sourceAt(source, m, d).catch(() => undefined);
    if (!src) continue;
    const changed = changedSince(saved.tables, await tableSums(source, src, d, m.source.sudo, redact, true));
    if (changed.length === 0) continue;
    throw new StepError(
      'source-changed',
      `${m.source.name}: database ${d.db} changed after the proof recorded on ${m.target.name} at ${saved.at}: ${changed.slice(0, 3).join('; ')}${changed.length > 3 ? `; and ${changed.length - 3} more` : ''}`,
      `Something wrote to the source after the run stopped; --resume would leave those writes behind. Run \`ferry rollback ${m.stack}\` (the source serves, with them), then migrate again.`,
    );
  }
}

/** How long the tables' snapshot (replicate mode) may take to be held: it is taken in the write pause. */
export const SNAPSHOT_WAIT_MS = 30_000;
