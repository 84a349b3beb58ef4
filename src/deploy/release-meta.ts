/** `.ferry-release.json` in each release: what `rollback` needs to bring it up again. */
import { cmd, quiet } from '../shell/command.js';
import type { Transport } from '../transport/transport.js';
import { releaseDir } from './layout.js';
import type { ReleaseRef, ServicePlan } from './steps/up.js';

export const META = '.ferry-release.json';

export interface ReleaseMeta extends ReleaseRef {
  project: string;
  services: ServicePlan[];
}

export function metaText(m: ReleaseMeta): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

export async function readReleaseMeta(t: Transport, stack: string, id: string, sudo: boolean): Promise<ReleaseMeta | undefined> {
  const r = await t.exec(quiet(cmd('cat', `${releaseDir(stack, id)}/${META}`)), { sudo });
  if (r.code !== 0) return undefined;
  try {
    const m = JSON.parse(r.stdout) as ReleaseMeta;
    return typeof m.id === 'string' && typeof m.project === 'string' && Array.isArray(m.composeFiles) && Array.isArray(m.services) ? m : undefined;
  } catch {
    return undefined;
  }
}
