/**
 * The commands of a parallel dump, as data. One database moves in four parts, all read
 * from one snapshot that a session on the source exports and holds:
 *
 *   schema     `pg_dump -Fc --schema-only`, streamed into a mode-600 file in the target
 *              container (pg_restore -j needs a file it can seek in)
 *   pre-data   tables, types and functions from that file, into a database created anew
 *   data       `pg_dump --data-only -t TABLE... | psql` in up to N streams at once, the
 *              tables shared among them by size, plus one stream of the rest (sequence
 *              values, large objects)
 *   post-data  indexes, constraints and triggers from the file, with `pg_restore -j N`
 *
 * Every stream runs on the source: `docker exec` in the source container, piped through
 * the channel into `docker exec -i` in the target container. Nothing here runs anything.
 */
import { cmd, pipe, raw, render, type Command } from '../shell/command.js';
import { sqlIdent, sqlLiteral } from '../shell/sql.js';
import type { Database } from './postgres.js';
import { pgClient, roleArgs, type PgAt } from './pg-at.js';

/** Streams at once unless told otherwise. */
export const DEFAULT_JOBS = 4;

/** One table to copy: its `pg_dump -t` pattern (every part double-quoted, so matched literally) and its size. */
export interface DumpTable {
  pattern: string;
  bytes: number;
}

/**
 * Ordinary tables with data (partitions included; partitioned parents hold none), as
 * `"schema"."table"|bytes`, largest first. Tables of extensions are left to the stream
 * of the rest, which dumps them as a whole pg_dump would.
 */
export const DUMP_TABLES_SQL = [
  `SELECT '"' || replace(n.nspname, '"', '""') || '"."' || replace(c.relname, '"', '""') || '"', pg_table_size(c.oid)`,
  'FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace',
  "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'",
  "AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')",
  'ORDER BY 2 DESC, 1',
].join(' ');

export function parseDumpTables(out: string): DumpTable[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const at = line.lastIndexOf('|');
      return { pattern: line.slice(0, at), bytes: Number(line.slice(at + 1)) };
    });
}

/**
 * What the restore makes besides rows, one line each, on either side: relations by kind,
 * constraints, indexes, triggers, functions, every sequence's value and the number of
 * large objects. Equal on both sides once pre-data, sequence values and post-data arrived.
 */
