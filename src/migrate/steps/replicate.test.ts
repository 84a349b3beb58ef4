import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmd, quiet, render } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import { drive } from '../../engine/test-helpers.js';
import type { RecordedCall } from '../../transport/recording.js';
import { onTarget } from '../channel.js';
import { TABLES_SQL } from '../postgres.js';
import * as q from '../replica-sql.js';
import { contextFor, d, failure, inspectLine, migration, pg, ready, servers, SRC, TGT } from './db-fixture.js';
import { cleanSourceStep, identityPath, publishStep, schemaStep, type PublishObserved } from './replicate.js';

const m = migration({ mode: 'replicate' });
const ids = identityPath('shop', d);
const stdinOf = (container: string) => render(q.psqlStdin(container, d));
const calls = (c: RecordedCall[]) =>
  c.map((x) =>
    x.kind === 'exec'
      ? x.line + (x.stdin === undefined ? '' : ` <<< ${x.stdin}`)
      : x.kind === 'upload'
        ? `upload ${x.path} ${x.mode.toString(8)}: ${String(x.content)}`
        : x.path,
  );
const state = [
  pg(SRC, q.WAL_LEVEL_SQL),
  pg(SRC, q.publicationExistsSql(d)),
  pg(SRC, q.NO_KEY_SQL),
  pg(SRC, q.noEqualitySql(['public.logs'])),
  pg(SRC, q.LARGE_OBJECTS_SQL),
];
const endReplicationLines = (container: string) => [
  pg(container, q.dropPublicationSql(d)),
  pg(container, q.dropSlotSql(d)),
  pg(container, q.slotSql(d)),
  render(quiet(cmd('cat', ids))),
];

function publishing() {
  const s = servers();
  s.source
    .when(pg(SRC, q.WAL_LEVEL_SQL), { stdout: 'replica\n' }, { times: 2 })
    .when(pg(SRC, q.WAL_LEVEL_SQL), { stdout: 'logical\n' })
    .when(pg(SRC, q.publicationExistsSql(d)), { stdout: '0\n' }, { times: 2 })
    .when(pg(SRC, q.publicationExistsSql(d)), { stdout: '1\n' })
    .when(pg(SRC, q.NO_KEY_SQL), { stdout: 'public.logs|d\n' }, { times: 2 })
    .when(pg(SRC, q.NO_KEY_SQL), { stdout: 'public.logs|f\n' })
    .when(pg(SRC, q.noEqualitySql(['public.logs'])), { stdout: '' })
    .when(pg(SRC, q.LARGE_OBJECTS_SQL), { stdout: '0\n' })
    .when(pg(SRC, q.SET_WAL_LEVEL_SQL), {})
    .when(ready(SRC), {})
    .when(pg(SRC, q.createPublicationSql(d)), {})
    .when(stdinOf(SRC), {})
    .when(pg(SRC, q.dropPublicationSql(d)), {})
    .when(pg(SRC, q.dropSlotSql(d)), {})
    .when(pg(SRC, q.slotSql(d)), { stdout: '' })
    .when(render(quiet(cmd('cat', ids))), { stdout: 'public.logs\n' })
    .when(`rm -f ${ids}`, {});
  return s;
}

test('publish: wal_level set and the database restarted, the table without a key FULL (recorded first), published; rollback drops it and puts the identity back', async () => {
  const step = publishStep({ id: 'shop/migrate/publish/db', m, d, dependsOn: ['shop/migrate/preflight'] });
  assert.deepEqual([step.host, step.reaches, step.phase], ['old', undefined, 'transfer']);
  const s = publishing();
  s.source.when(`docker restart ${SRC}`, {});
  const { checked, verified } = await drive(step, contextFor(step, s), { rollback: true });
  assert.deepEqual(checked.observed, { logical: false, published: false, setFull: ['public.logs'] });
  assert.equal(
    checked.change?.summary,
    'restart db with wal_level=logical; public.logs (no primary key) replicated by whole row; publication ferry_db',
  );
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(calls(s.source.calls), [
    ...[inspectLine, ...state],
    ...[inspectLine, ...state, pg(SRC, q.SET_WAL_LEVEL_SQL), `docker restart ${SRC}`, ready(SRC), inspectLine],
    `upload ${ids} 600: public.logs\n`,
    `${stdinOf(SRC)} <<< ${q.replicaIdentitySql(['public.logs'], true)}`,
    pg(SRC, q.createPublicationSql(d)),
    ...[inspectLine, ...state],
    ...[inspectLine, ...endReplicationLines(SRC)],
    `${stdinOf(SRC)} <<< ${q.replicaIdentitySql(['public.logs'], false)}`,
    `rm -f ${ids}`,
  ]);
  assert.deepEqual(s.target.lines, []);
});

test('publish: a resumed run keeps the tables the killed run set FULL in the record it writes', async () => {
  const step = publishStep({ id: 'shop/migrate/publish/db', m, d, dependsOn: [] });
  const s = publishing();
  s.source.when(`docker restart ${SRC}`, {});
  const prior: PublishObserved = { logical: false, published: false, setFull: ['public.audit'] };
  const ctx = contextFor(step, s, prior);
  const checked = await step.check(ctx);
  assert.deepEqual(checked.observed, { logical: false, published: false, setFull: ['public.audit', 'public.logs'] });
  await step.apply(ctx, checked.observed!);
  const record = s.source.calls.find((c) => c.kind === 'upload');
  assert.equal(record?.kind === 'upload' ? record.content : '', 'public.audit\npublic.logs\n');
});

