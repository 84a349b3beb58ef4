/**
 * Postgres logical replication from the source's database to the target's, as SQL and
 * commands (pure). The source publishes every table; the target subscribes through a
 * tunnel (see tunnel.ts) and copies the existing rows, then streams every change until
 * the cut-over, when it has confirmed the source's last position, the sequences are
 * set and the subscription is dropped (which drops the source's replication slot too).
 */
import { cmd, pipe, render, type Command } from '../shell/command.js';
import { conninfoValue, sqlLiteral } from '../shell/sql.js';
import type { Database } from './postgres.js';

/** Publication, subscription and slot of one database: `ferry_<service>`, a valid unquoted identifier. */
export const replicaName = (d: Database): string =>
  `ferry_${d.service.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);

/** The port the tunnel listens on inside the target's database container. */
export const TUNNEL_PORT = 15432;

export const WAL_LEVEL_SQL = 'SHOW wal_level';
export const SET_WAL_LEVEL_SQL = 'ALTER SYSTEM SET wal_level = logical';

/** Tables (user schemas) without a primary key, as `schema.table|identity`; identity `f` is FULL already. */
export const NO_KEY_SQL = `SELECT format('%I.%I', n.nspname, c.relname) || '|' || c.relreplident::text
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND (i.indisprimary OR (i.indisreplident AND c.relreplident = 'i')))
ORDER BY 1`;

/** Column types without an equality operator: a row without a key cannot be found by them on the target. */
const NO_EQUALITY = ['json', 'xml', 'point', 'line', 'lseg', 'box', 'path', 'polygon', 'circle'];

/** Of `tables` (`schema.table`), those with a column of a type that has no equality, as `schema.table|column|type`. */
export function noEqualitySql(tables: string[]): string {
  return `SELECT format('%I.%I', n.nspname, c.relname) || '|' || a.attname::text || '|' || format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type e ON e.oid = t.typelem
WHERE a.attnum > 0 AND NOT a.attisdropped AND format('%I.%I', n.nspname, c.relname) IN (${tables.map(sqlLiteral).join(', ')})
  AND (t.typname IN (${NO_EQUALITY.map(sqlLiteral).join(', ')}) OR e.typname IN (${NO_EQUALITY.map(sqlLiteral).join(', ')}))
