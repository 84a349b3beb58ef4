/**
 * `stateful-without-volume`: a database or broker whose data directory is not on a named
 * volume or a bind mount. tmpfs and anonymous volumes don't count: the next
 * `docker compose down` + `up` (or a migration) starts it empty.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { Service, VolumeMount } from '../../model/compose.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { ids, loadedStacks, locSvc } from '../common.js';
import { dataDirs } from '../known-images.js';

function trim(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** A mount keeps `dir` when it is a named volume or a bind mount at `dir` or a parent of it. */
export function keeps(m: VolumeMount, dir: string): boolean {
  const named = m.type === 'volume' && m.source !== undefined && m.source !== '';
  if (!named && m.type !== 'bind') return false;
  const t = trim(m.target);
  const d = trim(dir);
  return d === t || t === '/' || d.startsWith(`${t}/`);
}

export function unkeptDataDir(svc: Service): { label: string; dir: string } | undefined {
  const known = dataDirs(svc);
  if (!known) return undefined;
  if (known.dirs.some((d) => svc.volumes.some((m) => keeps(m, d)))) return undefined;
  return { label: known.label, dir: known.dirs[0] ?? '' };
}

export function statefulWithoutVolume(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    for (const svc of st.project.services) {
      const miss = unkeptDataDir(svc);
      if (!miss) continue;
      out.push(
        finding(
          'stateful-without-volume',
          'warning',
          `${st.name}/${svc.name} (${miss.label}) keeps its data in ${miss.dir}, which is not on a named volume or a bind mount`,
          locSvc(st, svc.name, svc.volumes.length > 0 ? 'volumes' : 'image'),
          `Mount a named volume there (\`volumes: ["${svc.name}-data:${miss.dir}"]\` plus a top-level \`volumes: { ${svc.name}-data: {} }\`) or a host directory. Without it the data lives in an anonymous volume or the container itself, and the next \`docker compose down\` + \`up\` or a migration starts empty.`,
          ids(st, svc.name),
        ),
      );
    }
  }
  return out;
}
