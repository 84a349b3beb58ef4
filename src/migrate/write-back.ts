/**
 * Carrying back what a migration's target wrote, before the source serves again. From the
 * moment the stack starts on the target (`live`), its databases and volumes take writes
 * that the source does not have: a rollback that started the source's copy as it was at
 * the cut-over would drop every one of them. So, with the target's writers stopped (Redis
 * saved first), each database's tables that differ are copied back to the source (their
 * rows replaced in one transaction, foreign keys left to the data), its sequences set to
 * the target's values, the volumes copied back with rsync, and both sides proven equal:
 * every table's rows and checksum, every sequence, every volume's manifest.
 *
 * Data flows from the target to the source over a channel of its own (key on the target,
 * authorized on the source only from the target's address): `channelFor(STACK-back, …)`.
 * A table that exists on one side only (a schema changed on the target since the move)
 * cannot be carried back: `write-back-impossible`, with the rows on each side.
 */
import { cmd, pipe, render, seq, type Command } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import type { StepContext } from '../engine/step.js';
import type { Transport } from '../transport/transport.js';
import { channelFor, channelWorks, closeChannel, onTarget, openChannel, type Channel } from './channel.js';
import type { Migration } from './context.js';
import { inContainers, sourceAt, targetAt, TARGET_ACCEPT_WAIT_MS } from './db-container.js';
import { pgClient, roleArgs, type PgAt } from './pg-at.js';
import { targetLive } from './live.js';
import { readReport } from './report.js';
import { load } from './dump-commands.js';
import { awaitAccepting, compareTables, query, tableSums, type Database, type TableReport } from './postgres.js';
import { containersOn, startServices, stopServices } from './steps/services.js';
import { SYNC_TIMEOUT_MS, syncCommand, verifyVolumes, type VolumeCopy } from './volumes.js';
import { SEQUENCES_SETVAL_SQL, SEQUENCES_SQL, sequencesDiffer } from './replica-sql.js';

/** The channel from the target back to the source (the reverse of the migration's). */
export const backChannel = (m: Pick<Migration, 'stack' | 'ch'>): Channel =>
  channelFor(`${m.stack}-back`, m.ch.target, m.ch.source);

/** One database's difference: tables whose rows differ (with the rows on each side), sequences that differ. */
export interface DatabaseDifference {
  service: string;
  db: string;
  /** Tables on both sides whose rows or checksums differ: copied back. */
  tables: TableReport[];
  /** Tables on one side only: they cannot be carried back. */
  unmatched: TableReport[];
  sequences: string[];
}

/** Rows on both sides, as the messages give them: `public.orders 1204 on the target, 1187 on the source`. */
export const rowsPhrase = (t: TableReport, target: string, source: string): string =>
  `${t.name} ${t.rows_target < 0 ? 'missing' : t.rows_target} on ${target}, ${t.rows_source < 0 ? 'missing' : t.rows_source} on ${source}`;

/** The two ends of one database: the target (`t`, the step's host) and the source (reached). */
export interface Ends {
  target: { t: Transport; container: PgAt; sudo: boolean };
  source: { t: Transport; container: PgAt; sudo: boolean };
}

export async function databaseEnds(ctx: StepContext, m: Migration, d: Database): Promise<Ends> {
  const source = ctx.on(m.source.name);
  return {
    target: {
      t: ctx.transport,
      container: await targetAt(ctx.transport, m, d),
      sudo: m.target.sudo,
    },
    source: {
      t: source,
      container: await sourceAt(source, m, d),
      sudo: m.source.sudo,
    },
  };
}