ORDER BY 1`;
}

/** Large objects are not replicated. */
export const LARGE_OBJECTS_SQL = 'SELECT count(*) FROM pg_largeobject_metadata';

export interface NoKeyTable {
  name: string;
  full: boolean;
}

export const parseNoKey = (out: string): NoKeyTable[] =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [name, identity] = l.split('|');
      return { name: name!, full: identity === 'f' };
    });

/** Updates and deletes of a table without a key are found on the target by the whole row. */
export const replicaIdentitySql = (tables: string[], full: boolean): string =>
  tables.map((t) => `ALTER TABLE ${t} REPLICA IDENTITY ${full ? 'FULL' : 'DEFAULT'};`).join('\n');

export const publicationExistsSql = (d: Database): string =>
  `SELECT count(*) FROM pg_publication WHERE pubname = ${sqlLiteral(replicaName(d))}`;
export const createPublicationSql = (d: Database): string => `CREATE PUBLICATION ${replicaName(d)} FOR ALL TABLES`;
export const dropPublicationSql = (d: Database): string => `DROP PUBLICATION IF EXISTS ${replicaName(d)}`;

/** The slot left on the source (when a subscription could not drop it): WAL piles up behind it. */
export const dropSlotSql = (d: Database): string =>
  `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(replicaName(d))} AND NOT active`;
export const slotSql = (d: Database): string =>
  `SELECT coalesce(confirmed_flush_lsn::text, '') || '|' || active::text FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(replicaName(d))}`;

/** The source's position now, after a message that makes sure there is WAL to confirm. */
/** Whether the slot's confirmed position reached `lsn`. */
export const confirmedSql = (d: Database, lsn: string): string =>
  `SELECT coalesce(bool_and(confirmed_flush_lsn >= ${sqlLiteral(lsn)}::pg_lsn), false) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(replicaName(d))}`;

/** The subscription's connection string (the password goes in on stdin only: see `createSubscriptionInput`). */
export const conninfo = (d: Database, password: string): string =>
  [
    `host=127.0.0.1`,
    `port=${TUNNEL_PORT}`,
    `dbname=${conninfoValue(d.db)}`,
    `user=${conninfoValue(d.user)}`,
    ...(password ? [`password=${conninfoValue(password)}`] : []),
  ].join(' ');

/** SQL sent on stdin (it holds the password): subscribe, copying the rows that exist. */
export const createSubscriptionInput = (d: Database, password: string): string =>
  `CREATE SUBSCRIPTION ${replicaName(d)} CONNECTION ${sqlLiteral(conninfo(d, password))} PUBLICATION ${replicaName(d)} WITH (copy_data = true);\n`;

export const subscriptionExistsSql = (d: Database): string =>
  `SELECT count(*) FROM pg_subscription WHERE subname = ${sqlLiteral(replicaName(d))}`;

/** Per table of the subscription, its state: `r` ready (copied and streaming), else copying. */
export const subscriptionTablesSql = (d: Database): string =>
  `SELECT format('%I.%I', n.nspname, c.relname) || '|' || r.srsubstate::text FROM pg_subscription_rel r JOIN pg_subscription s ON s.oid = r.srsubid JOIN pg_class c ON c.oid = r.srrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE s.subname = ${sqlLiteral(replicaName(d))} ORDER BY 1`;

/** Dropping a subscription also drops its slot on the source, through the tunnel. */
export const dropSubscriptionSql = (d: Database): string => `DROP SUBSCRIPTION IF EXISTS ${replicaName(d)}`;
/** When the source cannot be reached: let go of the slot here (it is dropped on the source by `dropSlotSql`). */
export const detachSubscriptionSql = (d: Database): string =>
  `ALTER SUBSCRIPTION ${replicaName(d)} DISABLE; ALTER SUBSCRIPTION ${replicaName(d)} SET (slot_name = NONE); DROP SUBSCRIPTION ${replicaName(d)}`;

/** Every sequence with a value, as the statement that sets it so on the target. */
export const SEQUENCES_SETVAL_SQL =
  "SELECT format('SELECT setval(%L, %s, true);', format('%I.%I', schemaname, sequencename), last_value) FROM pg_sequences WHERE last_value IS NOT NULL ORDER BY schemaname, sequencename";
/**
 * The cut-over's read of the source in one round trip: a line `lsn POSITION` (a message
 * written to the WAL, so that the position is one the slot will confirm), then the
 * statement that sets each sequence to its value there.
 */
export const CUT_OVER_SQL = `SELECT 'lsn ' || pg_logical_emit_message(false, 'ferry', 'cut-over')::text UNION ALL (${SEQUENCES_SETVAL_SQL})`;

/** The position and the sequences' statements from `CUT_OVER_SQL`'s output, in any order. */
export function parseCutOver(out: string): { lsn: string | undefined; setvals: string[] } {
  const rows = out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return {
    lsn: rows.find((l) => l.startsWith('lsn '))?.slice('lsn '.length),
    setvals: rows.filter((l) => !l.startsWith('lsn ')),
  };
}

/** Every sequence and its value, to compare both sides. */
export const SEQUENCES_SQL =
  "SELECT format('%I.%I', schemaname, sequencename) || '=' || coalesce(last_value::text, '') FROM pg_sequences ORDER BY 1";

/** pg_dump's schema (no data, publications or subscriptions) from the source, restored on the target by `target`. */
export function schemaCopyCommand(source: string, target: Command, d: Database): Command {
  return cmd(
    'bash',
    '-o',
    'pipefail',
    '-c',
    render(
      pipe(
        cmd(
          'docker',
          'exec',
          source,
          'pg_dump',
          '-U',
          d.user,
          '-d',
          d.db,
          '-Fc',
          '--schema-only',
          '--no-owner',
          '--no-privileges',
          '--no-publications',
          '--no-subscriptions',
        ),
        target,
      ),
    ),
  );
}

export const schemaRestoreCommand = (container: string, d: Database): Command =>
  cmd(
    'docker',
    'exec',
    '-i',
    container,
    'pg_restore',
    '-U',
    d.user,
    '-d',
    d.db,
    '--no-owner',
    '--no-privileges',
    '--exit-on-error',
    '--single-transaction',
  );

/** `docker exec -i CONTAINER psql ...` reading its SQL from stdin (so that no secret is on a command line). */
export const psqlStdin = (container: string, d: Database): Command =>
  cmd(
    'docker',
    'exec',
    '-i',
    container,
    'psql',
    '-U',
    d.user,
    '-d',
    d.db,
    '-v',
    'ON_ERROR_STOP=1',
    '-At',
    '-q',
    '-f',
    '-',
  );

/** Compares `name=value` lines of both sides; the names that differ. */
export function sequencesDiffer(source: string, target: string): string[] {
  const parse = (s: string) =>
    new Map(
      s
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.lastIndexOf('=')), l.slice(l.lastIndexOf('=') + 1)]),
    );
  const a = parse(source);
  const b = parse(target);
  return [...a.keys()].filter((k) => a.get(k) !== b.get(k)).sort();
}
