/**
 * What a stack's server holds now, read for `ferry restore`: each source of a backup run's
 * manifest compared with the live data (every table's rows and checksum, MySQL's as a dump
 * reads them, Redis's key count,
 * every volume's files), where Redis keeps its files, and the restore's record on the
 * server. Reads only.
 */
import { Secret } from '../core/secret.js';
import { StepError } from '../engine/errors.js';
import { projectContainers, type Container } from '../deploy/containers.js';
import { volumeManifest } from '../migrate/manifest.js';
import { tableSums } from '../migrate/postgres.js';
import { volumeMountpoint } from '../migrate/volumes.js';
import { redisCliCommand } from '../migrate/steps/redis.js';
import { toolFailure } from '../tools/classify.js';
import type { Redactor } from '../core/redact.js';
import type { Transport } from '../transport/transport.js';
import { cmd, type Command } from '../shell/command.js';
import {
  filesEntries,
  provePostgres,
  proveMysql,
  proveRedis,
  tablesOf,
  proveVolume,
  type BackupManifest,
  type Proof,
  type VolumeEntry,
} from './manifest.js';
import type { RedisFiles } from './restore-commands.js';
import { redisPasswordOf } from './run.js';
import { mysqlFigures } from './mysql.js';

/** One source of a manifest, as the restore names it: `postgres db`, `mysql legacy`, `redis cache`, `volume uploads`, `path ./media`. */
export interface SourceRef {
  kind: 'postgres' | 'mysql' | 'redis' | 'volume' | 'path';
  name: string;
}

export const sourceKey = (s: SourceRef): string => `${s.kind} ${s.name}`;

export const sourcesOf = (m: BackupManifest): SourceRef[] => [
  ...m.postgres.map((e) => ({ kind: 'postgres' as const, name: e.service })),
  ...m.mysql.map((e) => ({ kind: 'mysql' as const, name: e.service })),
  ...m.redis.map((e) => ({ kind: 'redis' as const, name: e.service })),
  ...m.volumes.map((e) => ({ kind: 'volume' as const, name: e.name })),
  ...m.paths.map((e) => ({ kind: 'path' as const, name: e.name })),
];

/** A directory source of a manifest: a volume or a path (the release is not restored in place). */
export interface FilesRef {
  kind: 'volume' | 'path';
  e: VolumeEntry;
}

export const filesOf = (m: BackupManifest): FilesRef[] =>
  filesEntries(m).filter((f): f is FilesRef => f.kind !== 'release');

/** Where a directory source is on the server now: a volume's mountpoint, or the path itself. */
export const filesDir = (l: Pick<Live, 't' | 'sudo' | 'dockerVolume'>, f: FilesRef): Promise<string> =>
  f.kind === 'path' ? Promise.resolve(f.e.path) : volumeMountpoint(l.t, l.dockerVolume(f.e.name), l.sudo);

export interface Live {
  t: Transport;
  sudo: boolean;
  redactor: Redactor;
  project: string;
  /** A volume's name in the manifest -> its name in Docker. */
  dockerVolume: (name: string) => string;
}

/** The running container of a service, or `restore-source-missing`. */
export function runningContainer(cs: Container[], service: string, l: Pick<Live, 't' | 'project'>): Container {
  const c = cs.find((x) => x.service === service && x.status === 'running');
  if (!c)
    throw new StepError(
      'restore-source-missing',
      `${l.t.name}: no running container of ${service} in project ${l.project}: its data cannot be restored`,
      'Deploy the stack (`ferry apply`) so that its databases run, then restore again.',
      `host ${l.t.name}`,
    );
  return c;
}

async function redisCli(l: Live, container: string, args: string[]): Promise<string> {
  const password = await redisPasswordOf(l.t, container, l.sudo);
  if (password) l.redactor.add(password);
  const r = await l.t.exec(redisCliCommand(container, args, password !== undefined), {
    sudo: l.sudo,
    timeoutMs: 30_000,
    ...(password !== undefined ? { stdin: new Secret(`${password}\n`) } : {}),
  });
  const e = toolFailure('redis-cli', r, {
    host: l.t.name,
    what: `redis-cli ${args.join(' ')} in ${container}`,
    redact: (s) => l.redactor.redact(s),
  });
  if (e) throw e;
  return r.stdout;
}

