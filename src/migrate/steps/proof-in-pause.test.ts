import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmd, quiet, render } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import { drive } from '../../engine/test-helpers.js';
import type { RecordedCall } from '../../transport/recording.js';
import { checksumSql, TABLES_SQL } from '../postgres.js';
import { contextFor, failure, inspectLine, migration, pg, servers, SRC, TGT } from './db-fixture.js';
import { verifyStep } from './proof-in-pause.js';
import { reportPath, type SavedReport } from '../report.js';

const report = render(quiet(cmd('cat', reportPath('shop'))));
const sums = checksumSql(['public.orders']);
const calls = (c: RecordedCall[]) =>
  c.map((x) => (x.kind === 'exec' ? x.line : x.kind === 'upload' ? `upload ${x.path} ${x.mode.toString(8)}` : x.path));

function answered(targetRows: string) {
  const s = servers();
  for (const [t, c, rows] of [
    [s.source, SRC, 'public.orders|3|abc\n'],
    [s.target, TGT, targetRows],
  ] as const)
    t.when(pg(c, TABLES_SQL), { stdout: 'public.orders\n' }).when(pg(c, sums), { stdout: rows });
  return s;
}

test('verify: check proves every table on both sides; apply records the report; verify reads it; rollback removes it', async () => {
  const m = migration();
  const step = verifyStep({
    id: 'shop/migrate/verify',
    m,
    copies: async () => [],
    dependsOn: ['shop/migrate/dump/db'],
  });
  assert.deepEqual([step.host, step.reaches, step.dependsOn], ['new', ['old'], ['shop/migrate/dump/db']]);
  const s = answered('public.orders|3|abc\n');
  s.target
    .when(report, { code: 1 }, { times: 1 })
    .when(report, { stdout: JSON.stringify({ from: 'old', release: 'r2' }) })
    .when(`rm -f ${reportPath('shop')}`, {});
  const { checked, verified } = await drive(step, contextFor(step, s), { rollback: true });
  const tables = [{ name: 'public.orders', rows_source: 3, rows_target: 3, checksum_match: true }];
  const observed = checked.observed as { recorded: boolean; report: SavedReport };
  assert.equal(observed.recorded, false);
  assert.deepEqual(
    { ...observed.report, at: 'AT' },
    { from: 'old', to: 'new', release: 'r2', at: 'AT', tables, volumes: [] },
  );
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(m.marks.tables, tables);
  assert.deepEqual(s.source.lines, [inspectLine, pg(SRC, TABLES_SQL), pg(SRC, sums)]);
  assert.deepEqual(calls(s.target.calls), [
    report,
    inspectLine,
    pg(TGT, TABLES_SQL),
    pg(TGT, sums),
    `upload ${reportPath('shop')} 600`,
    report,
    `rm -f ${reportPath('shop')}`,
  ]);
  const written = s.target.calls.find((c) => c.kind === 'upload');
  assert.deepEqual(JSON.parse(String(written?.kind === 'upload' ? written.content : '')), observed.report);
});

test('verify: a report recorded by an earlier run is taken as it is, for the migration report', async () => {
  const m = migration();
  const step = verifyStep({ id: 'shop/migrate/verify', m, copies: async () => [], dependsOn: [] });
  const saved = { from: 'old', to: 'new', release: 'r2', at: 'then', tables: [], volumes: [] };
  const s = servers();
  s.target.when(report, { stdout: JSON.stringify(saved) });
  const { checked } = await drive(step, contextFor(step, s));
  assert.deepEqual(checked, { needed: false, observed: { recorded: true, report: saved } });
  assert.deepEqual(s.target.lines, [report]);
  assert.deepEqual(s.source.lines, []);
});

test('verify: a table that differs fails the check with verify-failed; nothing is recorded', async () => {
  const m = migration();
  const step = verifyStep({ id: 'shop/migrate/verify', m, copies: async () => [], dependsOn: [] });
  const s = answered('public.orders|2|abd\n');
  s.target.when(report, { code: 1 });
  const error = await failure(step.check(contextFor(step, s)));
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'verify-failed');
  assert.match(
    error.message,
    /^shop: the target does not match the source: table public\.orders: 3 rows on the source, 2 on the target/,
  );
  assert.equal(
    s.target.calls.some((c) => c.kind === 'upload'),
    false,
  );
});
