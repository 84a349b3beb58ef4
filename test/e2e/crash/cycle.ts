/**
 * One cycle of the crash matrix: a migration of the crash stack killed (SIGKILL, by
 * `FERRY_TEST_KILL_AT`) right after one event of one step, while a probe writes through the
 * source's nginx; then `--resume`; then `ferry rollback`. After each: every write the
 * probe was told succeeded is in the database that serves, the site answers, and `ferry
 * migrate --status` finds nothing left behind and no lock.
 */
import { paths } from '../../../scripts/testbed/lib.mjs';
import { ferryChild, onHost, type ChildRun, type TestbedHost } from '../helpers.js';
import { httpGet } from '../deploy-stack.js';
import { probe, type Answer } from '../probe.js';
import { CRASH_CANARY, REDIS_CANARY, missingIds } from './stack.js';

export interface Bed {
  dir: string;
  state: string;
  stack: string;
  domain: string;
  source: TestbedHost;
  target: TestbedHost;
}

export type Mode = 'dump' | 'replicate' | 'service';
export type KillEvent = 'start' | 'checked' | 'applied' | 'verified' | 'end';

export interface KillPoint {
  mode: Mode;
  /** A step id without the stack's prefix, e.g. `migrate/dump/db`. */
  step: string;
  event: KillEvent;
  /** Whose run is killed: the migration (then resumed), or its rollback (then run again). Default: the migration. */
  during?: 'migrate' | 'rollback';
}

export type Run = ChildRun;

/** Ferry in a child process (from the sources), with `env` besides this process's; `fleet`: with the fleet file's flags. */
export function ferryRun(bed: Bed, args: string[], env: Record<string, string> = {}, fleet = true): Promise<Run> {
  const flags = fleet ? ['-f', 'ferry.yml', '--known-hosts', paths.knownHosts] : [];
  return ferryChild(bed.dir, bed.state, [...args, ...flags], env);
}

export const migrateArgs = (bed: Bed, mode: Mode): string[] => [
  'migrate',
  bed.stack,
  '--to',
  bed.target.name,
  ...(mode === 'service' ? ['--service', 'db'] : ['--mode', mode]),
  '--yes',
];

/** What `ferry migrate --status --json` says. */
export interface Status {
  stage: string;
  markers: { host: string; path: string }[];
  locks: { host: string; run: string }[];
  left: { host: string; what: string }[];
  unknown: { host: string; what: string }[];
}

export async function status(bed: Bed): Promise<Status> {
  const r = await ferryRun(bed, ['migrate', bed.stack, '--status', '--json']);
  if (r.code !== 0) throw new Error(`migrate --status failed (${r.code}): ${r.err}`);
  return JSON.parse(r.out) as Status;
}

export interface CycleResult {
  point: KillPoint;
  /** The kill happened (the run reached the point). */
  killed: boolean;
  resumed: Run;
  /** Acknowledged writes missing from the target after the resume, then from the source after the rollback. */
  missingAfterResume: number[];
  missingAfterRollback: number[];
  /** The site answered 200 after the resume, and after the rollback. */
  servedAfterResume: boolean;
  servedAfterRollback: boolean;
  /** When the site did not answer after the rollback: the probe's last answers and the source's containers. */
  unservedAfterRollback: string;
  statusAfterResume: Status;
  statusAfterRollback: Status;
  rolledBack: Run;
  /** Writes the probe was told succeeded (each checked on both sides), and how many went to the target. */
  acked: number;
  /** The rollback carried the target's writes back (its write-back step changed something). */
  wroteBack: boolean;
  /** Requests the probe saw fail, and the longest time without an acknowledged write. */
  failed: number;
  gapMs: number;
  /** A canary secret appeared in some output. */
  leaked: boolean;
}

/**
 * Kill, resume, prove; roll back, prove. With a kill in the rollback: migrate, roll back
 * (killed), roll back again, prove. The stack must run on `bed.source` when called, and does
 * again after.
 */
export async function crashCycle(bed: Bed, point: KillPoint): Promise<CycleResult> {
  const p = probe(bed.source.host, bed.domain, 60_000);
  await p.okAfter(Date.now(), 30_000);
  const kill = { FERRY_TEST_KILL_AT: `${bed.stack}/${point.step}:${point.event}` };
  const inRollback = point.during === 'rollback';
  const killed = await ferryRun(bed, migrateArgs(bed, point.mode), inRollback ? {} : kill);
  const resumed = inRollback ? killed : await ferryRun(bed, [...migrateArgs(bed, point.mode), '--resume', '--json']);
  const afterResume = Date.now();
  const servedAfterResume = await p.okAfter(afterResume, 60_000);
  const seenResume = p.answers().filter((a) => a.status === 200 && a.id !== undefined);
  const missingAfterResume = missingIds(
    bed.target,
    bed.stack,
    seenResume.map((a) => a.id!),
  );
  const statusAfterResume = await status(bed);
  const rollbackKilled = inRollback ? await ferryRun(bed, ['rollback', bed.stack, '--yes'], kill) : undefined;
  const rolledBack = await ferryRun(bed, ['rollback', bed.stack, '--yes']);
  const afterRollback = Date.now();
  const servedAfterRollback = await p.okAfter(afterRollback, 60_000);
  const unservedAfterRollback = servedAfterRollback ? '' : unserved(bed, p.answers(), afterRollback);
  const seen = await p.stop();
  const missingAfterRollback = missingIds(bed.source, bed.stack, seen.ackedIds);
  const statusAfterRollback = await status(bed);
  const outputs = [killed, resumed, rolledBack, ...(rollbackKilled ? [rollbackKilled] : [])]
    .map((r) => r.out + r.err)
    .join('\n');
  return {
    point,
    killed: (rollbackKilled ?? killed).signal === 'SIGKILL',
    resumed,
    missingAfterResume,
    missingAfterRollback,
    servedAfterResume,
    servedAfterRollback,
    unservedAfterRollback,
    statusAfterResume,
    statusAfterRollback,
    rolledBack,
    acked: seen.ackedIds.length,
    // By the rollback, or by the killed one before it.
    wroteBack: /✓ \S+\/(unmigrate|db)\/write-back \(.*\): changed/.test(
      `${rollbackKilled?.err ?? ''}${rolledBack.err}`,
    ),
    failed: seen.failed.length,
    gapMs: seen.gap,
    leaked: outputs.includes(CRASH_CANARY) || outputs.includes(REDIS_CANARY),
  };
}

/** The site answers through the source's nginx (which forwards to the target once switched). */
export async function serving(bed: Bed): Promise<boolean> {
  return (await httpGet(bed.source.host, bed.domain, '/health')).status === 200;
}

/** Why the site did not answer, for the failure's message: what the probe got, and what runs on the source. */
function unserved(bed: Bed, answers: Answer[], since: number): string {
  const after = answers.filter((a) => a.at > since);
  const statuses = [...new Set(after.map((a) => a.status))].join(', ');
  let containers: string;
  try {
    containers = onHost(
      bed.source,
      `docker ps -a --filter label=com.docker.compose.project=${bed.stack} --format '{{.Names}} {{.Status}}'`,
    );
  } catch (e) {
    containers = `(docker ps failed: ${(e as Error).message})`;
  }
  return `\n--- the probe after the rollback: ${after.length} answers (status ${statuses || 'none'})\n--- containers on ${bed.source.name}:\n${containers}`;
}