export const SCHEMA_SQL = [
  `SELECT 'relation ' || c.relkind::text || ' ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`,
  `SELECT 'constraint ' || c.conrelid::regclass::text || ' ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  `SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
  `SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t WHERE NOT t.tgisinternal`,
  `SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  `SELECT 'sequence ' || quote_ident(schemaname) || '.' || quote_ident(sequencename) || ' ' || coalesce(last_value::text, 'unused') FROM pg_sequences`,
  `SELECT 'large objects ' || count(*) FROM pg_largeobject_metadata`,
].join(' UNION ALL ');

/** Lines of `SCHEMA_SQL` on one side and not the other. */
export function compareSchema(source: string, target: string): { missing: string[]; extra: string[] } {
  const lines = (s: string) => new Set(s.split('\n').filter(Boolean));
  const [a, b] = [lines(source), lines(target)];
  return { missing: [...a].filter((l) => !b.has(l)).sort(), extra: [...b].filter((l) => !a.has(l)).sort() };
}

/** Streams at once: `jobs`, at least one, never more than the tables. */
export const streamCount = (jobs: number, tables: number): number => Math.max(1, Math.min(Math.floor(jobs), tables));

/**
 * The tables in `n` shares of about equal bytes (largest first, each to the lightest
 * share), one stream each: many small tables do not cost a connection each.
 */
export function shares(tables: DumpTable[], n: number): DumpTable[][] {
  const out: { bytes: number; tables: DumpTable[] }[] = Array.from({ length: Math.max(1, n) }, () => ({
    bytes: 0,
    tables: [],
  }));
  for (const t of [...tables].sort((a, b) => b.bytes - a.bytes)) {
    const lightest = out.reduce((min, x) => (x.bytes < min.bytes ? x : min));
    lightest.tables.push(t);
    lightest.bytes += t.bytes;
  }
  return out.map((x) => x.tables).filter((x) => x.length > 0);
}

/**
 * psql in the container as the database's role on `database`, quiet, unaligned, stopping
 * at the first error, without ~/.psqlrc; `args` after (`-c SQL`...), else it reads stdin.
 */
export const psqlIn = (at: PgAt, d: Pick<Database, 'user'>, database: string, ...args: string[]): Command =>
  pgClient(
    at,
    { role: d.user, stdin: true },
    'psql',
    '-X',
    '-q',
    '-At',
    '-v',
    'ON_ERROR_STOP=1',
    ...roleArgs(at, d.user),
    '-d',
    database,
    ...args,
  );

/** A session that exports a snapshot and holds it while it reads stdin: `SNAPSHOT_SQL` in, the snapshot's name out, `RELEASE_SQL` to end. */
export const snapshotSession = (container: PgAt, d: Database): Command => psqlIn(container, d, d.db);
export const SNAPSHOT_SQL = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT pg_export_snapshot();\n';
export const RELEASE_SQL = 'COMMIT;\n';
/** What `pg_export_snapshot()` returns, e.g. `00000003-0000001B-1`. */
export const SNAPSHOT_NAME = /^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$/;

const pgDump = (at: PgAt, d: Database, snapshot: string, ...args: string[]): Command =>
  pgClient(
    at,
    { role: d.user },
    'pg_dump',
    ...roleArgs(at, d.user),
    '-d',
    d.db,
    `--snapshot=${snapshot}`,
    '--no-owner',
    '--no-privileges',
    ...args,
  );

/**
 * Run on the source: `from` here piped into `into` (already wrapped for the channel); pipefail,
 * so either side's failure fails the whole. A `dd` between them counts what crosses: its
 * summary (`N bytes ... copied`) goes to stdout (`streamedBytes` reads it), where `into`, a
 * load whose results go to /dev/null, prints nothing.
 */
export const stream = (from: Command, into: Command): Command =>
  cmd('bash', '-o', 'pipefail', '-c', `exec 3>&1; ${render(pipe(from, COUNT, into))}`);

/** dd, copying as it is, its summary to fd 3 (the stream's stdout); in the C locale, so that it reads the same everywhere. */
const COUNT: Command = raw`LC_ALL=C dd bs=65536 2>&3`;

/** The bytes a `stream` carried, from dd's summary in its output (0 when there is none). */
export function streamedBytes(stdout: string): number {
  const m = /^(\d+) bytes? /m.exec(stdout);
  return m ? Number(m[1]) : 0;
}

export const schemaDump = (container: PgAt, d: Database, snapshot: string): Command =>
  pgDump(container, d, snapshot, '-Fc', '--schema-only');
/** The rows of `tables`, one after the other. */
export const tableDump = (container: PgAt, d: Database, snapshot: string, tables: DumpTable[]): Command =>
  pgDump(container, d, snapshot, '--data-only', ...tables.flatMap((t) => ['-t', t.pattern]));
/** Everything in the data section but the tables' rows: sequence values, large objects, tables of extensions. */
export const restDump = (container: PgAt, d: Database, snapshot: string, tables: DumpTable[]): Command =>
  pgDump(container, d, snapshot, '--data-only', ...tables.map((t) => `--exclude-table-data=${t.pattern}`));

/** Where the schema file lives in the target container while the restore runs. */
export const schemaFile = (d: Database): string => `/tmp/ferry-migrate-${d.service}.schema.dump`;

/** Where the target's database is: stdin to `path`, readable by its owner only. */
export const writeFile = (at: PgAt, path: string): Command =>
  pgClient(at, { stdin: true }, 'sh', '-c', 'umask 077 && cat > "$1"', 'sh', path);
export const removeFile = (at: PgAt, path: string): Command => pgClient(at, {}, 'rm', '-f', path);

/**
 * Where the target's database is: SQL (as from pg_dump's plain format) from stdin into the
 * database; results not printed. `superuser`: on a server, as its superuser rather than the
 * role (in a container the role is the superuser), for SQL only a superuser may run.
 */
export const load = (at: PgAt, d: Database, o: { superuser?: boolean } = {}): Command =>
  pgClient(
    at,
    o.superuser ? { stdin: true } : { role: d.user, stdin: true },
    'psql',
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-o',
    '/dev/null',
    ...roleArgs(at, d.user),
    '-d',
    d.db,
  );

/**
 * The target's database dropped and created empty (from template0, as pg_dump --create
 * would), so that a restore always starts clean: sessions still in it (a stream of a
 * killed run) are ended first. Run from another database: `postgres`, or `template1` to
 * recreate `postgres` itself.
 */
export function recreateDatabase(at: PgAt, d: Database): Command {
  // In a container the role is the superuser; on a server the superuser creates it for the role.
  const onServer = typeof at !== 'string';
  return pgClient(
    at,
    onServer ? {} : { role: d.user },
    'psql',
    '-X',
    '-q',
    '-v',
    'ON_ERROR_STOP=1',
    '-o',
    '/dev/null',
    ...(onServer ? [] : ['-U', d.user]),
    '-d',
    d.db === 'postgres' ? 'template1' : 'postgres',
    '-c',
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${sqlLiteral(d.db)} AND pid <> pg_backend_pid()`,
    '-c',
    `DROP DATABASE IF EXISTS ${sqlIdent(d.db)}`,
    '-c',
    `CREATE DATABASE ${sqlIdent(d.db)}${onServer ? ` OWNER ${sqlIdent(d.user)}` : ''} TEMPLATE template0`,
  );
}

const pgRestore = (at: PgAt, d: Database, path: string, ...args: string[]): Command =>
  pgClient(
    at,
    { role: d.user },
    'pg_restore',
    ...roleArgs(at, d.user),
    '-d',
    d.db,
    '--no-owner',
    '--no-privileges',
    '--exit-on-error',
    ...args,
    path,
  );

/** Tables, types, functions: one transaction. */
export const preData = (container: PgAt, d: Database, path: string): Command =>
  pgRestore(container, d, path, '--section=pre-data', '--single-transaction');
/** Indexes, constraints, triggers: `jobs` at once. */
export const postData = (container: PgAt, d: Database, path: string, jobs: number): Command =>
  pgRestore(container, d, path, '--section=post-data', `--jobs=${jobs}`);

/** For plans and runbooks: the parts, in order. */
export function describeParts(d: Database, jobs: number): string {
  return (
    `${d.db} (role ${d.user}) in parts read from one exported snapshot: the schema (pg_dump -Fc --schema-only) into a mode-600 file in the target container, ` +
    `its pre-data restored into ${d.db} created anew, the tables' rows in up to ${jobs} parallel streams (pg_dump --data-only -t TABLE... | psql, the tables shared among them by size) and one of sequence values and large objects, ` +
    `then indexes, constraints and triggers by pg_restore --section=post-data --jobs=${jobs}`
  );
}
