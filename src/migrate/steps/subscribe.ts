/**
 * The target's side of a replicated database (see replicate.ts): the subscription that
 * copies every table and streams every change while the stack runs, and the cut-over in
 * the write pause, when the target confirms the source's last position, the sequences are
 * set and the subscription is let go of.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext, StepPlace } from '../../engine/step.js';
import { Secret } from '../../core/secret.js';
import type { Migration } from '../context.js';
import { TABLES_SIZE_SQL, TABLES_SQL, type Database } from '../postgres.js';
import * as q from '../replica-sql.js';
import { TARGET_ACCEPT_WAIT_MS } from '../db-container.js';
import { dbsOf, dropSlot, dropSubscription, lines, sql, sqlIn, SLOT_WAIT_S, type Db } from './replica-db.js';

/** The subscription's tables and states; ready when every source table is copied and streaming. */
async function copyState(source: Db, target: Db): Promise<{ ready: boolean; copying: string[] }> {
  const [want, have] = await Promise.all([sql(source, TABLES_SQL), sql(target, q.subscriptionTablesSql(target.d))]);
  const states = new Map(lines(have).map((l) => [l.slice(0, l.lastIndexOf('|')), l.slice(l.lastIndexOf('|') + 1)]));
  const copying = lines(want).filter((t) => states.get(t) !== 'r');
  return { ready: copying.length === 0, copying };
}

const passwordOf = (m: Migration, d: Database): string => m.passwords?.[d.service]?.reveal() ?? '';

/** How long the copy may take unless told: it runs while the stack serves from the source. */
export const COPY_TIMEOUT_MS = 6 * 60 * 60_000;

/** What the subscription's check saw on the target. */
export interface SubscribeObserved {
  /** The target's database container. */
  container: string;
  subscribed: boolean;
}

const subscribed = async (target: Db) => (await sql(target, q.subscriptionExistsSql(target.d))) === '1';

/** Acts on the target (its tables emptied, its subscription) and reaches the source (read, and its slot). */
export function subscribeStep(
  o: StepPlace & { m: Migration; d: Database; copyTimeoutMs?: number },
): Step<SubscribeObserved> {
  const { m, d } = o;
  const copyTimeoutMs = o.copyTimeoutMs ?? COPY_TIMEOUT_MS;
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'transfer',
    title: `subscribe ${m.target.name}'s ${d.db} to ${m.source.name}'s, copy and stream`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Subscribe the target's ${d.db} to the source's publication through the tunnel: it copies every table while the stack keeps running and serving, then applies every change as it happens. The password goes in on stdin. The target's Postgres is awaited for at most ${TARGET_ACCEPT_WAIT_MS / 1000} s to accept connections.`,
      commands: [q.createSubscriptionInput(d, 'PASSWORD').trim()],
      verify: `Every table of the source is copied and streaming (state r in pg_subscription_rel), polled every 500 ms for at most ${Math.round(copyTimeoutMs / 60_000)} min.`,
      undo: `${q.dropSubscriptionSql(d)} (without the tunnel: the subscription let go of, and the source's slot dropped once its sender exited, within ${SLOT_WAIT_S} s)`,
    }),
    async check(ctx) {
      const dbs = dbsOf(ctx, m, d);
      const container = await dbs.findTarget(true);
      if (await subscribed(dbs.target(container))) return { needed: false, observed: { container, subscribed: true } };
      return {
        needed: true,
        change: { summary: `subscription ${q.replicaName(d)}: copy every table, then stream changes` },
        observed: { container, subscribed: false },
      };
    },
    async apply(ctx) {
      const dbs = dbsOf(ctx, m, d);
      const target = dbs.target(await dbs.findTarget(true));
      // Rows an earlier attempt copied would collide with the copy: the target serves nothing
      // yet (the plan has this step done for good once its data is in use, see ../live.ts).
      const left = lines(await sql(target, TABLES_SQL));
      if (left.length > 0) await sql(target, `TRUNCATE ${left.join(', ')}`);
      // An earlier attempt's cut-over let go of its subscription but left the source's slot
      // (the clean-up drops it once the target serves): a new subscription needs the name.
      const source = dbs.source(await dbs.findSource());
      if (await sql(source, q.slotSql(d))) await dropSlot(source);
      await sqlIn(target, new Secret(q.createSubscriptionInput(d, passwordOf(m, d))));
    },
    async verify(ctx) {
      const dbs = dbsOf(ctx, m, d);
      const deadline = Date.now() + copyTimeoutMs;
      for (;;) {
        const source = dbs.source(await dbs.findSource());
        const s = await copyState(source, dbs.target(await dbs.findTarget(true)));
        if (s.ready) {
          // The initial copy carried the tables' data: their size on the source stands for it.
          ctx.transferred('replication', Number(await sql(source, TABLES_SIZE_SQL)) || 0);
          return { ok: true };
        }
        if (Date.now() > deadline) return { ok: false, message: `still copying: ${s.copying.join(', ')}` };
        await sleep(500);
      }
    },
    // Whatever apply got to: the subscription is dropped if there is one (DROP ... IF EXISTS).
    async rollback(ctx) {
      await dropSubscription(ctx, m, d, await dbsOf(ctx, m, d).findTarget(true));
    },
  };
}

