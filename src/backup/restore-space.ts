/**
 * Room for a restore: the staged copy sits beside the live data until the swap, on the
 * same filesystem, so each filesystem must hold another copy of what is restored onto it
 * (a database as large as the live one, a volume as large as the manifest says), with a
 * margin. Checked before anything is written: a Postgres whose disk fills while loading a
 * staging database stops serving the live one too.
 */
import { StepError } from '../engine/errors.js';
import { cmd } from '../shell/command.js';
import type { Transport } from '../transport/transport.js';

/** One source's need on the filesystem holding `path` (a host path). */
export interface SpaceNeed {
  what: string;
  path: string;
  bytes: number;
}

/** Free bytes must exceed the need by a tenth, and this. */
export const SPACE_MARGIN_BYTES = 256 * 2 ** 20;

export interface Filesystem {
  /** The mount point (`df --output=target`). */
  target: string;
  avail: number;
}

const mib = (b: number): string => `${Math.ceil(b / 2 ** 20)} MiB`;

/** The filesystems short of room: one line each, naming what would go there. Pure. */
export function shortfalls(needs: { need: SpaceNeed; fs: Filesystem }[]): string[] {
  const byFs = new Map<string, { fs: Filesystem; bytes: number; what: string[] }>();
  for (const { need, fs } of needs) {
    const e = byFs.get(fs.target) ?? { fs, bytes: 0, what: [] };
    e.bytes += need.bytes;
    e.what.push(need.what);
    byFs.set(fs.target, e);
  }
  return [...byFs.values()]
    .filter((e) => e.fs.avail < Math.ceil(e.bytes * 1.1) + SPACE_MARGIN_BYTES)
    .map(
      (e) =>
        `${e.fs.target} has ${mib(e.fs.avail)} free; staging ${e.what.join(', ')} needs about ${mib(e.bytes)} and a margin of ${mib(Math.ceil(e.bytes * 0.1) + SPACE_MARGIN_BYTES)}`,
    );
}

/** `df` of a host path: its filesystem's mount point and free bytes. */
export async function filesystemOf(t: Transport, path: string, sudo: boolean): Promise<Filesystem | undefined> {
  const r = await t.exec(cmd('df', '-B1', '--output=target,avail', path), { sudo });
  const line = r.stdout.trim().split('\n')[1]?.trim();
  const m = line ? /^(.*\S)\s+(\d+)$/.exec(line) : null;
  return r.code === 0 && m ? { target: m[1]!, avail: Number(m[2]) } : undefined;
}

/** `restore-disk-full` when a filesystem lacks the room; nothing has been written then. */
export async function requireSpace(t: Transport, sudo: boolean, needs: SpaceNeed[]): Promise<void> {
  const found: { need: SpaceNeed; fs: Filesystem }[] = [];
  for (const need of needs) {
    const fs = await filesystemOf(t, need.path, sudo);
    if (fs) found.push({ need, fs });
  }
  const short = shortfalls(found);
  if (short.length > 0)
    throw new StepError(
      'restore-disk-full',
      `${t.name}: not enough room to stage the restore beside the live data: ${short.join('; ')}`,
      'Free room on that filesystem (old images: `docker image prune`; kept copies of an earlier restore), then restore again. Nothing was changed.',
      `host ${t.name}`,
    );
}
