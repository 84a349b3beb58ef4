import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmd, quiet, render, type Command } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import { drive } from '../../engine/test-helpers.js';
import { onTarget } from '../channel.js';
import {
  DUMP_TABLES_SQL,
  load,
  postData,
  preData,
  recreateDatabase,
  removeFile,
  restDump,
  schemaDump,
  schemaFile,
  SCHEMA_SQL,
  snapshotSession,
  stream,
  tableDump,
  writeFile,
} from '../dump-commands.js';
import { countSql, TABLES_SQL } from '../postgres.js';
import { contextFor, d, failure, migration, pg, ready, servers, SRC, TGT, inspectLine } from './db-fixture.js';
import { dumpStep } from './dump.js';
import { reportPath } from '../report.js';

const m = migration();
const step = dumpStep({ id: 'shop/migrate/dump/db', m, d, dependsOn: ['shop/migrate/freeze'] });
const report = render(quiet(cmd('cat', reportPath('shop'))));
const SNAP = '00000003-0000001B-1';
const TABLE = { pattern: '"public"."orders"', bytes: 8192 };
const via = (c: Command) => onTarget(m.ch, c);

test('dump: acts on the target, reaches the source; its factory takes its place in the plan', () => {
  assert.deepEqual(
    [step.id, step.host, step.reaches, step.phase, step.dependsOn],
    ['shop/migrate/dump/db', 'new', ['old'], 'deploy', ['shop/migrate/freeze']],
  );
});

test('dump: check compares the schema and lists the tables; apply streams them from one snapshot; verify counts; rollback changes nothing', async () => {
  const s = servers();
  s.target
    .when(report, { code: 1 })
    .when(pg(TGT, SCHEMA_SQL), { stdout: '' })
    .when(pg(TGT, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(pg(TGT, countSql(['public.orders'])), { stdout: 'public.orders|3|\n' })
    .when(/^docker exec shop-db-1 (psql|pg_restore|rm) /, {});
  s.source
    .when(pg(SRC, SCHEMA_SQL), { stdout: 'relation r public.orders\n' }, { times: 1 })
    .when(pg(SRC, SCHEMA_SQL), { stdout: '' })
    .when(pg(SRC, DUMP_TABLES_SQL), { stdout: `${TABLE.pattern}|${TABLE.bytes}\n` })
    .when(render(snapshotSession(SRC, d)), { stdout: `${SNAP}\n` })
    .when(pg(SRC, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(/^bash -o pipefail -c /, {});
  s.source.when(pg(SRC, countSql(['public.orders'])), { stdout: 'public.orders|3|\n' });
  const ctx = contextFor(step, s);
  const { checked, verified } = await drive(step, ctx, { rollback: true });
  assert.deepEqual(checked.observed, { state: 'move', tables: 1, bytes: 8192 });
  assert.equal(checked.change?.summary, 'dump demo: 1 tables, 8 KiB, to new in up to 1 streams');
  assert.deepEqual(verified, { ok: true });
  const file = schemaFile(d);
  assert.deepEqual(s.source.lines, [
    // check
    inspectLine,
    pg(SRC, SCHEMA_SQL),
    pg(SRC, DUMP_TABLES_SQL),
    // apply
    inspectLine,
    render(snapshotSession(SRC, d)),
    pg(SRC, DUMP_TABLES_SQL),
    render(stream(schemaDump(SRC, d, SNAP), via(writeFile(TGT, file)))),
    render(stream(tableDump(SRC, d, SNAP, [TABLE]), via(load(TGT, d)))),
    render(stream(restDump(SRC, d, SNAP, [TABLE]), via(load(TGT, d)))),
    // verify
    inspectLine,
    pg(SRC, SCHEMA_SQL),
    pg(SRC, TABLES_SQL),
    pg(SRC, countSql(['public.orders'])),
  ]);
  assert.deepEqual(s.target.lines, [
    report,
    inspectLine,
    ready(TGT),
    pg(TGT, SCHEMA_SQL),
    inspectLine,
    ready(TGT),
    render(recreateDatabase(TGT, d)),
    render(preData(TGT, d, file)),
    render(postData(TGT, d, file, 4)),
    render(removeFile(TGT, file)),
    inspectLine,
    ready(TGT),
    pg(TGT, SCHEMA_SQL),
    pg(TGT, TABLES_SQL),
    pg(TGT, countSql(['public.orders'])),
  ]);
});

test('dump: a proof recorded before the source took a write is refused at the check (source-changed); nothing runs', async () => {
  const s = servers();
  const saved = {
    from: 'old',
    to: 'new',
    release: 'r2',
    at: '2025-01-02T03:04:05.000Z',
    tables: [{ name: 'public.orders', rows_source: 3, rows_target: 3, checksum_match: true }],
    volumes: [],
  };
  s.target.when(report, { stdout: JSON.stringify(saved) });
  s.source
    .when(pg(SRC, TABLES_SQL), { stdout: 'public.orders\n' })
    .when(pg(SRC, countSql(['public.orders'])), { stdout: 'public.orders|4|\n' });
  const error = await failure(step.check(contextFor(step, s)));
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'source-changed');
  assert.match(
    error.message,
    /^old: database demo changed after the proof .*: public\.orders has 4 rows, 3 when proven$/,
  );
  assert.deepEqual(s.source.lines, [inspectLine, pg(SRC, TABLES_SQL), pg(SRC, countSql(['public.orders']))]);
  assert.deepEqual(s.target.lines, [report]);
});

test('dump: a refused password on the source is database-auth-failed, redacted', async () => {
  const s = servers();
  s.target.when(report, { code: 1 }).when(pg(TGT, SCHEMA_SQL), { stdout: '' });
  s.source.when(pg(SRC, SCHEMA_SQL), {
    code: 2,
    stderr: 'psql: error: FATAL:  password authentication failed for user "demo" (s3cret)\n',
  });
  const error = await failure(step.check(contextFor(step, s)));
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'database-auth-failed');
  assert.equal(
    error.message,
    'old: psql in shop_db_1: psql failed (exit 2):\npsql: error: FATAL:  password authentication failed for user "demo" ([REDACTED])',
  );
});
