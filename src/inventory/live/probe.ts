/** A probe: one command run on a host and a pure parser that turns its output into facts. */
import type { Command } from '../../shell/command.js';
import type { ExecResult } from '../../transport/transport.js';
import type { HostFacts } from './facts.js';

export interface ProbeContext {
  /** The time facts are collected at (for certificate days left). */
  now: Date;
}

export interface Probe {
  name: string;
  command: Command;
  /** Needs root: run through sudo for non-root users. */
  root: boolean;
  /** Applies the output to the facts; throws ProbeError when the output is unusable. */
  apply(facts: HostFacts, result: ExecResult, ctx: ProbeContext): void;
}

export class ProbeError extends Error {}

/** Splits output made of `@@NAME` marker lines into sections. */
export function sections(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  let name: string | undefined;
  let buf: string[] = [];
  const flush = (): void => {
    if (name !== undefined) out.set(name, buf.join('\n'));
  };
  for (const line of stdout.split('\n')) {
    const m = /^@@(\S+)\s*$/.exec(line);
    if (m) {
      flush();
      name = m[1];
      buf = [];
    } else buf.push(line);
  }
  flush();
  return out;
}

/** JSON lines (`docker ... --format '{{json .}}'`), skipping blank ones. */
export function jsonLines<T>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim().startsWith('{') || l.trim().startsWith('['))
    .map((l) => JSON.parse(l) as T);
}
