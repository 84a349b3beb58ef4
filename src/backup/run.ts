/**
 * One backup run into one repository, from a step on the stack's server: every Postgres
 * service dumped in an exported snapshot (its tables summed in the same snapshot), every
 * MySQL service dumped in one transaction (its tables summed from the dump), every Redis
 * saved afresh, every volume and path copied, the running release too, then the
 * manifest of all of it as a snapshot of its own. Any failure fails the run with restic's classified error: nothing is skipped.
 */
import { basename } from 'node:path';
import { Secret } from '../core/secret.js';
import { currentLink } from '../deploy/layout.js';
import { cmd } from '../shell/command.js';
import type { StepContext } from '../engine/step.js';
import { StepError } from '../engine/errors.js';
import { projectContainers, type Container } from '../deploy/containers.js';
import { volumeManifest } from '../migrate/manifest.js';
import { volumeMountpoint } from '../migrate/volumes.js';
import { redisConfigCommand, redisPassword, type RedisConfig } from '../migrate/steps/redis.js';
import { toolFailure } from '../tools/classify.js';
import type { ExecResult, Transport } from '../transport/transport.js';
import type { BackupSources } from './sources.js';
import { databasesOf, mysqlBackup } from './mysql.js';
import {
  listSnapshots,
  manifestBackup,
  postgresBackup,
  probeRepo,
  reachCommand,
  httpServerOf,
  redisBackup,
  snapshotIdOf,
  filesBackup,
  type FilesKind,
  type RepoAccess,
} from './restic.js';
import { keysOf, MANIFEST_VERSION, tablesOf, type BackupManifest, type VolumeEntry } from './manifest.js';

export interface RunInput {
  stack: string;
  server: string;
  sudo: boolean;
  repo: RepoAccess;
  sources: BackupSources;
  run: string;
}

/** A snapshot as `restic snapshots --json` lists it. */
export interface Snapshot {
  id: string;
  short_id?: string;
  time: string;
  paths?: string[];
  tags?: string[];
}

const BACKUP_TIMEOUT_MS = 6 * 60 * 60_000;

function fail(ctx: StepContext, i: RunInput, r: ExecResult, what: string): never {
  const e = toolFailure('restic', r, { host: i.server, what, redact: (s) => ctx.redactor.redact(s) });
  throw (
    e ??
    new StepError(
      'restic-failed',
      `${i.server}: ${what}: no snapshot id in restic's output`,
      'Run again; `ferry runs show` has the whole run.',
      `host ${i.server}`,
    )
  );
}

function snapshotOf(ctx: StepContext, i: RunInput, r: ExecResult, what: string): string {
  const id = r.code === 0 ? snapshotIdOf(r.stdout) : undefined;
  if (id === undefined) fail(ctx, i, r, what);
  return id;
}

function running(containers: Container[], service: string, i: RunInput): Container {
  const c = containers.find((x) => x.service === service && x.status === 'running');
  if (!c)
    throw new StepError(
      'backup-source-failed',
      `${i.server}: no running container of ${service} in project ${i.sources.project}: it cannot be backed up`,
      'Start the stack (`ferry apply STACK`), then run the backup again.',
      `host ${i.server}`,
    );
  return c;
}

export async function backUp(ctx: StepContext, i: RunInput): Promise<BackupManifest> {
  const t = ctx.transport;
  const at = new Date().toISOString();
  const containers = await projectContainers(t, i.sources.project, i.sudo);
  const manifest: BackupManifest = {
    version: MANIFEST_VERSION,
    stack: i.stack,
    run: i.run,
    at,
    postgres: [],
    mysql: [],
    redis: [],
    volumes: [],
    paths: [],
  };
  for (const d of i.sources.postgres) {
    const c = running(containers, d.service, i);
    const what = `backing up Postgres ${d.service} (${d.db}) into ${i.repo.name}`;
    const r = await t.exec(postgresBackup(i.repo, c.name, d, i.run), { sudo: i.sudo, timeoutMs: BACKUP_TIMEOUT_MS });
    const snapshot = snapshotOf(ctx, i, r, what);
    manifest.postgres.push({
      service: d.service,
      db: d.db,
      user: d.user,
      image: c.image,
      snapshot,
      tables: tablesOf(r.stdout),
    });
  }
  for (const s of i.sources.mysql) {
    const c = running(containers, s.service, i);
    const what = `backing up MySQL ${s.service} into ${i.repo.name}`;
    const r = await t.exec(mysqlBackup(i.repo, c.name, s.service, i.run), {
      sudo: i.sudo,
      timeoutMs: BACKUP_TIMEOUT_MS,
    });
    // The database's refusal says more than restic's words about a command that failed.
    const refused = toolFailure('mysql', r, { host: i.server, what, redact: (x) => ctx.redactor.redact(x) });
    if (r.code !== 0 && refused && refused.code !== 'mysql-failed') throw refused;
    const snapshot = snapshotOf(ctx, i, r, what);
    manifest.mysql.push({
      service: s.service,
      image: c.image,
      snapshot,
      databases: databasesOf(r.stdout),
      tables: tablesOf(r.stdout),
    });
  }
  for (const s of i.sources.redis) {
    const c = running(containers, s.service, i);
    const password = await redisPasswordOf(t, c.name, i.sudo);
    if (password) ctx.redactor.add(password);
    const what = `backing up Redis ${s.service} into ${i.repo.name}`;
    const r = await t.exec(redisBackup(i.repo, c.name, s.service, i.run), {
      sudo: i.sudo,
      timeoutMs: BACKUP_TIMEOUT_MS,
      stdin: new Secret(`${password ?? ''}\n`),
    });
    const snapshot = snapshotOf(ctx, i, r, what);
    const keys = keysOf(r.stdout);
    if (keys === undefined) fail(ctx, i, r, what);
    manifest.redis.push({ service: s.service, image: c.image, snapshot, keys });
  }
  for (const v of i.sources.volumes)
    manifest.volumes.push(await backUpFiles(ctx, i, 'volume', v.name, await volumeMountpoint(t, v.docker, i.sudo)));
  for (const p of i.sources.paths) manifest.paths.push(await backUpFiles(ctx, i, 'path', p.name, p.path));
  if (i.sources.release) {
    const r = await t.exec(cmd('readlink', '-e', currentLink(i.stack)), { sudo: i.sudo });
    const dir = r.stdout.trim();
    // A stack not deployed by Ferry has no release to copy.
    if (r.code === 0 && dir) manifest.release = await backUpFiles(ctx, i, 'release', basename(dir), dir);
  }
  const r = await t.exec(manifestBackup(i.repo, i.run), {
    sudo: i.sudo,
    stdin: `${JSON.stringify(manifest, null, 2)}\n`,
    timeoutMs: 10 * 60_000,
  });
  snapshotOf(ctx, i, r, `writing the manifest into ${i.repo.name}`);
  return manifest;
}