/** Every table and sequence of `d` compared: what the target has that the source lacks. */
export async function databaseDifference(
  e: Ends,
  d: Database,
  redact: (s: string) => string,
): Promise<DatabaseDifference> {
  const side = (x: Ends['target']) => tableSums(x.t, x.container, d, x.sudo, redact);
  const seq = (x: Ends['target']) => query(x.t, x.container, d, SEQUENCES_SQL, x.sudo, redact);
  const [src, tgt, srcSeq, tgtSeq] = await Promise.all([side(e.source), side(e.target), seq(e.source), seq(e.target)]);
  const report = compareTables(src, tgt);
  return {
    service: d.service,
    db: d.db,
    tables: report.filter((t) => !t.checksum_match && t.rows_source >= 0 && t.rows_target >= 0),
    unmatched: report.filter((t) => t.rows_source < 0 || t.rows_target < 0),
    sequences: sequencesDiffer(srcSeq, tgtSeq),
  };
}

/** Whether nothing is to carry back. */
export const same = (x: DatabaseDifference): boolean =>
  x.tables.length === 0 && x.unmatched.length === 0 && x.sequences.length === 0;

/** pg_dump 17's `SET transaction_timeout` removed from the header (before the first COPY): an older server refuses it. */
const OLDER_SERVER_SETTINGS = cmd('sed', '1,/^COPY /{/^SET transaction_timeout = /d}');

/**
 * Run on the target: the rows of `tables` streamed from its container through `back` into
 * the source's, in one transaction there that first deletes the source's rows of those
 * tables. Triggers and foreign keys stay quiet meanwhile (`session_replication_role =
 * replica`): the rows come as a whole from a database that had them consistent.
 */
export function copyBackCommand(back: Channel, container: PgAt, d: Database, tables: string[], into: PgAt): Command {
  const prelude = ['BEGIN;', 'SET session_replication_role = replica;', ...tables.map((t) => `DELETE FROM ${t};`)].join(
    '\n',
  );
  const dump = pgClient(
    container,
    { role: d.user },
    'pg_dump',
    ...roleArgs(container, d.user),
    '-d',
    d.db,
    '--data-only',
    '--no-owner',
    '--no-privileges',
    ...tables.flatMap((t) => ['-t', t]),
  );
  // The target's pg_dump may be newer than the source's server (a Postgres 17 installed there,
  // 15 in the source's container): the settings line only 17 knows goes, before the first row.
  const sender = seq(cmd('printf', '%s\\n', prelude), pipe(dump, OLDER_SERVER_SETTINGS), cmd('printf', 'COMMIT;\\n'));
  // session_replication_role is a superuser's setting.
  return cmd('bash', '-o', 'pipefail', '-c', render(pipe(sender, onTarget(back, load(into, d, { superuser: true })))));
}

/** The statements that set every sequence of the source to its value on the target (read there). */
export async function sequenceStatements(e: Ends, d: Database, redact: (s: string) => string): Promise<string> {
  return query(e.target.t, e.target.container, d, SEQUENCES_SETVAL_SQL, e.target.sudo, redact);
}

/** Refuses a difference that cannot be carried back; names the rows on each side. */
export function refuseUnmatched(m: Migration, x: DatabaseDifference): void {
  if (x.unmatched.length === 0) return;
  throw new StepError(
    'write-back-impossible',
    `${m.target.name}: database ${x.db} cannot be carried back to ${m.source.name}: its tables differ (${x.unmatched.map((t) => rowsPhrase(t, m.target.name, m.source.name)).join('; ')})`,
    `The schema changed on ${m.target.name} since the move. Bring ${m.source.name}'s schema to the same state first, or roll back with --discard-target-writes, which serves ${m.source.name}'s data as it was at the move and drops these writes.`,
  );
}

