/** `dependency-cycle`: services that wait on each other through `depends_on`, so Compose can start none of them. */
import { finding, type Finding } from '../../core/finding.js';
import type { ComposeProject } from '../../model/compose.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { ids, loadedStacks, locSvc } from '../common.js';

/**
 * Every elementary cycle once, starting at its earliest-declared service: a walk from a
 * service only visits services declared after it.
 */
export function findCycles(project: ComposeProject): string[][] {
  const order = new Map(project.services.map((s, i) => [s.name, i]));
  const deps = new Map(project.services.map((s) => [s.name, Object.keys(s.dependsOn).filter((d) => order.has(d))]));
  const cycles: string[][] = [];
  const walk = (start: string, node: string, path: string[]): void => {
    for (const next of deps.get(node) ?? []) {
      if (next === start) cycles.push(path);
      else if (!path.includes(next) && (order.get(next) ?? 0) > (order.get(start) ?? 0)) {
        walk(start, next, [...path, next]);
      }
    }
  };
  for (const s of project.services) walk(s.name, s.name, [s.name]);
  return cycles;
}

export function dependencyCycle(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  for (const st of loadedStacks(fleet)) {
    for (const cycle of findCycles(st.project)) {
      const [first = '', second = first] = cycle;
      out.push(
        finding(
          'dependency-cycle',
          'error',
          `${st.name}: depends_on cycle ${[...cycle, first].join(' → ')}`,
          locSvc(st, first, 'depends_on', second),
          'Compose cannot order these services and refuses to start them. Remove one of the dependencies; a service that needs another at runtime can retry its connection instead of waiting at startup.',
          ids(st, first),
        ),
      );
    }
  }
  return out;
}
