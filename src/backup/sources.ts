/**
 * What a stack's backup holds, decided from its compose project and its `backups` key:
 * Postgres and Redis services by image (unless named, or turned off), and named volumes
 * but those of the databases (their data is dumped, not copied as files). Pure.
 */
import { FerryError } from '../core/errors.js';
import type { BackupDef } from '../model/backup.js';
import type { ComposeProject, Service } from '../model/compose.js';
import { databases, REDIS_IMAGE, type Database } from '../migrate/postgres.js';

export interface RedisSource {
  service: string;
}

export interface VolumeSource {
  /** The volume's name in the compose file. */
  name: string;
  /** Its name in Docker (`PROJECT_NAME`, or the name itself when external). */
  docker: string;
}

export interface BackupSources {
  /** The compose project name: containers are found by it. */
  project: string;
  postgres: Database[];
  redis: RedisSource[];
  volumes: VolumeSource[];
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
      );
    return found.find((f) => f.service === name) ?? make(s);
  });
}

export function backupSources(project: ComposeProject, def: BackupDef): BackupSources {
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
  const redisFound = project.services
    .filter((s) => s.image !== undefined && REDIS_IMAGE.test(s.image))
    .map((s) => ({ service: s.name }));
  const redis = pick(redisFound, def.redis, project.services, 'redis', (s) => ({ service: s.name }));
  const dumped = new Set(
    project.services
      .filter((s) => postgres.some((p) => p.service === s.name) || redis.some((r) => r.service === s.name))
      .flatMap((s) => s.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => v.source!)),
  );
  const declared = Object.values(project.volumes);
  const docker = (name: string): string => {
    const v = project.volumes[name];
    return v?.external ? name : `${project.name}_${name}`;
  };
  let volumes: VolumeSource[];
  if (def.volumes === false) volumes = [];
  else if (def.volumes === undefined)
    volumes = declared.filter((v) => !dumped.has(v.name)).map((v) => ({ name: v.name, docker: docker(v.name) }));
  else
    volumes = def.volumes.map((name) => {
      if (!project.volumes[name])
        throw new FerryError(
          'backup-source-unknown',
          `backups names volume "${name}", which the compose project does not declare`,
          'backups/volumes',
          `Name volumes of the project: ${declared.map((v) => v.name).join(', ') || 'none'}.`,
        );
      return { name, docker: docker(name) };
    });
  return { project: project.name, postgres, redis, volumes };
}

/** One line per source, for plans and `ferry backup list`. */
export function describeSources(s: BackupSources): string[] {
  return [
    ...s.postgres.map((d) => `postgres ${d.service} (database ${d.db}, role ${d.user}): pg_dump streamed into restic`),
    ...s.redis.map((r) => `redis ${r.service}: a fresh BGSAVE, then its RDB file`),
    ...s.volumes.map((v) => `volume ${v.name} (${v.docker}): its files`),
  ];
}