/** A directory's manifest (files, bytes, hash), then its files into the repository. */
async function backUpFiles(
  ctx: StepContext,
  i: RunInput,
  kind: FilesKind,
  name: string,
  path: string,
): Promise<VolumeEntry> {
  const files = await volumeManifest(ctx.transport, path, i.sudo);
  const what = `backing up ${kind} ${name} into ${i.repo.name}`;
  const r = await ctx.transport.exec(filesBackup(i.repo, kind, path, name, i.run), {
    sudo: i.sudo,
    timeoutMs: BACKUP_TIMEOUT_MS,
  });
  return { name, path, snapshot: snapshotOf(ctx, i, r, what), ...files };
}

/** The password a Redis container runs with, from its configuration; undefined when it has none. */
export async function redisPasswordOf(t: Transport, container: string, sudo: boolean): Promise<string | undefined> {
  const r = await t.exec(redisConfigCommand(container), { sudo });
  if (r.code !== 0) return undefined;
  return redisPassword(JSON.parse(r.stdout) as RedisConfig);
}

/** Every snapshot of the stack in the repository, oldest first; restic's classified error when it cannot be read. */
/**
 * For a REST repository or a bucket, that its server answers from `t`: restic itself
 * retries a refused connection for minutes before it gives up.
 * `backup-repository-unreachable` otherwise. For a bucket, also that its keys open it
 * (`requireKeys`): then the probe's result (exit 0, or 10 for no repository yet).
 */
export async function requireReachable(
  t: Transport,
  repo: RepoAccess,
  sudo: boolean,
  redact: (s: string) => string,
): Promise<ExecResult | undefined> {
  const server = httpServerOf(repo);
  if (!server) return undefined;
  const bucket = repo.url.startsWith('s3:');
  const r = await t.exec(reachCommand(...server), { sudo, timeoutMs: 30_000 });
  if (r.code === 0) return bucket ? requireKeys(t, repo, sudo, redact) : undefined;
  throw new StepError(
    'backup-repository-unreachable',
    `${t.name} cannot reach the ${bucket ? 'S3 endpoint' : 'REST server'} of repository ${repo.name} at ${server[0]}:${server[1]}: the connection was refused or not answered within 10 s`,
    bucket
      ? `Check that the endpoint runs and that ${t.name} may reach its port, or fix \`s3.url\`; then run again.`
      : `Start the REST server (\`systemctl status restic-rest-server\` there), open its port to ${t.name}, or fix \`rest.url\`; then run again.`,
    `host ${t.name}`,
  );
}

/**
 * A bucket's keys opened it, or restic's classified error (`backup-repository-unauthorized`);
 * a missing repository passes. The probe's result.
 */
async function requireKeys(
  t: Transport,
  repo: RepoAccess,
  sudo: boolean,
  redact: (s: string) => string,
): Promise<ExecResult> {
  const r = await t.exec(probeRepo(repo), { sudo, timeoutMs: 60_000 });
  if (r.code === 0 || r.code === 10) return r;
  const e = toolFailure('restic', r, { host: t.name, what: `opening repository ${repo.name} (${repo.url})`, redact });
  if (e) throw e;
  return r;
}

export async function stackSnapshots(
  t: Transport,
  repo: RepoAccess,
  sudo: boolean,
  redact: (s: string) => string,
): Promise<Snapshot[]> {
  await requireReachable(t, repo, sudo, redact);
  const r = await t.exec(listSnapshots(repo), { sudo, timeoutMs: 120_000 });
  const e = toolFailure('restic', r, {
    host: t.name,
    what: `listing the snapshots of ${repo.name} (${repo.url})`,
    redact,
  });
  if (e) throw e;
  return (JSON.parse(r.stdout || '[]') as Snapshot[]).sort((a, b) => a.time.localeCompare(b.time));
}

export async function runSnapshots(
  t: Transport,
  repo: RepoAccess,
  run: string,
  sudo: boolean,
  redact: (s: string) => string,
): Promise<Snapshot[]> {
  return (await stackSnapshots(t, repo, sudo, redact)).filter((s) => s.tags?.includes(`run=${run}`));
}

/** The value of a `key=value` tag. */
export const tagOf = (s: Snapshot, key: string): string | undefined =>
  s.tags?.find((x) => x.startsWith(`${key}=`))?.slice(key.length + 1);
