/**
 * A backup run's manifest: what each source held when it was backed up, stored as its own
 * snapshot (`manifest.json`) beside the data, so that a drill can prove a restore against
 * it without the source. Pure: made from what the backup printed, compared with what a
 * restore reads.
 */
import type { TableSum } from '../migrate/postgres.js';
import type { Manifest as FilesManifest } from '../migrate/manifest.js';
import type { FilesKind } from './restic.js';

export const MANIFEST_VERSION = 1;

/** When an entry was backed up, when a run of another kind carried it over (ISO); undefined: the manifest's own run. */
interface Carried {
  at?: string;
}

export interface PostgresEntry extends Carried {
  service: string;
  db: string;
  user: string;
  /** The image of the service's container, for the drill's scratch container. */
  image: string;
  snapshot: string;
  tables: TableSum[];
}

/**
 * A MySQL or MariaDB service: its databases in one dump, and every table's rows and the
 * hash of its INSERT lines as they went into the repository (src/backup/mysql.ts).
 */
export interface MysqlEntry extends Carried {
  service: string;
  /** The image of the service's container, for the drill's scratch server. */
  image: string;
  snapshot: string;
  databases: string[];
  /** `\`DB\`.\`TABLE\``, its rows, the sha256 of its rows' lines. */
  tables: TableSum[];
}

export interface RedisEntry extends Carried {
  service: string;
  image: string;
  snapshot: string;
  keys: number;
}

/** A directory's files: a volume, a path, or the release. */
export interface VolumeEntry extends FilesManifest, Carried {
  /** The volume's name; a path's as ferry.yml names it (`./media`, `/srv/media`); the release's id. */
  name: string;
  /** The directory on the server when it was backed up (restic keeps the absolute path). */
  path: string;
  snapshot: string;
}

export interface BackupManifest {
  version: number;
  stack: string;
  run: string;
  /** ISO time the run began: the data's age is counted from it. */
  at: string;
  postgres: PostgresEntry[];
  /** Absent from manifests written before MySQL was backed up. */
  mysql: MysqlEntry[];
  redis: RedisEntry[];
  volumes: VolumeEntry[];
  /** Directories of the server (absent from manifests written before paths were backed up). */
  paths: VolumeEntry[];
  /** The running release's files, when backed up. */
  release?: VolumeEntry;
}

/** When the oldest data of a manifest was backed up (ISO): its run's start, or an entry a run of one kind carried over. */
export function dataAt(m: BackupManifest): string {
  const carried = [
    ...m.postgres,
    ...(m.mysql ?? []),
    ...m.redis,
    ...m.volumes,
    ...(m.paths ?? []),
    ...(m.release ? [m.release] : []),
  ]
    .map((e) => e.at)
    .filter((a): a is string => a !== undefined);
  return [m.at, ...carried].sort()[0]!;
}

/** Every directory of a manifest with its kind: the volumes, the paths, then the release. */
export const filesEntries = (m: BackupManifest): { kind: FilesKind; e: VolumeEntry }[] => [
  ...m.volumes.map((e) => ({ kind: 'volume' as const, e })),
  ...m.paths.map((e) => ({ kind: 'path' as const, e })),
  ...(m.release ? [{ kind: 'release' as const, e: m.release }] : []),
];

/** The `table|NAME|ROWS|SUM` lines the Postgres and MySQL backups print. */
export function tablesOf(stdout: string): TableSum[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('table|'))
    .map((l) => {
      const [, name, rows, checksum] = l.split('|');
      return { name: name!, rows: Number(rows), checksum: checksum ?? '' };
    });
}

/** The `keys|N` line the Redis backup prints. */
export function keysOf(stdout: string): number | undefined {
  const m = /^keys\|(\d+)$/m.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

export function parseManifest(text: string): BackupManifest {
  const m = JSON.parse(text) as BackupManifest;
  if (
    m.version !== MANIFEST_VERSION ||
    !Array.isArray(m.postgres) ||
    !Array.isArray(m.redis) ||
    !Array.isArray(m.volumes)
  )
    throw new Error(`not a Ferry backup manifest of version ${MANIFEST_VERSION}`);
  return { ...m, mysql: Array.isArray(m.mysql) ? m.mysql : [], paths: Array.isArray(m.paths) ? m.paths : [] };
}

/** One thing proven (or not) by a drill. */
export interface Proof {
  /** `postgres db public.orders`, `redis cache`, `volume files`. */
  what: string;
  expected: string;
  found: string;
  ok: boolean;
}

/** One line per proof: `ok   WHAT: FOUND`, or `FAIL WHAT: expected E, found F`. */
export const proofLines = (proofs: Proof[]): string =>
  proofs
    .map((p) => `${p.ok ? 'ok  ' : 'FAIL'} ${p.what}: ${p.ok ? p.found : `expected ${p.expected}, found ${p.found}`}\n`)
    .join('');

export const provePostgres = (e: PostgresEntry, restored: TableSum[]): Proof[] =>
  proveTables(`postgres ${e.service}`, e.tables, restored);

export const proveMysql = (e: MysqlEntry, restored: TableSum[]): Proof[] =>
  proveTables(`mysql ${e.service}`, e.tables, restored);

/** Every table of the manifest with its rows and checksum, and no table more. */
function proveTables(what: string, tables: TableSum[], restored: TableSum[]): Proof[] {
  const found = new Map(restored.map((t) => [t.name, t]));
  const proofs = tables.map((t) => {
    const r = found.get(t.name);
    return {
      what: `${what} ${t.name}`,
      expected: `${t.rows} rows, checksum ${t.checksum.slice(0, 12)}`,
      found: r ? `${r.rows} rows, checksum ${r.checksum.slice(0, 12)}` : 'no such table',
      ok: r !== undefined && r.rows === t.rows && r.checksum === t.checksum,
    };
  });
  const extra = restored.filter((r) => !tables.some((t) => t.name === r.name));
  return [
    ...proofs,
    ...extra.map((r) => ({
      what: `${what} ${r.name}`,
      expected: 'no such table',
      found: `${r.rows} rows`,
      ok: false,
    })),
  ];
}

export const proveRedis = (e: RedisEntry, keys: number | undefined): Proof => ({
  what: `redis ${e.service}`,
  expected: `${e.keys} keys`,
  found: keys === undefined ? 'no key count' : `${keys} keys`,
  ok: keys === e.keys,
});

export const proveVolume = (e: VolumeEntry, restored: FilesManifest, kind: FilesKind = 'volume'): Proof => ({
  what: `${kind} ${e.name}`,
  expected: `${e.files} files, ${e.bytes} bytes, sha256 ${e.sha256.slice(0, 12)}`,
  found: `${restored.files} files, ${restored.bytes} bytes, sha256 ${restored.sha256.slice(0, 12)}`,
  ok: restored.files === e.files && restored.bytes === e.bytes && restored.sha256 === e.sha256,
});
