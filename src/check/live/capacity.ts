/**
 * `capacity` with measured facts: the stacks' memory limits against the server's real
 * memory, and against what is free now once the stacks not yet running are added.
 */
import { finding, type Finding } from '../../core/finding.js';
import { formatSize } from '../../core/size.js';
import { loadedStacks } from '../common.js';
import type { LiveRule } from './context.js';

export const liveCapacity: LiveRule = (fleet, factsByServer) => {
  const out: Finding[] = [];
  const byServer = new Map<string, { limits: number; pending: number; stacks: string[] }>();
  for (const st of loadedStacks(fleet)) {
    const facts = st.server ? factsByServer.get(st.server) : undefined;
    if (!facts?.system.memory) continue;
    const running = new Set(facts.containers.filter((c) => c.state === 'running' && c.project).map((c) => c.project));
    const limits = st.project.services.reduce((n, s) => n + (s.resources.memoryLimit ?? 0) * s.replicas, 0);
    const e = byServer.get(st.server!) ?? { limits: 0, pending: 0, stacks: [] };
    e.limits += limits;
    if (!running.has(st.project.name)) {
      e.pending += limits;
      e.stacks.push(st.name);
    }
    byServer.set(st.server!, e);
  }
  for (const [server, e] of byServer) {
    const mem = factsByServer.get(server)!.system.memory!;
    const where = fleet.fleet.locate(['servers', server]);
    if (e.limits > mem.total) {
      out.push(
        finding(
          'capacity',
          'error',
          `server ${server}: memory limits × replicas total ${formatSize(e.limits)}, more than its measured ${formatSize(mem.total)} of memory`,
          { ...where, host: server },
          'Lower limits or replicas, move a stack to another server, or resize the server.',
          { server },
        ),
      );
    } else if (e.pending > mem.available) {
      out.push(
        finding(
          'capacity',
          'warning',
          `server ${server}: stacks not running yet (${e.stacks.join(', ')}) may use up to ${formatSize(e.pending)}, more than the ${formatSize(mem.available)} available now`,
          { ...where, host: server },
          'Limits are ceilings, so this may still fit; check what uses memory now (`ferry inventory --live`) before deploying.',
          { server },
        ),
      );
    }
  }
  return out;
};
