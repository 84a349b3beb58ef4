/** A stack's backups (`backups` in ferry.yml), the fleet's defaults merged in. */

/** Where the password comes from on this machine; a file path is absolute. */
export type BackupPasswordDef = { env: string } | { file: string };

export type BackupRepositoryDef = PathRepositoryDef | RestRepositoryDef | S3RepositoryDef;

export interface PathRepositoryDef {
  name: string;
  /** Absolute, on `server` (undefined: the stack's own server). */
  path: string;
  /** Another server of the fleet, reached over SFTP. */
  server?: string;
  rest?: undefined;
  s3?: undefined;
}

/** A repository on a restic REST server: its URL without credentials, and the user's password when it has one. */
export interface RestRepositoryDef {
  name: string;
  rest: { url: string; user?: string; password?: BackupPasswordDef };
  path?: undefined;
  server?: undefined;
  s3?: undefined;
}

/** A repository in an S3-compatible bucket: `https://ENDPOINT/BUCKET[/PREFIX]`, its keys from secrets. */
export interface S3RepositoryDef {
  name: string;
  s3: { url: string; accessKeyId: BackupPasswordDef; secretAccessKey: BackupPasswordDef; region?: string };
  path?: undefined;
  server?: undefined;
  rest?: undefined;
}

/** The kinds of sources, as `retention` and a schedule per kind name them. */
export const BACKUP_KINDS = ['postgres', 'mysql', 'redis', 'volumes', 'paths', 'release'] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

/** Days kept, per kind. */
export interface BackupRetention {
  postgres: number;
  mysql: number;
  redis: number;
  volumes: number;
  paths: number;
  release: number;
}

/** Days kept per snapshot kind: the manifest as long as the longest kept source. */
export function keptDays(r: BackupRetention): [string, number][] {
  return [
    ['postgres', r.postgres],
    ['mysql', r.mysql],
    ['redis', r.redis],
    ['volume', r.volumes],
    ['path', r.paths],
    ['release', r.release],
    ['manifest', Math.max(r.postgres, r.mysql, r.redis, r.volumes, r.paths, r.release)],
  ];
}

export const DEFAULT_CHECK_READ = '10%';

export const DEFAULT_RETENTION: BackupRetention = {
  postgres: 30,
  mysql: 30,
  redis: 14,
  volumes: 30,
  paths: 30,
  release: 90,
};

export interface BackupDef {
  password?: BackupPasswordDef;
  repositories: BackupRepositoryDef[];
  /** undefined: detected from the compose project; false: none. */
  postgres?: string[] | false;
  redis?: string[] | false;
  /** MySQL and MariaDB services dumped; undefined: detected by image; false: none. */
  mysql?: string[] | false;
  volumes?: string[] | false;
  /** Directories on the server copied as files: `./REL` (a relative bind mount's data) or absolute; undefined: every relative bind mount's data; false: none. */
  paths?: string[] | false;
  /** Whether the running release (compose files, env files, configs) is backed up; undefined: yes. */
  release?: boolean;
  retention: BackupRetention;
  /** A systemd calendar expression: a timer on the server runs the backup (every source); undefined: only by hand. */
  schedule?: string;
  /**
   * Kinds backed up on a calendar of their own as well (more often than `schedule`): a timer
   * each, whose run backs up that kind and carries the others over from the run before.
   */
  kindSchedules?: Partial<Record<BackupKind, string>>;
  /** When the server runs a restore drill of every repository by itself; undefined: only by hand. */
  drill?: string;
  /** When the server checks every repository by itself (`restic check --read-data-subset`); undefined: never. */
  check?: string;
  /** The share of the packs each scheduled check reads, `N%` (restic's `--read-data-subset`); undefined: DEFAULT_CHECK_READ. */
  checkRead?: string;
}
