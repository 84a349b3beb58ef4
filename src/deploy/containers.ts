/** What runs: a project's containers read from `docker inspect`, and whether they are ready. */
import type { Transport } from '../transport/transport.js';
import { StepError } from '../engine/errors.js';
import { toolFailure } from '../tools/classify.js';
import { inspectProjectCommand } from './compose-cli.js';

export interface Container {
  id: string;
  name: string;
  service: string;
  /** Compose's hash of the service's configuration when the container was created. */
  configHash: string;
  /** Image id the container runs. */
  image: string;
  /** The image name as written (`Config.Image`). */
  imageName: string;
  status: string;
  /** `healthy`, `unhealthy`, `starting`, or undefined without a healthcheck. */
  health?: string;
  exitCode: number;
  /** Address on each network. */
  addresses: string[];
  created: string;
  /** The image's or service's healthcheck test (`["CMD", ...]`, `["CMD-SHELL", "..."]`), when it has one. */
  healthTest?: string[];
  /** Docker's restart policy (`no`, `always`, `unless-stopped`, `on-failure`), when set. */
  restart?: string;
}

interface Inspected {
  Id?: string;
  Name?: string;
  Created?: string;
  Image?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null; Healthcheck?: { Test?: string[] | null } | null };
  State?: { Status?: string; ExitCode?: number; Health?: { Status?: string } };
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> | null };
  HostConfig?: { RestartPolicy?: { Name?: string } | null };
}

export function parseContainers(json: string): Container[] {
  const list = JSON.parse(json) as Inspected[];
  return list.map((c) => {
    const labels = c.Config?.Labels ?? {};
    const out: Container = {
      id: (c.Id ?? '').slice(0, 12),
      name: (c.Name ?? '').replace(/^\//, ''),
      service: labels['com.docker.compose.service'] ?? '',
      configHash: labels['com.docker.compose.config-hash'] ?? '',
      image: c.Image ?? '',
      imageName: c.Config?.Image ?? '',
      status: c.State?.Status ?? 'unknown',
      exitCode: c.State?.ExitCode ?? 0,
      addresses: Object.values(c.NetworkSettings?.Networks ?? {})
        .map((n) => n.IPAddress ?? '')
        .filter((a) => a !== ''),
      created: c.Created ?? '',
    };
    if (c.State?.Health?.Status) out.health = c.State.Health.Status;
    if (c.HostConfig?.RestartPolicy?.Name) out.restart = c.HostConfig.RestartPolicy.Name;
    const test = c.Config?.Healthcheck?.Test;
    if (Array.isArray(test) && (test[0] === 'CMD' || test[0] === 'CMD-SHELL') && test.length > 1) out.healthTest = test;
    return out;
  });
}

export async function projectContainers(
  t: Transport,
  project: string,
  sudo: boolean,
  redact: (s: string) => string = (s) => s,
): Promise<Container[]> {
  const r = await t.exec(inspectProjectCommand(project), { sudo });
  const failed = toolFailure('docker', r, {
    host: t.name,
    what: `listing the containers of project ${project}`,
    redact,
  });
  if (failed) throw failed;
  try {
    return parseContainers(r.stdout);
  } catch {
    throw new StepError(
      'unexpected-output',
      `${t.name}: docker inspect printed something that is not JSON`,
      'Run `docker inspect` on the server to see what it prints.',
    );
  }
}

/** Running and, when it has a healthcheck, healthy. */
export const isReady = (c: Container): boolean =>
  c.status === 'running' && (c.health === undefined || c.health === 'healthy');

/** Will not become ready by waiting. */
export const hasFailed = (c: Container): boolean =>
  c.health === 'unhealthy' || c.status === 'dead' || (c.status === 'exited' && c.exitCode !== 0);

export function describeContainer(c: Container): string {
  return `${c.name} ${c.status}${c.health ? ` (${c.health})` : ''}${c.status === 'exited' ? ` exit ${c.exitCode}` : ''}`;
}
