/** `dependency-cycle`: services that wait on each other through `depends_on`, so Compose can start none of them. */
import { finding, type Finding } from '../../core/finding.js';
import type { ComposeProject } from '../../model/compose.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { ids, loadedStacks, locSvc } from '../common.js';

/**
 * One cycle per group of services that wait on each other (a strongly connected component
 * of `depends_on`), starting at the group's earliest-declared service: the shortest way
 * from it back to itself. Linear in services and dependencies (Tarjan's algorithm, without
 * recursion); listing every elementary cycle instead grows exponentially with them.
 */
export function findCycles(project: ComposeProject): string[][] {
  const names = project.services.map((s) => s.name);
  const order = new Map(names.map((n, i) => [n, i]));
  const deps = project.services.map((s) =>
    Object.keys(s.dependsOn)
      .filter((d) => order.has(d))
      .map((d) => order.get(d)!),
  );
  return components(deps)
    .filter((c) => c.length > 1 || deps[c[0]!]!.includes(c[0]!))
    .map((c) =>
      shortestCycle(
        c.reduce((a, b) => Math.min(a, b)),
        new Set(c),
        deps,
      ).map((i) => names[i]!),
    )
    .sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
}

/** Strongly connected components of a graph given by adjacency lists (iterative Tarjan). */
function components(edges: number[][]): number[][] {
  const n = edges.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const out: number[][] = [];
  let next = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    const work: [node: number, edge: number][] = [[root, 0]];
    index[root] = low[root] = next++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const [v, e] = top;
      if (e < edges[v]!.length) {
        top[1]++;
        const w = edges[v]![e]!;
        if (index[w] === -1) {
          index[w] = low[w] = next++;
          stack.push(w);
          onStack[w] = true;
          work.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]![0];
        low[parent] = Math.min(low[parent]!, low[v]!);
      }
      if (low[v] !== index[v]) continue;
      const comp: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = false;
        comp.push(w);
      } while (w !== v);
      out.push(comp);
    }
  }
  return out;
}

/** The shortest path from `start` back to itself inside `within` (breadth first). */
function shortestCycle(start: number, within: Set<number>, edges: number[][]): number[] {
  const from = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    for (const w of edges[v]!) {
      if (!within.has(w)) continue;
      if (w === start) {
        const path = [v];
        for (let u = v; u !== start; u = from.get(u)!) path.push(from.get(u)!);
        return path.reverse();
      }
      if (from.has(w)) continue;
      from.set(w, v);
      queue.push(w);
    }
  }
  return [start];
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