/** Copies back what differs in `d`, then its sequences; `x` is what the check found. */
export async function carryBack(
  ctx: StepContext,
  m: Migration,
  d: Database,
  back: Channel,
  redact: (s: string) => string,
): Promise<DatabaseDifference> {
  const e = await databaseEnds(ctx, m, d);
  const x = await databaseDifference(e, d, redact);
  refuseUnmatched(m, x);
  if (x.tables.length > 0) {
    const r = await ctx.transport.exec(
      copyBackCommand(
        back,
        e.target.container,
        d,
        x.tables.map((t) => t.name),
        e.source.container,
      ),
      { sudo: m.target.sudo, timeoutMs: 6 * 3600_000 },
    );
    if (r.code !== 0)
      throw new StepError(
        'write-back-failed',
        `${m.target.name}: copying ${x.tables.map((t) => t.name).join(', ')} of ${d.db} back to ${m.source.name} failed: ${redact(r.stderr.trim().split('\n').slice(-3).join(' / '))}`,
        `Nothing was changed on ${m.source.name} (one transaction). Fix the cause, then run the rollback again.`,
      );
  }
  const setvals = await sequenceStatements(e, d, redact);
  if (setvals.trim())
    await query(e.source.t, e.source.container, d, setvals.trim().split('\n').join(' '), e.source.sudo, redact);
  return x;
}

/** What a whole write-back carried: per database the tables copied back, and the volumes proven equal. */
export interface CarriedBack {
  tables: { service: string; name: string; rows: number }[];
  volumes: string[];
}

/**
 * The whole write-back, from a step on the target that reaches the source: the back channel
 * opened, the target's writers stopped (Redis saved first), the source's databases started,
 * each database's differing tables and its sequences copied back, the volumes copied back,
 * and everything proven equal; the back channel closed whatever happened.
 */
export async function carryAllBack(ctx: StepContext, m: Migration, copies: VolumeCopy[]): Promise<CarriedBack> {
  const redact = (s: string) => ctx.redactor.redact(s);
  const back = backChannel(m);
  if (!(await channelWorks(ctx, back))) await openChannel(ctx, back);
  try {
    const dbServices = m.databases.map((d) => d.service);
    const writers = m.release.services.filter((s) => s.replicas > 0 && !dbServices.includes(s.name)).map((s) => s.name);
    await startDatabases(ctx, m, 'target');
    await startDatabases(ctx, m, 'source');
    // Refused before the target's writers stop: a refusal leaves it serving.
    for (const d of m.databases) refuseUnmatched(m, await databaseDifference(await databaseEnds(ctx, m, d), d, redact));
    await stopServices(ctx, { stack: m.stack, side: m.target, release: m.release }, writers, { redis: m.redis });
    const tables: CarriedBack['tables'] = [];
    for (const d of m.databases) {
      const x = await carryBack(ctx, m, d, back, redact);
      tables.push(...x.tables.map((t) => ({ service: d.service, name: t.name, rows: t.rows_target })));
    }
    const reversed = copies.map((c) => ({ name: c.name, sourcePath: c.targetPath, targetPath: c.sourcePath }));
    for (const c of reversed) await copyVolumeBack(ctx, m, back, c);
    await proveCarried(ctx, m, back, reversed);
    return { tables, volumes: copies.map((c) => c.name) };
  } finally {
    await closeChannel(ctx, back);
  }
}

/**
 * The databases of one side running (a finished migration stopped the source's), accepting
 * connections; from a step on the target, which reaches the source.
 */
export async function startDatabases(ctx: StepContext, m: Migration, which: 'source' | 'target'): Promise<void> {
  const side = which === 'source' ? m.source : m.target;
  const release = which === 'source' ? m.sourceRelease : m.release;
  const reached = which === 'source';
  const where = { stack: m.stack, side, release, reached };
  const cs = await containersOn(ctx, where);
  // A database kept in a server's own Postgres has no container to start.
  const stopped = inContainers(m, which).filter((s) => !cs.some((c) => c.service === s && c.status === 'running'));
  if (stopped.length > 0) await startServices(ctx, where, stopped, cs);
  const t = reached ? ctx.on(side.name) : ctx.transport;
  for (const d of m.databases)
    await awaitAccepting(
      t,
      which === 'source' ? await sourceAt(t, m, d) : await targetAt(t, m, d),
      side.sudo,
      TARGET_ACCEPT_WAIT_MS,
    );
}

