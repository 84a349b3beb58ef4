/** The highs a watch saw on each server, for its report. */
import type { ServerSample } from './sample.js';

export interface Peak {
  cpuPercent?: number;
  memoryPercent?: number;
  diskPercent?: number;
  /** Samples in which the server could not be read. */
  unreachable: number;
}

export type Peaks = Record<string, Peak>;

const max = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/** Adds a round of samples to the peaks so far. */
export function addPeaks(out: Peaks, samples: readonly ServerSample[]): Peaks {
  for (const s of samples) {
    const p = (out[s.server] ??= { unreachable: 0 });
    if (s.unreachable !== undefined) p.unreachable++;
    const cpu = max(p.cpuPercent, s.cpuPercent);
    const memory = max(p.memoryPercent, s.memoryPercent);
    const disk = max(p.diskPercent, s.disks.length > 0 ? Math.max(...s.disks.map((d) => d.usePercent)) : undefined);
    if (cpu !== undefined) p.cpuPercent = cpu;
    if (memory !== undefined) p.memoryPercent = memory;
    if (disk !== undefined) p.diskPercent = disk;
  }
  return out;
}
