/**
 * A database of a replicated migration as its steps reach it (a server's transport, the
 * container, the role), the SQL they run there, classified by psql's rules, and what ends
 * replication on the source: the publication, the slot, the identities set to FULL.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cmd, quiet } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { StepContext } from '../../engine/step.js';
import type { Secret } from '../../core/secret.js';
import { stackDir } from '../../deploy/layout.js';
import type { Transport } from '../../transport/transport.js';
import type { Migration, Side } from '../context.js';
import { pgFailure, psql, runPg, type Instead, type Database } from '../postgres.js';
import * as q from '../replica-sql.js';
import { dbContainer, targetDbContainer } from '../db-container.js';

export type Redact = (s: string) => string;

/** One database in its container on one server. */
export interface Db {
  t: Transport;
  sudo: boolean;
  container: string;
  d: Database;
  redact: Redact;
}

/** A psql failure of replication that psql's own codes do not tell more precisely. */
const REPLICATION: Instead = {
  code: 'replication-failed',
  hint: 'Read the error; fix the database, then run migrate again with --resume.',
};
const SQL_TIMEOUT_MS = 10 * 60_000;

/** Runs `text`; its output, trimmed. */
export async function sql(db: Db, text: string): Promise<string> {
  const out = await runPg(db.t, psql(db.container, db.d, text), {
    sudo: db.sudo,
    what: `psql in ${db.container}`,
    redact: db.redact,
    instead: REPLICATION,
    timeoutMs: SQL_TIMEOUT_MS,
  });
  return out.trim();
}

/** SQL on stdin: for statements holding a secret, and for many at once. */
export async function sqlIn(db: Db, text: string | Secret): Promise<void> {
  await runPg(db.t, q.psqlStdin(db.container, db.d), {
    sudo: db.sudo,
    stdin: text,
    what: `psql in ${db.container}`,
    redact: db.redact,
    instead: REPLICATION,
    timeoutMs: SQL_TIMEOUT_MS,
  });
}

export const lines = (s: string): string[] =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** Where the source keeps the tables whose identity the migration set to FULL, to put them back. */
export const identityPath = (stack: string, d: Database): string => `${stackDir(stack)}/replica-identity-${d.service}`;

/**
 * The database of `d` on the source and on the target, as a step reaches them: each server
 * through `ctx.on`, only when it is used (a step declares the hosts it reaches).
 */
export function dbsOf(ctx: StepContext, m: Migration, d: Database) {
  const redact: Redact = (x) => ctx.redactor.redact(x);
  const source = () => ctx.on(m.source.name);
  const target = () => ctx.on(m.target.name);
  return {
    source: (container: string): Db => ({ t: source(), sudo: m.source.sudo, container, d, redact }),
    target: (container: string): Db => ({ t: target(), sudo: m.target.sudo, container, d, redact }),
    findSource: () => dbContainer(source(), m.source, m.sourceRelease.project, d.service),
    /** `fresh`: the target's database may meet its first start (waits until it accepts connections). */
    findTarget: (fresh: boolean) =>
      fresh ? targetDbContainer(target(), m, d) : dbContainer(target(), m.target, m.release.project, d.service),
  };
}

/** One database of the source, where a migration of `stack` replicates from; `transport` reaches the source. */
export interface SourceDb {
  side: Pick<Side, 'name' | 'sudo'>;
  transport: Transport;
  stack: string;
  container: string;
  d: Database;
  /** For the tools' words in errors (none redacted when absent). */
  redact?: Redact;
}

const sourceDb = (o: SourceDb, redact: Redact = o.redact ?? ((s) => s)): Db => ({
  t: o.transport,
  sudo: o.side.sudo,
  container: o.container,
  d: o.d,
  redact,
});

/** What replication left on the source: a publication, a slot, identities to put back. */
export async function replicationLeft(o: SourceDb): Promise<string[]> {
  const db = sourceDb(o);
  const [pub, slot, ids] = await Promise.all([
    sql(db, q.publicationExistsSql(o.d)),
    sql(db, q.slotSql(o.d)),
    o.transport.exec(quiet(cmd('test', '-e', identityPath(o.stack, o.d))), { sudo: o.side.sudo }),
  ]);
  return [
    ...(pub === '1' ? [`publication ${q.replicaName(o.d)}`] : []),
    ...(slot ? [`replication slot ${q.replicaName(o.d)}`] : []),
    ...(ids.code === 0 ? [`identities of ${o.d.db} to put back`] : []),
  ];
}

/** How long dropping the slot waits for its sender to exit: 60 tries, 500 ms apart. */
export const SLOT_WAIT_S = 30;

/**
 * Drops the publication and the slot (once its sender has exited, within `SLOT_WAIT_S`), and
 * puts back the identities set to FULL: on the source, and on `target` when given.
 */
export async function endReplication(
  o: SourceDb & { redact: Redact; target?: { container: string; transport: Transport; side: Pick<Side, 'sudo'> } },
): Promise<void> {
  const db = sourceDb(o, o.redact);
  await sql(db, q.dropPublicationSql(o.d));
  await dropSlot(db);
  const recorded = await o.transport.exec(quiet(cmd('cat', identityPath(o.stack, o.d))), { sudo: o.side.sudo });
  const tables = recorded.code === 0 ? lines(recorded.stdout) : [];
  if (tables.length > 0) {
    await sqlIn(db, q.replicaIdentitySql(tables, false));
    if (o.target)
      await sqlIn(
        { t: o.target.transport, sudo: o.target.side.sudo, container: o.target.container, d: o.d, redact: o.redact },
        q.replicaIdentitySql(tables, false),
      );
  }
  await o.transport.exec(cmd('rm', '-f', identityPath(o.stack, o.d)), { sudo: o.side.sudo });
}

/** Drops the source's slot once its sender has exited (a slot left behind keeps WAL on the source's disk). */
export async function dropSlot(db: Db): Promise<void> {
  for (let i = 0; i < SLOT_WAIT_S * 2; i++) {
    await sql(db, q.dropSlotSql(db.d));
    if (!(await sql(db, q.slotSql(db.d)))) return;
    await sleep(500);
  }
  throw new StepError(
    'replication-failed',
    `${db.t.name}: the replication slot ${q.replicaName(db.d)} is still in use after ${SLOT_WAIT_S} s`,
    `Drop it once the target no longer uses it: ${q.dropSlotSql(db.d)} (WAL piles up behind it).`,
  );
}

/**
 * Drops the subscription (and its slot on the source, through the tunnel); without the
 * tunnel, lets go of it and drops the slot on the source (within `SLOT_WAIT_S`).
 */
export async function dropSubscription(ctx: StepContext, m: Migration, d: Database, tgt: string): Promise<void> {
  const dbs = dbsOf(ctx, m, d);
  const target = dbs.target(tgt);
  const r = await target.t.exec(psql(tgt, d, q.dropSubscriptionSql(d)), { sudo: target.sudo, timeoutMs: 60_000 });
  if (!pgFailure(r, { host: target.t.name, what: `psql in ${tgt}`, redact: target.redact })) return;
  await sql(target, q.detachSubscriptionSql(d));
  await dropSlot(dbs.source(await dbs.findSource()));
}