/** rsync from the target's volume into the source's, through the back channel (run on the target). */
async function copyVolumeBack(ctx: StepContext, m: Migration, back: Channel, c: VolumeCopy): Promise<void> {
  const r = await ctx.transport.exec(syncCommand(back, c), { sudo: m.target.sudo, timeoutMs: SYNC_TIMEOUT_MS });
  if (r.code !== 0)
    throw new StepError(
      'write-back-failed',
      `${m.target.name}: copying volume ${c.name} back to ${m.source.name} failed: ${ctx.redactor.redact(r.stderr.trim().split('\n').slice(-3).join(' / '))}`,
      `Free space on ${m.source.name} or fix the cause, then run the rollback again.`,
    );
}

/** Every table, sequence and volume equal on both sides, or `write-back-failed` naming what is not. */
async function proveCarried(ctx: StepContext, m: Migration, back: Channel, copies: VolumeCopy[]): Promise<void> {
  const redact = (s: string) => ctx.redactor.redact(s);
  const problems: string[] = [];
  for (const d of m.databases) {
    const x = await databaseDifference(await databaseEnds(ctx, m, d), d, redact);
    problems.push(
      ...[...x.tables, ...x.unmatched].map((t) => rowsPhrase(t, m.target.name, m.source.name)),
      ...x.sequences.map((s) => `sequence ${s} differs`),
    );
  }
  const volumes = await verifyVolumes({ ch: back, copies, source: ctx.transport, target: ctx.on(m.source.name) });
  problems.push(...volumes.filter((v) => !v.manifest_match).map((v) => `volume ${v.name}: manifests differ`));
  if (problems.length > 0)
    throw new StepError(
      'write-back-failed',
      `${m.source.name} does not hold what ${m.target.name} holds after the write-back: ${problems.join('; ')}`,
      `${m.source.name} does not serve (its writers stay stopped). Look at both databases, then run the rollback again.`,
    );
}

/**
 * What rolling back without the write-back drops, per table, read over the operator's
 * connections: the rows on each side, or, while the source's database is stopped (a finished
 * migration stopped it), the rows now on the target against those the report recorded at the
 * move. `undefined` when the target's data never came into use; a phrase saying why when the
 * target cannot be read.
 */
export async function writesLeftBehind(
  target: Transport,
  source: Transport,
  m: Migration,
  redact: (s: string) => string,
): Promise<string[] | undefined> {
  try {
    const live = await targetLive(target, m);
    if (!live) return undefined;
    const out: string[] = [`${m.target.name} took writes since ${live.at}`];
    const saved = await readReport(target, m);
    for (const d of m.databases) {
      const tgt = {
        t: target,
        container: await targetAt(target, m, d),
        sudo: m.target.sudo,
      };
      const srcContainer = await sourceAt(source, m, d).catch(() => undefined);
      const report = srcContainer
        ? compareTables(
            await tableSums(source, srcContainer, d, m.source.sudo, redact, true),
            await tableSums(tgt.t, tgt.container, d, tgt.sudo, redact, true),
          )
        : compareTables(
            (saved?.tables ?? []).map((t) => ({ name: t.name, rows: t.rows_source, checksum: '' })),
            await tableSums(tgt.t, tgt.container, d, tgt.sudo, redact, true),
          );
      const whereSource = srcContainer ? m.source.name : `${m.source.name} (at the move)`;
      out.push(
        ...report
          .filter((t) => t.rows_source !== t.rows_target)
          .map((t) => `${d.db}: ${rowsPhrase(t, m.target.name, whereSource)}`),
      );
    }
    if (m.volumes.length > 0) out.push(`and whatever changed in the volumes ${m.volumes.join(', ')}`);
    return out;
  } catch (e) {
    return [`unknown: ${m.target.name} cannot be read (${redact(e instanceof Error ? e.message : String(e))})`];
  }
}