/** What the cut-over's check saw: both containers (found once: it runs in the pause), and what was left to do. */
export interface CutoverObserved {
  source: string;
  target: string;
  subscribed: boolean;
  /** Sequences whose values differ between the sides. */
  sequences: string[];
}

async function cutoverState(source: Db, target: Db) {
  const [exists, a, b] = await Promise.all([
    sql(target, q.subscriptionExistsSql(target.d)),
    sql(source, q.SEQUENCES_SQL),
    sql(target, q.SEQUENCES_SQL),
  ]);
  return { subscribed: exists === '1', sequences: q.sequencesDiffer(a, b) };
}

interface Wait {
  deadline: number;
  everyMs: number;
  message: string;
  hint: string;
}

/** Until `done` holds (`first`: its first answer, when known), every `everyMs`; `replication-behind` after the deadline. */
async function until(first: boolean | undefined, done: () => Promise<boolean>, w: Wait): Promise<void> {
  for (let ok = first ?? (await done()); !ok; ok = await done()) {
    if (Date.now() > w.deadline) throw new StepError('replication-behind', w.message, w.hint);
    await sleep(w.everyMs);
  }
}

/** Acts on the target (sequences, subscription) and reaches the source (read: its position and sequences). */
export function cutoverStep(
  o: StepPlace & { m: Migration; d: Database; catchUpTimeoutMs?: number },
): Step<CutoverObserved> {
  const { m, d } = o;
  const catchUpMs = o.catchUpTimeoutMs ?? m.maxPauseMs;
  const ends = (ctx: StepContext, x: { source: string; target: string }) => {
    const dbs = dbsOf(ctx, m, d);
    return { source: dbs.source(x.source), target: dbs.target(x.target) };
  };
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'deploy',
    title: `${m.target.name}'s ${d.db} catches up with ${m.source.name}'s; sequences set; replication ends`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Writers stopped: wait until the target has confirmed the source's last position (at most ${catchUpMs / 1000} s (migrate.max_pause), else replication-behind), set every sequence to the source's value, then drop the subscription here (the source's slot is dropped by the clean-up, once the target serves).`,
      commands: [q.CUT_OVER_SQL, q.confirmedSql(d, 'LSN'), q.detachSubscriptionSql(d)],
      verify: 'The sequences are equal on both sides and no subscription is left.',
      undo: 'Nothing: the source was only read.',
    }),
    async check(ctx) {
      const dbs = dbsOf(ctx, m, d);
      const found = { source: await dbs.findSource(), target: await dbs.findTarget(false) };
      const s = await cutoverState(dbs.source(found.source), dbs.target(found.target));
      const observed = { ...found, ...s };
      if (!s.subscribed && s.sequences.length === 0) return { needed: false, observed };
      return {
        needed: true,
        change: { summary: `catch up, ${s.sequences.length} sequences to set, end the subscription` },
        observed,
      };
    },
    async apply(ctx, observed) {
      const { source, target } = ends(ctx, observed);
      const deadline = Date.now() + catchUpMs;
      const [exists, copied] = await Promise.all([sql(target, q.subscriptionExistsSql(d)), copyState(source, target)]);
      const isSubscribed = exists === '1';
      if (isSubscribed)
        await until(copied.ready, async () => (await copyState(source, target)).ready, {
          deadline,
          everyMs: 200,
          message: `${m.target.name}: ${d.db} is still copying tables`,
          hint: 'Run migrate again with --resume (the writers stay stopped until it ends), or roll back.',
        });
      // The source's last position and its sequences, read at once: its writers are stopped.
      const { lsn, setvals } = q.parseCutOver(await sql(source, q.CUT_OVER_SQL));
      if (lsn === undefined)
        throw new StepError(
          'replication-failed',
          `${m.source.name}: ${d.db} gave no WAL position for the cut-over`,
          'Check the source database (docker logs), then run migrate again with --resume, or roll back.',
        );
      if (isSubscribed)
        await until(undefined, async () => (await sql(source, q.confirmedSql(d, lsn))) === 't', {
          deadline,
          everyMs: 50,
          message: `${m.target.name}: ${d.db} has not confirmed the source's position ${lsn} within ${catchUpMs / 1000} s`,
          hint: 'Check the tunnel and the target database (docker logs), then run migrate again with --resume, or roll back.',
        });
      // The sequences set and the subscription let go of in one call. The source's slot is
      // dropped by the clean-up once the target serves: dropping it waits for its sender to exit.
      const script = [...setvals, ...(isSubscribed ? [`${q.detachSubscriptionSql(d)};`] : [])];
      if (script.length > 0) await sqlIn(target, `${script.join('\n')}\n`);
    },
    async verify(ctx, observed) {
      const { source, target } = ends(ctx, observed);
      const s = await cutoverState(source, target);
      return !s.subscribed && s.sequences.length === 0
        ? { ok: true }
        : {
            ok: false,
            message: s.subscribed ? 'the subscription is still there' : `sequences differ: ${s.sequences.join(', ')}`,
          };
    },
    async rollback() {},
  };
}