/** Every key of every database (`INFO keyspace`). */
export const keyCount = (info: string): number =>
  [...info.matchAll(/^db\d+:keys=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);

/** Each source of the manifest against the live data: one proof or more per source. */
export async function liveProofs(l: Live, m: BackupManifest, only: SourceRef[] = sourcesOf(m)): Promise<Proof[]> {
  const wanted = (kind: SourceRef['kind'], name: string) => only.some((s) => s.kind === kind && s.name === name);
  const cs = await projectContainers(l.t, l.project, l.sudo);
  const proofs: Proof[] = [];
  for (const e of m.postgres.filter((x) => wanted('postgres', x.service))) {
    const c = runningContainer(cs, e.service, l);
    const sums = await tableSums(l.t, c.name, { ...e, volumes: [] }, l.sudo, (s) => l.redactor.redact(s));
    proofs.push(...provePostgres(e, sums));
  }
  for (const e of m.mysql.filter((x) => wanted('mysql', x.service))) {
    const c = runningContainer(cs, e.service, l);
    const what = `reading the tables of ${e.service}`;
    const r = await l.t.exec(mysqlFigures(c.name, e.databases), { sudo: l.sudo, timeoutMs: 6 * 60 * 60_000 });
    const failed = toolFailure('mysql', r, { host: l.t.name, what, redact: (s) => l.redactor.redact(s) });
    if (failed) throw failed;
    proofs.push(...proveMysql(e, tablesOf(r.stdout)));
  }
  for (const e of m.redis.filter((x) => wanted('redis', x.service))) {
    const c = runningContainer(cs, e.service, l);
    proofs.push(proveRedis(e, keyCount(await redisCli(l, c.name, ['INFO', 'keyspace']))));
  }
  for (const f of filesOf(m).filter((x) => wanted(x.kind, x.e.name))) {
    const dir = await filesDir(l, f);
    // A path can be missing, on a new server: restored, then.
    if (f.kind === 'path' && (await l.t.exec(cmd('test', '-d', dir), { sudo: l.sudo })).code !== 0)
      proofs.push({ ...proveVolume(f.e, { files: 0, bytes: 0, sha256: '' }, f.kind), found: 'no such directory' });
    else proofs.push(proveVolume(f.e, await volumeManifest(l.t, dir, l.sudo), f.kind));
  }
  return proofs;
}

/** The sources whose live data differs from the manifest. */
export function differing(m: BackupManifest, proofs: Proof[]): SourceRef[] {
  const bad = (kind: SourceRef['kind'], name: string) =>
    proofs.some((p) => !p.ok && (p.what === `${kind} ${name}` || p.what.startsWith(`${kind} ${name} `)));
  return sourcesOf(m).filter((s) => bad(s.kind, s.name));
}

const config = async (l: Live, container: string, key: string): Promise<string> =>
  (await redisCli(l, container, ['CONFIG', 'GET', key])).split('\n')[1]?.trim() ?? '';

/** The container's mounts: where each container path is on the host. */
const mountsCommand = (container: string): Command =>
  cmd('docker', 'inspect', '--format', '{{json .Mounts}}', container);

/** The host path of `dir` in the container, through its mounts; undefined when it is on none. */
export async function hostPathOf(
  l: Pick<Live, 't' | 'sudo'>,
  container: string,
  dir: string,
): Promise<string | undefined> {
  const r = await l.t.exec(mountsCommand(container), { sudo: l.sudo });
  const mounts = (JSON.parse(r.code === 0 ? r.stdout : '[]') as { Source: string; Destination: string }[] | null) ?? [];
  const m = mounts
    .filter((x) => dir === x.Destination || dir.startsWith(`${x.Destination.replace(/\/$/, '')}/`))
    .sort((a, b) => b.Destination.length - a.Destination.length)[0];
  return m ? `${m.Source.replace(/\/$/, '')}${dir.slice(m.Destination.replace(/\/$/, '').length)}` : undefined;
}

/**
 * Where a running Redis keeps its files on the server: its `dir` (CONFIG GET), mapped to
 * the host through the container's mounts, its RDB file name, and with AOF on the AOF's
 * directory (Redis 7) or file (Redis 6). `restore-unsupported` when `dir` is on no mount.
 */
export async function redisFiles(l: Live, container: string): Promise<RedisFiles> {
  const dir = await config(l, container, 'dir');
  const dbfilename = (await config(l, container, 'dbfilename')) || 'dump.rdb';
  const aofOn = (await config(l, container, 'appendonly')) === 'yes';
  const host = await hostPathOf(l, container, dir);
  if (!host)
    throw new StepError(
      'restore-unsupported',
      `${l.t.name}: Redis in ${container} keeps its data in ${dir || 'its working directory'}, which is on no volume: a restore would be lost when the container is recreated`,
      'Give the Redis service a volume for its data directory (e.g. `volumes: [cache-data:/data]`), deploy, then restore.',
      `host ${l.t.name}`,
    );
  if (!aofOn) return { dir: host, dbfilename };
  const dirname = await config(l, container, 'appenddirname');
  const filename = (await config(l, container, 'appendfilename')) || 'appendonly.aof';
  return { dir: host, dbfilename, aof: { ...(dirname ? { dirname } : {}), filename } };
}
