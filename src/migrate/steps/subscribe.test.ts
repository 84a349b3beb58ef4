import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../../shell/command.js';
import { Secret } from '../../core/secret.js';
import { StepError } from '../../engine/errors.js';
import { drive } from '../../engine/test-helpers.js';
import type { RecordedCall } from '../../transport/recording.js';
import { TABLES_SIZE_SQL, TABLES_SQL } from '../postgres.js';
import * as q from '../replica-sql.js';
import { contextFor, d, failure, inspectLine, migration, pg, ready, servers, SRC, TGT } from './db-fixture.js';
import { cutoverStep, subscribeStep } from './subscribe.js';

const m = migration({ mode: 'replicate', passwords: { db: new Secret('s3cret') } });
const stdinOf = (container: string) => render(q.psqlStdin(container, d));
const calls = (c: RecordedCall[]) =>
  c.flatMap((x) => (x.kind === 'exec' ? [x.line + (x.stdin === undefined ? '' : ` <<< ${x.stdin}`)] : []));
const findTarget = [inspectLine, ready(TGT)];

test('subscribe: check finds no subscription; apply empties the tables and subscribes (password on stdin); verify awaits the copy; rollback drops it', async () => {
  const step = subscribeStep({ id: 'shop/migrate/subscribe/db', m, d, dependsOn: ['shop/migrate/tunnel/db'] });
  assert.deepEqual([step.host, step.reaches, step.phase], ['new', ['old'], 'transfer']);
  const s = servers();
  s.target
    .when(pg(TGT, q.subscriptionExistsSql(d)), { stdout: '0\n' })
    .when(pg(TGT, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(pg(TGT, 'TRUNCATE public.orders'), {})
    .when(stdinOf(TGT), {})
    .when(pg(TGT, q.subscriptionTablesSql(d)), { stdout: 'public.orders|r\n' })
    .when(pg(TGT, q.dropSubscriptionSql(d)), {});
  s.source
    .when(pg(SRC, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(pg(SRC, q.slotSql(d)), { stdout: '' })
    .when(pg(SRC, TABLES_SIZE_SQL), { stdout: '81920\n' });
  const sent: [string, number][] = [];
  const ctx = { ...contextFor(step, s), transferred: (k: string, n: number) => void sent.push([k, n]) };
  const { checked, verified } = await drive(step, ctx, { rollback: true });
  // The initial copy is counted once, as the size of the source's tables.
  assert.deepEqual(sent, [['replication', 81920]]);
  assert.deepEqual(checked.observed, { container: TGT, subscribed: false });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(calls(s.target.calls), [
    ...[...findTarget, pg(TGT, q.subscriptionExistsSql(d))],
    ...[...findTarget, pg(TGT, TABLES_SQL), pg(TGT, 'TRUNCATE public.orders')],
    // The statement holds the password: a Secret, never shown.
    `${stdinOf(TGT)} <<< [REDACTED]`,
    ...[...findTarget, pg(TGT, q.subscriptionTablesSql(d))],
    ...[...findTarget, pg(TGT, q.dropSubscriptionSql(d))],
  ]);
  // No slot left by an earlier attempt: nothing to drop before subscribing.
  assert.deepEqual(s.source.lines, [
    ...[inspectLine, pg(SRC, q.slotSql(d)), inspectLine, pg(SRC, TABLES_SQL)],
    pg(SRC, TABLES_SIZE_SQL),
  ]);
});

test("subscribe again after an earlier attempt's cut-over: its slot on the source is dropped first", async () => {
  const step = subscribeStep({ id: 'shop/migrate/subscribe/db', m, d, dependsOn: [] });
  const s = servers();
  s.target
    .when(pg(TGT, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(pg(TGT, 'TRUNCATE public.orders'), {})
    .when(stdinOf(TGT), {});
  s.source
    .when(pg(SRC, q.slotSql(d)), { stdout: '0/16B3748|f\n' }, { times: 1 })
    .when(pg(SRC, q.dropSlotSql(d)), {})
    .when(pg(SRC, q.slotSql(d)), { stdout: '' });
  await step.apply(contextFor(step, s), { container: TGT, subscribed: false });
  assert.deepEqual(s.source.lines, [
    inspectLine,
    pg(SRC, q.slotSql(d)),
    pg(SRC, q.dropSlotSql(d)),
    pg(SRC, q.slotSql(d)),
  ]);
  assert.equal(s.target.lines.at(-1), `${stdinOf(TGT)}`);
});

test('subscribe: an error psql reports at exit 0 fails the subscription (replication-failed); rollback without the tunnel lets go of it and drops the slot on the source', async () => {
  const step = subscribeStep({ id: 'shop/migrate/subscribe/db', m, d, dependsOn: [] });
  const s = servers();
  s.target
    .when(pg(TGT, TABLES_SQL), { stdout: '' })
    .when(stdinOf(TGT), { code: 0, stderr: 'psql:<stdin>:1: ERROR:  publication "ferry_db" does not exist\n' })
    .when(pg(TGT, q.dropSubscriptionSql(d)), { code: 1, stderr: 'ERROR:  could not connect to publisher\n' })
    .when(pg(TGT, q.detachSubscriptionSql(d)), {});
  s.source.when(pg(SRC, q.dropSlotSql(d)), {}).when(pg(SRC, q.slotSql(d)), { stdout: '' });
  const ctx = contextFor(step, s);
  const error = await failure(step.apply(ctx, { container: TGT, subscribed: false }));
  const beforeRollback = s.source.lines.length;
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'replication-failed');
  assert.match(
    error.message,
    /^new: psql in shop-db-1: psql reported an error:\npsql:<stdin>:1: ERROR: {2}publication/,
  );
  await step.rollback(ctx, { container: TGT, subscribed: false });
  assert.deepEqual(s.target.lines.slice(-4), [
    ...findTarget,
    pg(TGT, q.dropSubscriptionSql(d)),
    pg(TGT, q.detachSubscriptionSql(d)),
  ]);
  assert.deepEqual(s.source.lines.slice(beforeRollback), [
    inspectLine,
    pg(SRC, q.dropSlotSql(d)),
    pg(SRC, q.slotSql(d)),
  ]);
});

const SEQ = 'public.orders_id_seq';
const setval = `SELECT setval('${SEQ}', 7, true);`;

function cuttingOver(confirmed: string) {
  const s = servers();
  s.target
    .when(pg(TGT, q.subscriptionExistsSql(d)), { stdout: '1\n' }, { times: 2 })
    .when(pg(TGT, q.subscriptionExistsSql(d)), { stdout: '0\n' })
    .when(pg(TGT, q.SEQUENCES_SQL), { stdout: `${SEQ}=1\n` }, { times: 1 })
    .when(pg(TGT, q.SEQUENCES_SQL), { stdout: `${SEQ}=7\n` })
    .when(pg(TGT, q.subscriptionTablesSql(d)), { stdout: 'public.orders|r\n' })
    .when(stdinOf(TGT), {});
  s.source
    .when(pg(SRC, q.SEQUENCES_SQL), { stdout: `${SEQ}=7\n` })
    .when(pg(SRC, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(pg(SRC, q.CUT_OVER_SQL), { stdout: `lsn 0/16B3748\n${setval}\n` })
    .when(pg(SRC, q.confirmedSql(d, '0/16B3748')), { stdout: `${confirmed}\n` });
  return s;
}

test('cut-over: containers found once at the check; apply awaits the confirmed position, sets the sequences and lets go of the subscription', async () => {
  const step = cutoverStep({ id: 'shop/migrate/cutover/db', m, d, dependsOn: ['shop/migrate/freeze'] });
  assert.deepEqual([step.host, step.reaches, step.phase], ['new', ['old'], 'deploy']);
  const s = cuttingOver('t');
  const { checked, verified } = await drive(step, contextFor(step, s), { rollback: true });
  assert.deepEqual(checked.observed, { source: SRC, target: TGT, subscribed: true, sequences: [SEQ] });
  assert.deepEqual(verified, { ok: true });
  const state = [pg(TGT, q.subscriptionExistsSql(d)), pg(TGT, q.SEQUENCES_SQL)];
  assert.deepEqual(calls(s.target.calls), [
    inspectLine,
    ...state,
    pg(TGT, q.subscriptionExistsSql(d)),
    pg(TGT, q.subscriptionTablesSql(d)),
    `${stdinOf(TGT)} <<< ${setval}\n${q.detachSubscriptionSql(d)};\n`,
    ...state,
  ]);
  assert.deepEqual(s.source.lines, [
    inspectLine,
    pg(SRC, q.SEQUENCES_SQL),
    pg(SRC, TABLES_SQL),
    pg(SRC, q.CUT_OVER_SQL),
    pg(SRC, q.confirmedSql(d, '0/16B3748')),
    pg(SRC, q.SEQUENCES_SQL),
  ]);
});

test('cut-over: a position not confirmed within the bound is replication-behind; nothing is set on the target', async () => {
  const step = cutoverStep({ id: 'shop/migrate/cutover/db', m, d, dependsOn: [], catchUpTimeoutMs: 0 });
  const s = cuttingOver('f');
  const observed = { source: SRC, target: TGT, subscribed: true, sequences: [SEQ] };
  const error = await failure(step.apply(contextFor(step, s), observed));
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'replication-behind');
  assert.equal(error.message, "new: demo has not confirmed the source's position 0/16B3748 within 0 s");
  assert.equal(
    s.target.calls.some((c) => c.kind === 'exec' && c.stdin !== undefined),
    false,
  );
  assert.equal(s.target.lines.includes(inspectLine), false, 'the containers come from the observation');
});
