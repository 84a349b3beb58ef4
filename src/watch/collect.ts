/**
 * One sample of one server, over its transport: the host's CPU, memory and disks, then for
 * each stack watched there its containers (against the services it should run), its HTTP
 * checks, and the error lines its containers logged since the sample before. A server that
 * cannot be reached gives a sample that says so, never an exception; a stack that cannot
 * be read on a server that answers is said apart, the server's figures kept.
 */
import { script } from '../shell/command.js';
import { projectContainers, type Container } from '../deploy/containers.js';
import { httpFailures } from '../deploy/steps/health.js';
import type { HttpCheckDef } from '../model/fleet.js';
import { TransportError, type Transport } from '../transport/transport.js';
import { FerryError } from '../core/errors.js';
import {
  applyHostOutput,
  containerSamples,
  emptySample,
  errorLines,
  hostSampleCommand,
  type ServerSample,
} from './sample.js';

export interface WatchedStack {
  stack: string;
  project: string;
  /** Services that should run on this server. */
  services: string[];
  httpChecks: HttpCheckDef[];
}

export interface WatchedServer {
  server: string;
  sudo: boolean;
  stacks: WatchedStack[];
}

export interface SampleOptions {
  /** Seconds of logs to read for error lines (the time since the sample before). */
  logSeconds: number;
  redact: (s: string) => string;
  now?: () => Date;
}

const TIMEOUT_MS = 30_000;

/**
 * Failures that say the fleet file or this machine is wrong (a key refused, a host key
 * unknown or changed, no sudo), not that the server is down: at the first sample they stop
 * the watch before it begins; later, a server's key changing is an alert like any other.
 */
export const SETUP_FAILURES: ReadonlySet<string> = new Set([
  'auth-failed',
  'host-key-unknown',
  'host-key-changed',
  'ssh-config',
  'sudo-missing',
]);

export interface Sampled {
  sample: ServerSample;
  /** Why the server could not be read, when it could not. */
  failure?: FerryError;
}

export async function sampleServer(t: Transport, w: WatchedServer, o: SampleOptions): Promise<Sampled> {
  const sample = emptySample(w.server, (o.now?.() ?? new Date()).toISOString());
  try {
    const host = await t.exec(hostSampleCommand(), { timeoutMs: TIMEOUT_MS });
    applyHostOutput(sample, host.stdout);
    for (const s of w.stacks)
      try {
        await sampleStack(t, w.sudo, s, sample, o);
      } catch (e) {
        // The server answered: a stack that cannot be read (Docker down, no permission) is
        // its own alert, and the host's figures stand. A connection lost is the server's.
        if (!(e instanceof FerryError) || e instanceof TransportError) throw e;
        sample.stackProblems.push({ stack: s.stack, problem: o.redact(`${e.code}: ${e.message}`) });
      }
  } catch (e) {
    if (!(e instanceof FerryError)) throw e;
    const reason = e instanceof TransportError ? e.message : `${e.code}: ${e.message}`;
    return { sample: { ...emptySample(w.server, sample.at), unreachable: o.redact(reason) }, failure: e };
  }
  return { sample };
}

async function sampleStack(
  t: Transport,
  sudo: boolean,
  s: WatchedStack,
  sample: ServerSample,
  o: SampleOptions,
): Promise<void> {
  const containers = await projectContainers(t, s.project, sudo, o.redact);
  sample.containers.push(...containerSamples(s.stack, s.services, containers));
  const running = containers.filter((c) => c.status === 'running');
  const checks = s.httpChecks.filter((h) => s.services.includes(h.service));
  for (const { check, message } of await httpFailures(t, running, checks, sudo))
    sample.httpProblems.push({
      stack: s.stack,
      check: `GET ${check.service}:${check.port}${check.path}`,
      problem: o.redact(message),
    });
  for (const c of running) {
    const found = await logErrors(t, sudo, c, o.logSeconds);
    if (found.lines > 0)
      sample.logErrors.push({ stack: s.stack, container: c.name, ...found, last: o.redact(found.last) });
  }
}

async function logErrors(t: Transport, sudo: boolean, c: Container, seconds: number) {
  const r = await t.exec(script('docker logs --since "$1" "$2" 2>&1', `${Math.max(1, Math.ceil(seconds))}s`, c.name), {
    sudo,
    timeoutMs: TIMEOUT_MS,
  });
  return errorLines(r.stdout);
}
