/**
 * One database moved by logical replication (`--mode replicate`):
 *
 *   publish    on the source: wal_level=logical (a restart of the database when it is not),
 *              tables without a primary key replicated by whole row (REPLICA IDENTITY FULL),
 *              or refused when a column cannot be compared; a publication of every table
 *   schema     the source's schema restored on the target (pg_dump --schema-only, no rows)
 *   subscribe  on the target: truncate what an earlier attempt left, subscribe through the
 *              tunnel; verified once every table is copied and streaming
 *   cut-over   writers stopped: the target confirmed the source's last position, the
 *              sequences set to the source's values, the subscription dropped (and with it
 *              the source's replication slot)
 *   clean      on the source: the publication dropped, identities put back
 */
import { cmd, render } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Phase, Step, StepContext, StepPlace } from '../../engine/step.js';
import { expectOk } from '../../tools/classify.js';
import { onTarget } from '../channel.js';
import type { Migration } from '../context.js';
import { awaitAccepting, pgFailure, TABLES_SQL, type Database } from '../postgres.js';
import * as q from '../replica-sql.js';
import {
  dbsOf,
  endReplication,
  identityPath,
  lines,
  replicationLeft,
  sql,
  sqlIn,
  SLOT_WAIT_S,
  type Db,
} from './replica-db.js';
import { dbContainer, TARGET_ACCEPT_WAIT_MS } from '../db-container.js';

export { endReplication, identityPath, replicationLeft, type SourceDb } from './replica-db.js';
export { cutoverStep, subscribeStep, type CutoverObserved, type SubscribeObserved } from './subscribe.js';

export interface ReplicaStepOptions extends StepPlace {
  m: Migration;
  d: Database;
}

/** What keeps a database from logical replication: tables without a key that cannot be compared, large objects. */
async function obstacles(db: Db): Promise<{ noKey: q.NoKeyTable[]; problems: string[] }> {
  const noKey = q.parseNoKey(await sql(db, q.NO_KEY_SQL));
  const problems: string[] = [];
  if (noKey.length > 0) {
    for (const l of lines(await sql(db, q.noEqualitySql(noKey.map((x) => x.name))))) {
      const [table, column, type] = l.split('|');
      problems.push(
        `table ${table} has no primary key and its column ${column} is of type ${type}, which cannot be compared`,
      );
    }
  }
  if (Number(await sql(db, q.LARGE_OBJECTS_SQL)) > 0)
    problems.push('the database holds large objects (pg_largeobject), which logical replication does not carry');
  return { noKey, problems };
}

async function publishState(db: Db) {
  const [wal, pub, obs] = await Promise.all([
    sql(db, q.WAL_LEVEL_SQL),
    sql(db, q.publicationExistsSql(db.d)),
    obstacles(db),
  ]);
  return { logical: wal === 'logical', published: pub === '1', ...obs };
}

/** What the publish step's check saw on the source. */
export interface PublishObserved {
  logical: boolean;
  published: boolean;
  /**
   * The tables without a key this migration sets to REPLICA IDENTITY FULL, and the clean-up
   * puts back: those not FULL before its first apply (kept from a resumed run's observation).
   */
  setFull: string[];
}

const RESTART_ACCEPT_MS = 120_000;

