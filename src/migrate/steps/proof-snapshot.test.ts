import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmd, quiet, render } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import { drive } from '../../engine/test-helpers.js';
import type { RecordedCall } from '../../transport/recording.js';
import { stackDir } from '../../deploy/layout.js';
import { checksumSql, TABLES_SQL } from '../postgres.js';
import { contextFor, d, failure, inspectLine, migration, pg, servers, SRC, TGT } from './db-fixture.js';
import { DONE, proofCommand, proofSql, proofStep, startProofs } from './proof-snapshot.js';
import { reportPath } from '../report.js';

const m = migration({ mode: 'replicate' });
const base = `${stackDir('shop')}/proof-db`;
const report = render(quiet(cmd('cat', reportPath('shop'))));
const output = render(quiet(cmd('cat', `${base}.out`)));
const holds = pg(
  TGT,
  "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ferry-proof-db' AND backend_xmin IS NOT NULL",
);
const sums = checksumSql(['public.orders']);
const calls = (c: RecordedCall[]) =>
  c.map((x) => (x.kind === 'exec' ? x.line : x.kind === 'upload' ? `upload ${x.path} ${x.mode.toString(8)}` : x.path));
const saved = { from: 'old', to: 'new', release: 'r2', at: 'then', tables: null, volumes: [] };

test('the proofs start on the target, in the pause: the tables listed, the SQL uploaded, psql detached, its snapshot awaited', async () => {
  const s = servers();
  s.target
    .when(pg(TGT, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(`rm -f ${base}.out ${base}.partial`, {})
    .when(render(proofCommand(TGT, d, base)), {})
    .when(holds, { stdout: '0\n' }, { times: 1 })
    .when(output, { code: 1 }, { times: 1 })
    .when(holds, { stdout: '1\n' })
    .when(output, { code: 1 });
  const step = { id: 'shop/migrate/verify', host: 'new', reaches: ['old'] };
  await startProofs(contextFor(step, s), m);
  assert.deepEqual(calls(s.target.calls), [
    inspectLine,
    pg(TGT, TABLES_SQL),
    `rm -f ${base}.out ${base}.partial`,
    `upload ${base}.sql 600`,
    render(proofCommand(TGT, d, base)),
    holds,
    output,
    holds,
    output,
  ]);
  const sql = s.target.calls.find((c) => c.kind === 'upload');
  assert.equal(sql?.kind === 'upload' ? sql.content : '', proofSql(['public.orders']));
  assert.deepEqual(s.source.lines, []);
});

test('a proof that ends without its snapshot fails at once with verify-failed, its error redacted', async () => {
  const s = servers();
  s.target
    .when(pg(TGT, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(/^rm -f |^sh -c /, {})
    .when(holds, { stdout: '0\n' })
    .when(output, { stdout: 'psql: error: FATAL:  password authentication failed (s3cret)\n' });
  const step = { id: 'shop/migrate/verify', host: 'new', reaches: ['old'] };
  const error = await failure(startProofs(contextFor(step, s), m));
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'verify-failed');
  assert.equal(
    error.message,
    'new: the proof of demo did not take its snapshot: psql: error: FATAL:  password authentication failed ([REDACTED])',
  );
});

test('proof: check finds the tables unproven; apply compares the proof with the source and completes the report; rollback changes nothing', async () => {
  const step = proofStep({ id: 'shop/migrate/proof', m, dependsOn: ['shop/migrate/start'] });
  assert.deepEqual([step.host, step.reaches, step.phase], ['new', ['old'], 'verify']);
  const tables = [{ name: 'public.orders', rows_source: 3, rows_target: 3, checksum_match: true }];
  const s = servers();
  s.target
    .when(report, { stdout: JSON.stringify(saved) }, { times: 2 })
    .when(report, { stdout: JSON.stringify({ ...saved, tables }) })
    .when(output, { stdout: `snapshot\npublic.orders|3|abc\n${DONE}\n` })
    .when(/^rm -f /, {});
  s.source
    .when(pg(SRC, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(pg(SRC, sums), { stdout: 'public.orders|3|abc\n' });
  const { checked, verified } = await drive(step, contextFor(step, s), { rollback: true });
  assert.deepEqual(checked.observed, { proven: false, databases: ['db'] });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(m.marks.tables, tables);
  assert.deepEqual(calls(s.target.calls), [
    report,
    report,
    output,
    `upload ${reportPath('shop')} 600`,
    `rm -f ${base}.sql ${base}.out`,
    report,
  ]);
  assert.deepEqual(s.source.lines, [inspectLine, pg(SRC, TABLES_SQL), pg(SRC, sums)]);
});

test('proof: a proof whose process is gone without a result is proof-lost', async () => {
  const step = proofStep({ id: 'shop/migrate/proof', m, dependsOn: [] });
  const s = servers();
  s.target
    .when(report, { stdout: JSON.stringify(saved) })
    .when(output, { code: 1 })
    .when(render(quiet(cmd('pgrep', '-f', '[P]GAPPNAME=ferry-proof-db '))), { code: 1 });
  s.source
    .when(pg(SRC, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(pg(SRC, sums), { stdout: 'public.orders|3|abc\n' });
  const ctx = contextFor(step, s);
  const error = await failure(step.apply(ctx, { proven: false, databases: ['db'] }));
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'proof-lost');
  assert.equal(error.message, 'new: the proof of demo stopped without a result');
  assert.equal(
    s.target.calls.some((c) => c.kind === 'upload'),
    false,
  );
});
