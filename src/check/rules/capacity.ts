/**
 * `capacity`: per server, the memory limits (× replicas) of every stack placed on it
 * against the server's memory minus a system reserve; CPU limits against its CPUs.
 *
 * Reserve = max(10 % of the server's memory, 512 MiB), kept for the kernel, Docker,
 * sshd, nginx and the page cache.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { ServerDef } from '../../model/fleet.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { loadedStacks, plural, type StackView } from '../common.js';
import { formatSize } from '../../core/size.js';

export const MIN_RESERVE = 512 * 1024 ** 2;
export const RESERVE_FRACTION = 0.1;

export function systemReserve(memory: number): number {
  return Math.max(Math.round(memory * RESERVE_FRACTION), MIN_RESERVE);
}

interface Totals {
  memory: number;
  cpus: number;
  noMemoryLimit: number;
}

function totals(stacks: StackView[]): Totals {
  const t: Totals = { memory: 0, cpus: 0, noMemoryLimit: 0 };
  for (const st of stacks) {
    for (const s of st.project.services) {
      if (s.resources.memoryLimit === undefined) t.noMemoryLimit++;
      else t.memory += s.resources.memoryLimit * s.replicas;
      if (s.resources.cpuLimit !== undefined) t.cpus += s.resources.cpuLimit * s.replicas;
    }
  }
  return t;
}

function memoryFinding(fleet: LoadedFleet, srv: ServerDef, memory: number, t: Totals): Finding | undefined {
  const reserve = systemReserve(memory);
  const available = memory - reserve;
  if (t.memory <= available) return undefined;
  const unlimited =
    t.noMemoryLimit > 0
      ? `; ${plural(t.noMemoryLimit, 'service has', 'services have')} no memory limit and ${t.noMemoryLimit === 1 ? 'is' : 'are'} not counted`
      : '';
  return finding(
    'capacity',
    'error',
    `server ${srv.name}: memory limits × replicas total ${formatSize(t.memory)}, over the ${formatSize(available)} available (${formatSize(memory)} minus a ${formatSize(reserve)} system reserve)${unlimited}`,
    fleet.fleet.locate(['servers', srv.name]),
    'Lower memory limits or replicas, move a stack to another server, or use a server with more memory. The reserve is max(10 % of memory, 512 MiB) for the kernel, Docker and sshd.',
    { server: srv.name },
  );
}

function cpuFinding(fleet: LoadedFleet, srv: ServerDef, cpus: number, t: Totals): Finding | undefined {
  if (t.cpus <= cpus) return undefined;
  return finding(
    'capacity',
    'warning',
    `server ${srv.name}: CPU limits × replicas total ${round(t.cpus)}, more than its ${round(cpus)} CPUs`,
    fleet.fleet.locate(['servers', srv.name]),
    'CPU limits are ceilings, so this only overcommits; if these services are busy at the same time they slow each other down. Lower limits or replicas, or move a stack.',
    { server: srv.name },
  );
}

function round(n: number): string {
  return String(Math.round(n * 100) / 100);
}

export function capacity(fleet: LoadedFleet): Finding[] {
  const out: Finding[] = [];
  const stacks = loadedStacks(fleet);
  for (const srv of Object.values(fleet.fleet.servers)) {
    const mine = stacks.filter((st) => st.server === srv.name);
    if (mine.length === 0) continue;
    const t = totals(mine);
    const mem = srv.memory !== undefined ? memoryFinding(fleet, srv, srv.memory, t) : undefined;
    const cpu = srv.cpus !== undefined ? cpuFinding(fleet, srv, srv.cpus, t) : undefined;
    if (mem) out.push(mem);
    if (cpu) out.push(cpu);
  }
  return out;
}