/** Acts on the source only: its wal_level, identities and publication. */
export function publishStep(o: ReplicaStepOptions): Step<PublishObserved> {
  const { m, d } = o;
  return {
    id: o.id,
    host: m.source.name,
    phase: 'transfer',
    title: `publish database ${d.db} (${d.service}) on ${m.source.name} for replication`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Prepare ${d.db} on ${m.source.name} for logical replication: wal_level=logical (set with ALTER SYSTEM and a restart of ${d.service} when it is not: a few seconds without the database, awaited for at most ${RESTART_ACCEPT_MS / 1000} s), REPLICA IDENTITY FULL for tables without a primary key, and a publication of every table.`,
      commands: [
        q.SET_WAL_LEVEL_SQL,
        `docker restart ${d.service.toUpperCase()}_CONTAINER (only when wal_level was not logical)`,
        q.replicaIdentitySql(['TABLE_WITHOUT_KEY'], true),
        q.createPublicationSql(d),
      ],
      verify: `${q.WAL_LEVEL_SQL} is logical; the publication ${q.replicaName(d)} exists.`,
      undo: `${q.dropPublicationSql(d)}; identities put back to DEFAULT. wal_level stays logical (harmless; revert it with ALTER SYSTEM RESET wal_level and a restart).`,
    }),
    async check(ctx) {
      const dbs = dbsOf(ctx, m, d);
      const s = await publishState(dbs.source(await dbs.findSource()));
      if (s.problems.length > 0) {
        throw new StepError(
          'replicate-unsupported',
          `${m.source.name}: database ${d.db} cannot be moved by replication: ${s.problems.join('; ')}`,
          'Give those tables a primary key (or a column that can be compared), or move the stack with --mode dump (its writers stop for the time of a dump and restore).',
        );
      }
      const notFull = s.noKey.filter((x) => !x.full).map((x) => x.name);
      const before = (ctx.prior as PublishObserved | undefined)?.setFull ?? [];
      const observed = { logical: s.logical, published: s.published, setFull: [...new Set([...before, ...notFull])] };
      const todo = [
        ...(s.logical ? [] : [`restart ${d.service} with wal_level=logical`]),
        ...notFull.map((x) => `${x} (no primary key) replicated by whole row`),
        ...(s.published ? [] : [`publication ${q.replicaName(d)}`]),
      ];
      return todo.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: todo.join('; ') }, observed };
    },
    async apply(ctx, observed) {
      const dbs = dbsOf(ctx, m, d);
      let db = dbs.source(await dbs.findSource());
      const s = await publishState(db);
      if (!s.logical) {
        await sql(db, q.SET_WAL_LEVEL_SQL);
        const r = await ctx.transport.exec(cmd('docker', 'restart', db.container), {
          sudo: m.source.sudo,
          timeoutMs: 5 * 60_000,
        });
        expectOk('docker', r, { host: m.source.name, what: `restart of ${db.container}`, redact: db.redact });
        await awaitAccepting(ctx.transport, db.container, m.source.sudo, RESTART_ACCEPT_MS);
        db = dbs.source(await dbs.findSource());
      }
      const setFull = s.noKey.filter((x) => !x.full).map((x) => x.name);
      if (setFull.length > 0) {
        // Recorded first (with those a killed run set already), so that the clean-up puts them back.
        const record = [...new Set([...observed.setFull, ...setFull])];
        await ctx.transport.upload(identityPath(m.stack, d), `${record.join('\n')}\n`, {
          mode: 0o600,
          sudo: m.source.sudo,
        });
        await sqlIn(db, q.replicaIdentitySql(setFull, true));
      }
      if (!s.published) await sql(db, q.createPublicationSql(d));
    },
    async verify(ctx) {
      const dbs = dbsOf(ctx, m, d);
      const s = await publishState(dbs.source(await dbs.findSource()));
      return s.logical && s.published && s.noKey.every((x) => x.full)
        ? { ok: true }
        : {
            ok: false,
            message: `wal_level ${s.logical ? 'logical' : 'not logical'}, publication ${s.published ? 'present' : 'missing'}`,
          };
    },
    // From what the source holds now: the publication, any slot, the identities recorded.
    async rollback(ctx) {
      const container = await dbsOf(ctx, m, d).findSource();
      await endReplication({
        side: m.source,
        transport: ctx.transport,
        stack: m.stack,
        container,
        d,
        redact: (x) => ctx.redactor.redact(x),
      });
    },
  };
}

/** What the clean-up's check found left on the source. */
export interface CleanObserved {
  left: string[];
}

/** Acts on the source (publication, slot, identities) and reaches the target (its identities put back). */
export function cleanSourceStep(o: ReplicaStepOptions & { phase?: Phase }): Step<CleanObserved> {
  const { m, d } = o;
  const left = async (ctx: StepContext): Promise<string[]> => {
    const src = await dbContainer(ctx.transport, m.source, m.sourceRelease.project, d.service).catch(() => undefined);
    return src
      ? replicationLeft({
          side: m.source,
          transport: ctx.transport,
          stack: m.stack,
          container: src,
          d,
          redact: (x) => ctx.redactor.redact(x),
        })
      : [];
  };
  return {
    id: o.id,
    host: m.source.name,
    reaches: [m.target.name],
    phase: o.phase ?? 'deploy',
    title: `end replication of ${d.db} on ${m.source.name}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Drop the publication (and any replication slot left, behind which WAL would pile up: its sender awaited for at most ${SLOT_WAIT_S} s) and put back the identities of tables without a key, on ${m.source.name} and ${m.target.name}.`,
      commands: [q.dropPublicationSql(d), q.dropSlotSql(d), q.replicaIdentitySql(['TABLE_WITHOUT_KEY'], false)],
      verify: 'No publication or slot of the migration is left.',
      undo: 'Nothing: a new migration publishes again.',
    }),
    async check(ctx) {
      const l = await left(ctx);
      return l.length === 0
        ? { needed: false, observed: { left: l } }
        : { needed: true, change: { summary: `remove ${l.join(', ')}` }, observed: { left: l } };
    },
    async apply(ctx) {
      const target = ctx.on(m.target.name);
      const [src, tgt] = await Promise.all([
        dbContainer(ctx.transport, m.source, m.sourceRelease.project, d.service),
        dbContainer(target, m.target, m.release.project, d.service),
      ]);
      await endReplication({
        side: m.source,
        transport: ctx.transport,
        stack: m.stack,
        container: src,
        d,
        redact: (x) => ctx.redactor.redact(x),
        target: { side: m.target, transport: target, container: tgt },
      });
    },
    async verify(ctx) {
      const l = await left(ctx);
      return l.length === 0 ? { ok: true } : { ok: false, message: `left: ${l.join(', ')}` };
    },
    async rollback() {},
  };
}

/** What the schema's check saw: the containers, and the source's tables. */
export interface SchemaObserved {
  source: string;
  target: string;
  tables: number;
}

const SCHEMA_COPY: { code: 'schema-copy-failed'; hint: string } = {
  code: 'schema-copy-failed',
  hint: 'The source was only read. Fix the cause (versions, extensions), then run migrate again.',
};

/** Acts on the target (its schema restored) and reaches the source, where the copy runs (reading it). */
export function schemaStep(o: ReplicaStepOptions): Step<SchemaObserved> {
  const { m, d } = o;
  const tables = async (ctx: StepContext, src: string, tgt: string) => {
    const dbs = dbsOf(ctx, m, d);
    const [a, b] = await Promise.all([sql(dbs.source(src), TABLES_SQL), sql(dbs.target(tgt), TABLES_SQL)]);
    return { source: lines(a), target: lines(b) };
  };
  const both = async (ctx: StepContext) => {
    const dbs = dbsOf(ctx, m, d);
    const src = await dbs.findSource();
    return { src, tgt: await dbs.findTarget(true) };
  };
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'transfer',
    title: `copy the schema of ${d.db} to ${m.target.name}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Create ${d.db}'s tables, sequences, indexes and constraints on ${m.target.name} (no rows: replication copies them). Run on ${m.source.name}, streamed through the channel, once the target's Postgres accepts connections (awaited for at most ${TARGET_ACCEPT_WAIT_MS / 1000} s).`,
      commands: [
        render(
          q.schemaCopyCommand('SOURCE_CONTAINER', onTarget(m.ch, q.schemaRestoreCommand('TARGET_CONTAINER', d)), d),
        ),
      ],
      verify: 'The target has the same tables as the source.',
      undo: 'Nothing on the source; the target database is new.',
    }),
    async check(ctx) {
      const { src, tgt } = await both(ctx);
      const x = await tables(ctx, src, tgt);
      const observed = { source: src, target: tgt, tables: x.source.length };
      if (x.source.join() === x.target.join()) return { needed: false, observed };
      if (x.target.length > 0)
        throw new StepError(
          'target-not-empty',
          `${m.target.name}: database ${d.db} already has tables that differ from the source's (${x.target.slice(0, 5).join(', ')})`,
          `Remove the stack from ${m.target.name} (\`ferry retire ${m.stack} --from ${m.target.name}\` once nothing there is needed) and migrate again.`,
        );
      return { needed: true, change: { summary: `${x.source.length} tables, no rows` }, observed };
    },
    async apply(ctx) {
      const { src, tgt } = await both(ctx);
      const source = ctx.on(m.source.name);
      const r = await source.exec(q.schemaCopyCommand(src, onTarget(m.ch, q.schemaRestoreCommand(tgt, d)), d), {
        sudo: m.source.sudo,
        timeoutMs: 30 * 60_000,
      });
      const what = `copying the schema of ${d.db} to ${m.target.name}`;
      const e = pgFailure(r, { host: m.source.name, what, redact: (x) => ctx.redactor.redact(x) }, SCHEMA_COPY);
      if (e) throw e;
    },
    async verify(ctx) {
      const { src, tgt } = await both(ctx);
      const x = await tables(ctx, src, tgt);
      return x.source.join() === x.target.join()
        ? { ok: true }
        : { ok: false, message: `tables differ: source ${x.source.length}, target ${x.target.length}` };
    },
    async rollback() {},
  };
}
