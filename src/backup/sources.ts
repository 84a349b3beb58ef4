/**
 * What a stack's backup holds, decided from its compose project and its `backups` key:
 * Postgres and Redis services by image (unless named, or turned off), named volumes and
 * the data of relative bind mounts but those of the databases (their data is dumped, not
 * copied as files), and the running release. Pure.
 */
import { posix } from 'node:path';
import { FerryError } from '../core/errors.js';
import type { BackupDef } from '../model/backup.js';
import type { ComposeProject, Service } from '../model/compose.js';
import { databases, isRedisImage, MYSQL_IMAGE, type Database } from '../migrate/postgres.js';
import { sharedDir } from '../deploy/layout.js';

export interface RedisSource {
  service: string;
}

/** A MySQL or MariaDB service: every database it holds but the system ones is dumped. */
export interface MysqlSource {
  service: string;
}

export interface VolumeSource {
  /** The volume's name in the compose file. */
  name: string;
  /** Its name in Docker (`PROJECT_NAME`, or the name itself when external). */
  docker: string;
}

/** A directory of the server copied as files. */
export interface PathSource {
  /** As ferry.yml names it: `./REL` (a relative bind mount's data) or the absolute path. */
  name: string;
  /** The directory on the server. */
  path: string;
}

export interface BackupSources {
  /** The compose project name: containers are found by it. */
  project: string;
  postgres: Database[];
  mysql: MysqlSource[];
  redis: RedisSource[];
  volumes: VolumeSource[];
  paths: PathSource[];
  /** Whether the running release (`/srv/ferry/STACK/current`) is copied too. */
  release: boolean;
}

function pick<T extends { service: string }>(
  found: T[],
  wanted: string[] | false | undefined,
  all: Service[],
  kind: string,
  make: (s: Service) => T,
): T[] {
  if (wanted === false) return [];
  if (wanted === undefined) return found;
  return wanted.map((name) => {
    const s = all.find((x) => x.name === name);
    if (!s)
      throw new FerryError(
        'backup-source-unknown',
        `backups names ${kind} service "${name}", which the compose project does not have`,
        `backups/${kind}`,
        `Name services of the project: ${all.map((x) => x.name).join(', ') || 'none'}.`,
        2,
      );
    return found.find((f) => f.service === name) ?? make(s);
  });
}

/**
 * The sources of a stack's backups. `dataBinds` gives the sources of a service's relative
 * bind mounts that hold data (directories, not files of the release), absolute here.
 */
export function backupSources(
  stack: string,
  project: ComposeProject,
  def: BackupDef,
  dataBinds: (s: Service) => string[],
): BackupSources {
  const pgFound = databases(project.services);
  const postgres = pick(
    pgFound,
    def.postgres,
    project.services,
    'postgres',
    (s) =>
      databases([s])[0] ?? {
        service: s.name,
        user: s.environment.POSTGRES_USER ?? 'postgres',
        db: s.environment.POSTGRES_DB ?? s.environment.POSTGRES_USER ?? 'postgres',
        volumes: [],
      },
  );
  const redisFound = project.services.filter((s) => isRedisImage(s.image)).map((s) => ({ service: s.name }));
  const redis = pick(redisFound, def.redis, project.services, 'redis', (s) => ({ service: s.name }));
  const mysqlFound = project.services.filter((s) => s.image !== undefined && MYSQL_IMAGE.test(s.image));
  const mysql = pick(
    mysqlFound.map((s) => ({ service: s.name })),
    def.mysql,
    project.services,
    'mysql',
    (s) => ({ service: s.name }),
  );
  // Their data is dumped, never copied as live files (a live InnoDB directory copied as
  // files does not restore): a MySQL service's, also when `mysql: false` leaves it out.
  const dumpedServices = project.services.filter(
    (s) =>
      postgres.some((p) => p.service === s.name) ||
      redis.some((r) => r.service === s.name) ||
      mysql.some((m) => m.service === s.name) ||
      mysqlFound.includes(s),
  );
  const dumped = new Set(
    dumpedServices.flatMap((s) => s.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => v.source!)),
  );
  return {
    project: project.name,
    postgres,
    mysql,
    redis,
    volumes: volumeSources(project, def, dumped),
    paths: pathSources(stack, project, def, dataBinds, new Set(dumpedServices.flatMap(dataBinds))),
    release: def.release !== false,
  };
}

function volumeSources(project: ComposeProject, def: BackupDef, dumped: Set<string>): VolumeSource[] {
  const declared = Object.values(project.volumes);
  const docker = (name: string): string => {
    const v = project.volumes[name];
    return v?.external ? name : `${project.name}_${name}`;
  };
  if (def.volumes === false) return [];
  if (def.volumes === undefined)
    return declared.filter((v) => !dumped.has(v.name)).map((v) => ({ name: v.name, docker: docker(v.name) }));
  return def.volumes.map((name) => {
    if (!project.volumes[name])
      throw new FerryError(
        'backup-source-unknown',
        `backups names volume "${name}", which the compose project does not declare`,
        'backups/volumes',
        `Name volumes of the project: ${declared.map((v) => v.name).join(', ') || 'none'}.`,
        2,
      );
    return { name, docker: docker(name) };
  });
}

/** `./REL` for the data of relative bind mounts (kept in the stack's `shared/` on the server), or an absolute path as it is. */
function pathSources(
  stack: string,
  project: ComposeProject,
  def: BackupDef,
  dataBinds: (s: Service) => string[],
  dumped: Set<string>,
): PathSource[] {
  const rel = (abs: string) => posix.relative(project.workingDir, abs);
  const data = [...new Set(project.services.flatMap(dataBinds))].filter((abs) => !rel(abs).startsWith('..')).sort();
  const own = (abs: string): PathSource => ({ name: `./${rel(abs)}`, path: `${sharedDir(stack)}/${rel(abs)}` });
  if (def.paths === false) return [];
  if (def.paths === undefined) return data.filter((abs) => !dumped.has(abs)).map(own);
  return def.paths.map((p) => {
    const name = posix.normalize(p);
    if (name.startsWith('/')) return { name, path: name };
    const abs = data.find((d) => `./${rel(d)}` === `./${name}`);
    if (!abs)
      throw new FerryError(
        'backup-source-unknown',
        `backups names path "${p}", which no relative bind mount of the compose project holds`,
        'backups/paths',
        `Name the data of relative bind mounts (${data.map((d) => `./${rel(d)}`).join(', ') || 'the project has none'}), or an absolute directory of the server.`,
        2,
      );
    return own(abs);
  });
}

/** One line per source, for plans and `ferry backup list`. */
export function describeSources(s: BackupSources): string[] {
  return [
    ...s.postgres.map((d) => `postgres ${d.service} (database ${d.db}, role ${d.user}): pg_dump streamed into restic`),
    ...s.mysql.map((m) => `mysql ${m.service}: mysqldump --single-transaction of its databases streamed into restic`),
    ...s.redis.map((r) => `redis ${r.service}: a fresh BGSAVE, then its RDB file`),
    ...s.volumes.map((v) => `volume ${v.name} (${v.docker}): its files`),
    ...s.paths.map((p) => `path ${p.name}${p.name === p.path ? '' : ` (${p.path})`}: its files`),
    ...(s.release ? ['release: the files of the running release (compose files, env files, configs)'] : []),
  ];
}
