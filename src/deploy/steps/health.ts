/**
 * Waiting for a release to be ready: every container of the project running, healthy
 * when it has a healthcheck (or its health test passing when run at once), and every
 * declared HTTP check answering 2xx or 3xx from the server. Polls until a deadline; gives up at once on a container that cannot
 * recover (unhealthy, or exited with an error).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cmd, type Command } from '../../shell/command.js';
import type { Transport } from '../../transport/transport.js';
import type { HttpCheckDef } from '../../model/fleet.js';
import { describeContainer, hasFailed, isReady, projectContainers, type Container } from '../containers.js';

export const httpCheckCommand = (url: string): Command =>
  cmd('curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', url);

export interface Readiness {
  ok: boolean;
  /** What is not ready, for the error message. */
  problems: string[];
  containers: Container[];
}

export interface WaitOptions {
  project: string;
  sudo: boolean;
  timeoutMs: number;
  /** Only these containers (ids); default: every container of the project. */
  only?: (c: Container) => boolean;
  /** Services expected to have at least one container. */
  expect: string[];
  /** Services whose containers may have exited 0 (they run to completion). */
  oneShot?: string[];
  httpChecks: HttpCheckDef[];
  /** Poll interval; default 0.25 s (a migration's pause waits on this). */
  intervalMs?: number;
}

/** An HTTP check that did not answer 2xx/3xx from one container, and what it answered. */
export interface HttpFailure {
  check: HttpCheckDef;
  message: string;
}

export async function httpFailures(
  t: Transport,
  containers: Container[],
  checks: HttpCheckDef[],
  sudo: boolean,
): Promise<HttpFailure[]> {
  const out: HttpFailure[] = [];
  for (const check of checks) {
    for (const c of containers.filter((x) => x.service === check.service)) {
      const addr = c.addresses[0];
      if (!addr) {
        out.push({ check, message: `${c.name}: no address to check http://…:${check.port}${check.path} on` });
        continue;
      }
      const url = `http://${addr}:${check.port}${check.path}`;
      const r = await t.exec(httpCheckCommand(url), { sudo });
      const code = Number(r.stdout.trim());
      if (!(code >= 200 && code < 400))
        out.push({
          check,
          message: `${c.name}: GET ${url} answered ${code > 0 ? code : r.stderr.trim() || 'nothing'}`,
        });
    }
  }
  return out;
}

const httpProblems = async (t: Transport, containers: Container[], checks: HttpCheckDef[], sudo: boolean) =>
  (await httpFailures(t, containers, checks, sudo)).map((f) => f.message);

/** The container's own health test, run now in it (`docker exec`), as Docker runs it at its next interval. */
export function healthTestCommand(c: Pick<Container, 'name' | 'healthTest'>): Command | undefined {
  const [kind, ...rest] = c.healthTest ?? [];
  if (kind === 'CMD' && rest.length > 0) return cmd('docker', 'exec', c.name, ...rest);
  if (kind === 'CMD-SHELL' && rest[0] !== undefined) return cmd('docker', 'exec', c.name, '/bin/sh', '-c', rest[0]);
  return undefined;
}

/**
 * Containers whose health is still `starting` but whose own health test passes when run
 * now: ready, without waiting for Docker's next interval (it runs the first test one
 * interval after the start). Only a pass counts, as Docker counts it; a failure waits.
 */
export async function passingNow(t: Transport, containers: Container[], sudo: boolean): Promise<Set<string>> {
  const starting = containers.filter((c) => c.status === 'running' && c.health === 'starting');
  const passed = await Promise.all(
    starting.map(async (c) => {
      const test = healthTestCommand(c);
      return test && (await t.exec(test, { sudo, timeoutMs: 10_000 })).code === 0 ? c.id : undefined;
    }),
  );
  return new Set(passed.filter((x): x is string => x !== undefined));
}

export async function readiness(t: Transport, o: WaitOptions): Promise<Readiness & { final: boolean }> {
  const all = await projectContainers(t, o.project, o.sudo);
  const containers = o.only ? all.filter(o.only) : all;
  const problems: string[] = [];
  for (const s of o.expect)
    if (!containers.some((c) => c.service === s)) problems.push(`service ${s} has no container`);
  const done = (c: Container) => (o.oneShot ?? []).includes(c.service) && c.status === 'exited' && c.exitCode === 0;
  const now = await passingNow(t, containers, o.sudo);
  const notReady = containers.filter((c) => !isReady(c) && !done(c) && !now.has(c.id));
  problems.push(...notReady.map(describeContainer));
  const final = containers.some(hasFailed);
  if (problems.length === 0)
    problems.push(
      ...(await httpProblems(
        t,
        containers.filter((c) => c.status === 'running'),
        o.httpChecks,
        o.sudo,
      )),
    );
  return { ok: problems.length === 0, problems, containers, final };
}

/** `final`: it gave up on a container that cannot recover, before the deadline. */
export async function waitReady(t: Transport, o: WaitOptions): Promise<Readiness & { final: boolean }> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const r = await readiness(t, o);
    if (r.ok || r.final || Date.now() >= deadline) return r;
    await sleep(o.intervalMs ?? 250);
  }
}