test('publish: a failed restart of the database is docker-failed; no identity is changed', async () => {
  const step = publishStep({ id: 'shop/migrate/publish/db', m, d, dependsOn: [] });
  const s = publishing();
  s.source.when(`docker restart ${SRC}`, { code: 1, stderr: 'Error response from daemon: Cannot restart container\n' });
  const error = await failure(step.apply(contextFor(step, s), { logical: false, published: false, setFull: [] }));
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'docker-failed');
  assert.match(error.message, /^old: restart of shop_db_1: docker failed \(exit 1\):\nError response from daemon/);
  assert.equal(
    s.source.calls.some((c) => c.kind === 'upload' || (c.kind === 'exec' && c.stdin !== undefined)),
    false,
  );
});

test('clean: check finds what replication left; apply ends it on the source and puts identities back on both sides', async () => {
  const step = cleanSourceStep({ id: 'shop/migrate/clean/db', m, d, dependsOn: [], phase: 'verify' });
  assert.deepEqual([step.host, step.reaches, step.phase], ['old', ['new'], 'verify']);
  const s = servers();
  s.source
    .when(pg(SRC, q.publicationExistsSql(d)), { stdout: '1\n' }, { times: 1 })
    .when(pg(SRC, q.publicationExistsSql(d)), { stdout: '0\n' })
    .when(pg(SRC, q.slotSql(d)), { stdout: '' })
    .when(`test -e ${ids} 2>/dev/null`, { code: 0 }, { times: 1 })
    .when(`test -e ${ids} 2>/dev/null`, { code: 1 })
    .when(/^docker exec shop_db_1 psql /, {})
    .when(render(quiet(cmd('cat', ids))), { stdout: 'public.logs\n' })
    .when(stdinOf(SRC), {})
    .when(`rm -f ${ids}`, {});
  s.target.when(stdinOf(TGT), {});
  const { checked, verified } = await drive(step, contextFor(step, s), { rollback: true });
  assert.deepEqual(checked.observed, { left: ['publication ferry_db', 'identities of demo to put back'] });
  assert.deepEqual(verified, { ok: true });
  const left = [pg(SRC, q.publicationExistsSql(d)), pg(SRC, q.slotSql(d)), `test -e ${ids} 2>/dev/null`];
  assert.deepEqual(calls(s.source.calls), [
    inspectLine,
    ...left,
    inspectLine,
    ...endReplicationLines(SRC),
    `${stdinOf(SRC)} <<< ${q.replicaIdentitySql(['public.logs'], false)}`,
    `rm -f ${ids}`,
    inspectLine,
    ...left,
  ]);
  assert.deepEqual(calls(s.target.calls), [
    inspectLine,
    `${stdinOf(TGT)} <<< ${q.replicaIdentitySql(['public.logs'], false)}`,
  ]);
});

test('clean: a refused login on the source is database-auth-failed', async () => {
  const step = cleanSourceStep({ id: 'shop/migrate/clean/db', m, d, dependsOn: [] });
  const s = servers();
  s.source
    .when(/^docker exec shop_db_1 psql /, {
      code: 2,
      stderr: 'psql: error: FATAL:  password authentication failed for user "demo"\n',
    })
    .when(`test -e ${ids} 2>/dev/null`, { code: 1 });
  const error = await failure(step.check(contextFor(step, s)));
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'database-auth-failed');
});

const copy = render(q.schemaCopyCommand(SRC, onTarget(m.ch, q.schemaRestoreCommand(TGT, d)), d));

test('schema: check finds the target empty; apply copies the schema from the source through the channel; verify compares the tables', async () => {
  const step = schemaStep({ id: 'shop/migrate/schema/db', m, d, dependsOn: [] });
  assert.deepEqual([step.host, step.reaches], ['new', ['old']]);
  const s = servers();
  s.source.when(pg(SRC, TABLES_SQL), { stdout: 'public.orders\n' }).when(copy, {});
  s.target
    .when(pg(TGT, TABLES_SQL), { stdout: '' }, { times: 1 })
    .when(pg(TGT, TABLES_SQL), { stdout: 'public.orders\n' });
  const { checked, verified } = await drive(step, contextFor(step, s), { rollback: true });
  assert.deepEqual(checked.observed, { source: SRC, target: TGT, tables: 1 });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(s.source.lines, [
    ...[inspectLine, pg(SRC, TABLES_SQL)],
    ...[inspectLine, copy],
    ...[inspectLine, pg(SRC, TABLES_SQL)],
  ]);
  const find = [inspectLine, ready(TGT)];
  assert.deepEqual(s.target.lines, [...find, pg(TGT, TABLES_SQL), ...find, ...find, pg(TGT, TABLES_SQL)]);
});

test('schema: a restore that fails is schema-copy-failed; tables already on the target are refused (target-not-empty)', async () => {
  const step = schemaStep({ id: 'shop/migrate/schema/db', m, d, dependsOn: [] });
  const s = servers();
  s.source.when(pg(SRC, TABLES_SQL), { stdout: 'public.orders\n' }).when(copy, {
    code: 1,
    stderr: 'pg_restore: error: could not execute query: ERROR:  extension "postgis" is not available\n',
  });
  s.target.when(pg(TGT, TABLES_SQL), { stdout: 'public.other\n' });
  const ctx = contextFor(step, s);
  const copied = await failure(step.apply(ctx, { source: SRC, target: TGT, tables: 1 }));
  assert.ok(copied instanceof StepError);
  assert.equal(copied.code, 'schema-copy-failed');
  assert.match(copied.message, /^old: copying the schema of demo to new: psql failed \(exit 1\):\npg_restore: error: /);
  const refused = await failure(step.check(ctx));
  assert.ok(refused instanceof StepError);
  assert.equal(refused.code, 'target-not-empty');
});
