/**
 * Finding a stack's database container on either side of a migration, and waiting until
 * the target's Postgres accepts connections (it may just have started for the first time).
 */
import { StepError } from '../engine/errors.js';
import { projectContainers } from '../deploy/containers.js';
import type { Transport } from '../transport/transport.js';
import type { Migration, Side } from './context.js';
import { awaitAccepting, type Database } from './postgres.js';
import type { PgAt } from './pg-at.js';

/** The running container of `service` in `project` on the server `t` reaches; `database-not-running` when there is none. */
export async function dbContainer(
  t: Transport,
  side: Pick<Side, 'name' | 'sudo'>,
  project: string,
  service: string,
): Promise<string> {
  const c = (await projectContainers(t, project, side.sudo)).find(
    (x) => x.service === service && x.status === 'running',
  );
  if (!c)
    throw new StepError(
      'database-not-running',
      `${side.name}: no running container of ${service} in project ${project}`,
      'Start it (or run migrate again with --resume, which starts what it needs), then try again.',
    );
  return c.name;
}

/**
 * Where the target's database `d` is: the Postgres installed on the target for a service
 * kept there (`server_postgres`), else its running container.
 */
export async function targetAt(t: Transport, m: Migration, d: Pick<Database, 'service'>): Promise<PgAt> {
  const installed = m.installed?.[d.service];
  return installed ? { installed } : dbContainer(t, m.target, m.release.project, d.service);
}

/** Where the source's database `d` is: the Postgres installed on the source for a service kept there, else its running container. */
export async function sourceAt(t: Transport, m: Migration, d: Pick<Database, 'service'>): Promise<PgAt> {
  const installed = m.sourceInstalled?.[d.service];
  return installed ? { installed } : dbContainer(t, m.source, m.sourceRelease.project, d.service);
}

/** The database services that run in a container on `which` side (not those kept in its own Postgres). */
export const inContainers = (m: Migration, which: 'source' | 'target'): string[] =>
  m.databases.map((d) => d.service).filter((s) => !(which === 'source' ? m.sourceInstalled : m.installed)?.[s]);

/** How long the target's Postgres may take to accept connections outside the pause: its first start initialises it. */
export const TARGET_ACCEPT_WAIT_MS = 120_000;

/**
 * The target's database container (`t` reaches the target), once its Postgres accepts
 * connections (within `timeoutMs`): it may have just started for the first time.
 */
export async function targetDbContainer(
  t: Transport,
  m: Migration,
  d: Database,
  timeoutMs = TARGET_ACCEPT_WAIT_MS,
): Promise<string> {
  const c = await dbContainer(t, m.target, m.release.project, d.service);
  await awaitAccepting(t, c, m.target.sudo, timeoutMs);
  return c;
}

/** The target's database wherever it is (see `targetAt`), once its Postgres accepts connections (within `timeoutMs`). */
export async function targetDbReady(t: Transport, m: Migration, d: Database, timeoutMs: number): Promise<PgAt> {
  const at = await targetAt(t, m, d);
  await awaitAccepting(t, at, m.target.sudo, timeoutMs);
  return at;
}
