/**
 * What `ferry watch` reads off a server at each sample, and the pure parts of reading it:
 * the host's CPU (two reads of /proc/stat a second apart), memory and disks, from one
 * command; the stacks' containers, HTTP checks and error lines come from their own reads.
 */
import { cmd, type Command } from '../shell/command.js';
import { sectioned } from '../inventory/live/probes/sectioned.js';
import { sections } from '../inventory/live/probe.js';
import { parseDf, parseMeminfo } from '../inventory/live/probes/system.js';
import type { Container } from '../deploy/containers.js';

export interface ContainerSample {
  stack: string;
  /** The container's name, or `SERVICE` when the service has no container. */
  name: string;
  service: string;
  /** `running`, `exited`, ..., or `missing`. */
  status: string;
  health?: string;
  exitCode?: number;
  /** Docker's restart policy, when set. */
  restart?: string;
}

export interface ServerSample {
  server: string;
  /** ISO time the sample was taken. */
  at: string;
  /** Why the server could not be read; the other fields are then empty. */
  unreachable?: string;
  cpuPercent?: number;
  memoryPercent?: number;
  disks: { mount: string; usePercent: number }[];
  containers: ContainerSample[];
  /** HTTP checks that did not answer 2xx/3xx: what they answered. */
  httpProblems: { stack: string; check: string; problem: string }[];
  /** Error lines each container logged since the sample before. */
  logErrors: { stack: string; container: string; lines: number; last: string }[];
  /** Stacks whose containers could not be read on a server that answered (Docker down, no permission). */
  stackProblems: { stack: string; problem: string }[];
}

export const emptySample = (server: string, at: string): ServerSample => ({
  server,
  at,
  disks: [],
  containers: [],
  httpProblems: [],
  logErrors: [],
  stackProblems: [],
});

/** The containers of each service that should run, or the service as `missing` when it has none. */
export function containerSamples(
  stack: string,
  services: readonly string[],
  containers: Container[],
): ContainerSample[] {
  return services.flatMap((service): ContainerSample[] => {
    const mine = containers.filter((c) => c.service === service);
    if (mine.length === 0) return [{ stack, name: service, service, status: 'missing' }];
    return mine.map((c) => ({
      stack,
      name: c.name,
      service,
      status: c.status,
      exitCode: c.exitCode,
      ...(c.health ? { health: c.health } : {}),
      ...(c.restart ? { restart: c.restart } : {}),
    }));
  });
}

/** CPU, memory and disks in one command: /proc/stat read twice, a second apart. */
export const hostSampleCommand = (): Command =>
  sectioned({
    stat0: cmd('head', '-n1', '/proc/stat'),
    pause: cmd('sleep', '1'),
    stat1: cmd('head', '-n1', '/proc/stat'),
    meminfo: cmd('cat', '/proc/meminfo'),
    df: cmd('df', '-P', '-B1'),
  });

/** Busy share of the CPU between two `cpu ...` lines of /proc/stat (iowait counts as idle). */
export function cpuPercent(before: string, after: string): number | undefined {
  const a = cpuTimes(before);
  const b = cpuTimes(after);
  if (!a || !b) return undefined;
  const total = b.total - a.total;
  if (total <= 0) return undefined;
  return round1(100 * (1 - (b.idle - a.idle) / total));
}

function cpuTimes(line: string): { idle: number; total: number } | undefined {
  const f = line.trim().split(/\s+/);
  if (f[0] !== 'cpu' || f.length < 5) return undefined;
  const n = f.slice(1, 9).map(Number);
  if (n.some((x) => !Number.isFinite(x))) return undefined;
  return { idle: n[3]! + (n[4] ?? 0), total: n.reduce((s, x) => s + x, 0) };
}

export function applyHostOutput(sample: ServerSample, stdout: string): void {
  const s = sections(stdout);
  const cpu = cpuPercent(s.get('stat0') ?? '', s.get('stat1') ?? '');
  if (cpu !== undefined) sample.cpuPercent = cpu;
  const mem = parseMeminfo(s.get('meminfo') ?? '');
  if (mem && mem.total > 0) sample.memoryPercent = round1(100 * (1 - mem.available / mem.total));
  // The inventory's reading of df: data filesystems only, not the kernel's or Docker's own.
  sample.disks = parseDf(s.get('df') ?? '').map((d) => ({ mount: d.mount, usePercent: d.usePercent }));
}

/** Words that say something went wrong, as an operator greps for them. */
export const ERROR_WORDS = ['error', 'fatal', 'panic', 'exception', 'traceback', 'critical'];
/** A line holding one of them, as a word, in any case. */
export const ERROR_LINE = new RegExp(`\\b(${ERROR_WORDS.join('|')})\\b`, 'i');

/** The error lines of a log text: how many, and the last one (at most 200 characters). */
export function errorLines(text: string): { lines: number; last: string } {
  const hits = text.split('\n').filter((l) => ERROR_LINE.test(l));
  return { lines: hits.length, last: (hits.at(-1) ?? '').trim().slice(0, 200) };
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
