/**
 * Postgres in a stack: which services are databases (by image), and the proof of a move:
 * per-table row counts and content checksums read on both sides. The dump itself is in
 * dump-commands.ts and parallel-dump.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Service } from '../model/compose.js';
import type { Command } from '../shell/command.js';
import { describeAt, pgClient, roleArgs, type PgAt } from './pg-at.js';
import { sqlLiteral } from '../shell/sql.js';
import type { ExecOptions, ExecResult, Transport } from '../transport/transport.js';
import { StepError } from '../engine/errors.js';
import { toolFailure } from '../tools/classify.js';
import type { StepErrorCode } from '../tools/codes.js';

export interface Database {
  service: string;
  user: string;
  db: string;
  /** Named volume or path holding the data directory (not copied in dump mode). */
  volumes: string[];
}

const POSTGRES_IMAGE = /(^|\/)(postgres|postgis|timescaledb|[a-z0-9-]*postgres[a-z0-9-]*)(:|$)/i;
/** A tool named after Postgres, not a Postgres: its exporter, a backup sidecar (`postgres-exporter`, `postgres-backup-s3`). */
const NOT_POSTGRES = /(^|\/)[^/:]*(exporter|backup)[^/:]*(:|$)/i;

/** The stack's Postgres services, with the role and database their image creates. */
export function databases(services: Service[]): Database[] {
  return services
    .filter((s) => s.image !== undefined && POSTGRES_IMAGE.test(s.image) && !NOT_POSTGRES.test(s.image))
    .map((s) => {
      const user = s.environment.POSTGRES_USER ?? 'postgres';
      return {
        service: s.name,
        user,
        db: s.environment.POSTGRES_DB ?? user,
        volumes: s.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => v.source!),
      };
    });
}

/**
 * MySQL, MariaDB and Percona Server images, also under a name of one's own ending so
 * (`acme-mariadb`), not their exporters or tools (`mysqld-exporter`, `mysql-router`).
 */
export const MYSQL_IMAGE = /(^|\/)[a-z0-9-]*(mysql|mariadb|percona)(-server)?(:|@|$)/i;
export const REDIS_IMAGE = /(^|\/)[a-z0-9-]*(redis|valkey|keydb)[a-z0-9-]*(:|$)/i;
/** Images named like Redis that hold no data of their own: exporters, backup sidecars, UIs, Sentinel. */
const NOT_REDIS = /(^|\/)[^/:]*(exporter|backup|commander|insight|sentinel)[^/:]*(:|$)/i;
/** A Redis (or Valkey, KeyDB) server's image, not a tool named after it. */
export const isRedisImage = (image: string | undefined): boolean =>
  image !== undefined && REDIS_IMAGE.test(image) && !NOT_REDIS.test(image);

/** Tables of the database (user schemas), one `schema.table` per line. */
export const TABLES_SQL =
  "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1";

/** The bytes of the tables' data (without indexes), all together. */
export const TABLES_SIZE_SQL =
  "SELECT coalesce(sum(pg_table_size(c.oid)), 0) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'";

/** Row count and an order-independent checksum of every row's text, per table. */
export function checksumSql(tables: string[]): string {
  return tables
    .map(
      (t) =>
        `SELECT ${sqlLiteral(t)}, count(*), md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')) FROM ${t} x;`,
    )
    .join('\n');
}

/** Row count per table, and an empty checksum: the cheap half of `checksumSql`. */
export function countSql(tables: string[]): string {
  return tables.map((t) => `SELECT ${sqlLiteral(t)}, count(*), '' FROM ${t};`).join('\n');
}

export const psql = (at: PgAt, d: Database, sql: string): Command =>
  pgClient(
    at,
    { role: d.user },
    'psql',
    ...roleArgs(at, d.user),
    '-d',
    d.db,
    '-v',
    'ON_ERROR_STOP=1',
    '-At',
    '-F',
    '|',
    '-c',
    sql,
  );

/**
 * `pg_isready` over TCP inside the container. A first start of the image initialises the
 * data directory with a temporary server on its socket only (`listen_addresses=''`), then
 * stops it and starts the real one: the socket answers before the database is there to
 * stay, TCP only once it is.
 */
export const acceptingCommand = (at: PgAt): Command =>
  typeof at === 'string'
    ? pgClient(at, {}, 'pg_isready', '-q', '-h', '127.0.0.1')
    : pgClient(at, {}, 'pg_isready', '-q');

/**
 * Waits until the database in `container` accepts TCP connections: one `pg_isready` every
 * 250 ms, `database-not-running` after `timeoutMs` (120 s unless told).
 */
