/** `.ferry-release.json` in each release: what `rollback` needs to bring it up again. */
import { cmd, quiet, type Command } from '../shell/command.js';
import type { Transport } from '../transport/transport.js';
import { currentLink, releaseDir } from './layout.js';
import type { ReleaseRef, ServicePlan } from './steps/up.js';

export const META = '.ferry-release.json';

export interface ReleaseMeta extends ReleaseRef {
  project: string;
  services: ServicePlan[];
  /** Services of the stack that run on another server, by name: the server. */
  placed?: Record<string, string>;
}

export function metaText(m: ReleaseMeta): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

export async function readReleaseMeta(
  t: Transport,
  stack: string,
  id: string,
  sudo: boolean,
): Promise<ReleaseMeta | undefined> {
  const r = await t.exec(quiet(cmd('cat', `${releaseDir(stack, id)}/${META}`)), { sudo });
  if (r.code !== 0) return undefined;
  try {
    const m = JSON.parse(r.stdout) as ReleaseMeta;
    return typeof m.id === 'string' &&
      typeof m.project === 'string' &&
      Array.isArray(m.composeFiles) &&
      Array.isArray(m.services)
      ? m
      : undefined;
  } catch {
    return undefined;
  }
}

export const currentCommand = (stack: string): Command => quiet(cmd('readlink', currentLink(stack)));

/** The release id a `current` link points at (`releases/ID`). */
export const idOfLink = (target: string): string | undefined => /(?:^|\/)releases\/([^/\s]+)\s*$/.exec(target)?.[1];

/** The release `current` points at on the host, and its metadata when readable. */
export async function currentRelease(
  t: Transport,
  stack: string,
  sudo: boolean,
): Promise<{ id?: string; meta?: ReleaseMeta }> {
  const cur = await t.exec(currentCommand(stack), { sudo });
  const id = cur.code === 0 ? idOfLink(cur.stdout) : undefined;
  if (!id) return {};
  const meta = await readReleaseMeta(t, stack, id, sudo);
  return meta ? { id, meta } : { id };
}