export async function awaitAccepting(t: Transport, at: PgAt, sudo: boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await t.exec(acceptingCommand(at), { sudo, timeoutMs: 15_000 })).code !== 0) {
    if (Date.now() > deadline)
      throw new StepError(
        'database-not-running',
        `${t.name}: Postgres in ${describeAt(at)} does not accept connections${typeof at === 'string' ? ' on 127.0.0.1' : ''} after ${Math.round(timeoutMs / 1000)} s`,
        typeof at === 'string'
          ? `Read its log (docker logs ${at}); it must listen on TCP (listen_addresses), then run migrate again with --resume.`
          : 'Start it (pg_lsclusters lists its state), then run migrate again with --resume.',
      );
    await sleep(250);
  }
}

export interface TableSum {
  name: string;
  rows: number;
  checksum: string;
}

/** What a step says about a failed Postgres command when psql's own code (`psql-failed`) says less. */
export interface Instead {
  code: StepErrorCode;
  hint: string;
}

/**
 * psql's classifier on a Postgres client's result (psql, pg_dump, pg_restore): an error it
 * reports, even at exit 0, fails. Authentication, a database not running, a full disk keep
 * their own codes; the generic `psql-failed` becomes `instead` when given.
 */
export function pgFailure(
  r: Pick<ExecResult, 'code' | 'stdout' | 'stderr'>,
  doing: { host: string; what: string; redact: (s: string) => string },
  instead?: Instead,
): StepError | undefined {
  const e = toolFailure('psql', r, doing);
  return e && instead && e.code === 'psql-failed' ? new StepError(instead.code, e.message, instead.hint) : e;
}

export interface PgRun extends Pick<ExecOptions, 'stdin' | 'timeoutMs'> {
  sudo: boolean;
  /** What is being done, for the message: `psql in shop_db_1`. */
  what: string;
  redact: (s: string) => string;
  instead?: Instead;
}

/** Runs a Postgres client's command; its stdout, or the StepError of `pgFailure`. */
export async function runPg(t: Transport, command: Command, o: PgRun): Promise<string> {
  const opts: ExecOptions = { sudo: o.sudo, timeoutMs: o.timeoutMs ?? 30 * 60_000 };
  if (o.stdin !== undefined) opts.stdin = o.stdin;
  const r = await t.exec(command, opts);
  const e = pgFailure(r, { host: t.name, what: o.what, redact: o.redact }, o.instead);
  if (e) throw e;
  return r.stdout;
}

/** Runs `sql` in the database; its output, or psql's StepError. */
export async function query(
  t: Transport,
  at: PgAt,
  d: Database,
  sql: string,
  sudo: boolean,
  redact: (s: string) => string,
): Promise<string> {
  return runPg(t, psql(at, d, sql), { sudo, what: `psql in ${describeAt(at)}`, redact });
}

/** Every table's rows and checksum; with `countsOnly`, the rows and an empty checksum (counting, not hashing every row). */
export async function tableSums(
  t: Transport,
  container: PgAt,
  d: Database,
  sudo: boolean,
  redact: (s: string) => string,
  countsOnly = false,
): Promise<TableSum[]> {
  const tables = (await query(t, container, d, TABLES_SQL, sudo, redact))
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (tables.length === 0) return [];
  return parseSums(await query(t, container, d, (countsOnly ? countSql : checksumSql)(tables), sudo, redact));
}

export function parseSums(out: string): TableSum[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, rows, checksum] = line.split('|');
      return { name: name!, rows: Number(rows), checksum: checksum ?? '' };
    });
}

export interface TableReport {
  name: string;
  rows_source: number;
  rows_target: number;
  checksum_match: boolean;
}

/**
 * The source's tables whose row count differs from the proof's (or that the proof did not
 * have): what was written there after the proof. An empty list when nothing was.
 */
export function changedSince(proof: TableReport[], now: TableSum[]): string[] {
  return now
    .filter((t) => !proof.some((p) => p.name === t.name && p.rows_source === t.rows))
    .map((t) => {
      const before = proof.find((p) => p.name === t.name);
      return before ? `${t.name} has ${t.rows} rows, ${before.rows_source} when proven` : `${t.name} is new`;
    });
}

export function compareTables(source: TableSum[], target: TableSum[]): TableReport[] {
  const there = new Map(target.map((t) => [t.name, t]));
  const names = [...new Set([...source.map((s) => s.name), ...target.map((t) => t.name)])].sort();
  const here = new Map(source.map((s) => [s.name, s]));
  return names.map((name) => {
    const a = here.get(name);
    const b = there.get(name);
    return {
      name,
      rows_source: a?.rows ?? -1,
      rows_target: b?.rows ?? -1,
      checksum_match: a !== undefined && b !== undefined && a.checksum === b.checksum && a.rows === b.rows,
    };
  });
}
