import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmd, render, type Command } from '../shell/command.js';
import {
  compareSchema,
  load,
  parseDumpTables,
  shares,
  postData,
  preData,
  recreateDatabase,
  removeFile,
  restDump,
  schemaDump,
  schemaFile,
  snapshotSession,
  SNAPSHOT_NAME,
  stream,
  streamCount,
  tableDump,
  writeFile,
} from './dump-commands.js';
import type { Database } from './postgres.js';

const d: Database = { service: 'db', user: 'shop', db: 'orders', volumes: ['pg'] };
const through = (remote: Command): Command => cmd('ssh', 'new', render(remote));
const bulk = { pattern: '"public"."bulk"', bytes: 5000 };
const odd = { pattern: `"Odd ""S"""."it's a*table"`, bytes: 10 };

test('tables to copy: every part double-quoted so pg_dump -t matches it literally, a | in a name kept, largest first as listed', () => {
  assert.deepEqual(parseDumpTables('"public"."bulk"|5000\n"a|b"."c"|0\n'), [bulk, { pattern: '"a|b"."c"', bytes: 0 }]);
  assert.deepEqual(parseDumpTables(''), []);
});

test('streams: as many as asked, at least one, never more than the tables', () => {
  assert.deepEqual(
    [streamCount(4, 10), streamCount(4, 2), streamCount(4, 0), streamCount(1, 10), streamCount(0, 3)],
    [4, 2, 1, 1, 1],
  );
});

test('tables shared among the streams by size: largest first, each to the lightest share; no empty share', () => {
  const t = (bytes: number) => ({ pattern: `t${bytes}`, bytes });
  const names = (xs: { pattern: string }[][]) => xs.map((x) => x.map((y) => y.pattern));
  assert.deepEqual(names(shares([t(1), t(50), t(10), t(30), t(20), t(2)], 3)), [
    ['t50'],
    ['t30', 't2'],
    ['t20', 't10', 't1'],
  ]);
  assert.deepEqual(names(shares([t(5), t(7)], 4)), [['t7'], ['t5']]);
  assert.deepEqual(shares([], 4), []);
});

test('the snapshot session reads SQL from stdin; its snapshot name is recognised', () => {
  assert.equal(
    render(snapshotSession('src_db_1', d)),
    'docker exec -i src_db_1 psql -X -q -At -v ON_ERROR_STOP=1 -U shop -d orders',
  );
  assert.ok(SNAPSHOT_NAME.test('00000003-0000001B-1') && SNAPSHOT_NAME.test('00000004-00000A2F'));
  assert.ok(!SNAPSHOT_NAME.test('BEGIN') && !SNAPSHOT_NAME.test('ERROR:  x'));
});

test('the schema: pg_dump -Fc --schema-only from the snapshot, streamed into a mode-600 file in the target container', () => {
  assert.equal(schemaFile(d), '/tmp/ferry-migrate-db.schema.dump');
  assert.equal(
    render(stream(schemaDump('src_db_1', d, 'SNAP'), through(writeFile('dst_db_1', schemaFile(d))))),
    `bash -o pipefail -c 'exec 3>&1; docker exec src_db_1 pg_dump -U shop -d orders --snapshot=SNAP --no-owner --no-privileges -Fc --schema-only | LC_ALL=C dd bs=65536 2>&3 | ssh new '\\''docker exec -i dst_db_1 sh -c '\\''\\'\\'''\\''umask 077 && cat > "$1"'\\''\\'\\'''\\'' sh /tmp/ferry-migrate-db.schema.dump'\\'''`,
  );
  assert.equal(
    render(removeFile('dst_db_1', schemaFile(d))),
    'docker exec dst_db_1 rm -f /tmp/ferry-migrate-db.schema.dump',
  );
});

test('the target database is created anew: sessions ended, dropped, created from template0; from template1 for postgres itself', () => {
  assert.equal(
    render(recreateDatabase('dst_db_1', d)),
    "docker exec dst_db_1 psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -U shop -d postgres -c 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\\''orders'\\'' AND pid <> pg_backend_pid()' -c 'DROP DATABASE IF EXISTS \"orders\"' -c 'CREATE DATABASE \"orders\" TEMPLATE template0'",
  );
  const odd = render(recreateDatabase('c', { ...d, db: `it's "x"` }));
  assert.ok(
    odd.includes(`datname = '\\''it'\\'''\\''s "x"'\\''`) && odd.includes(`DROP DATABASE IF EXISTS "it'\\''s ""x"""`),
    odd,
  );
  assert.match(render(recreateDatabase('c', { ...d, db: 'postgres' })), / -d template1 -c /);
});

test('pre-data in one transaction, post-data with N jobs, both from the file', () => {
  assert.equal(
    render(preData('dst_db_1', d, '/tmp/f')),
    'docker exec dst_db_1 pg_restore -U shop -d orders --no-owner --no-privileges --exit-on-error --section=pre-data --single-transaction /tmp/f',
  );
  assert.equal(
    render(postData('dst_db_1', d, '/tmp/f', 4)),
    'docker exec dst_db_1 pg_restore -U shop -d orders --no-owner --no-privileges --exit-on-error --section=post-data --jobs=4 /tmp/f',
  );
});

test('data: tables one after the other in a stream, and the rest (sequence values, large objects) without the tables', () => {
  assert.equal(
    render(stream(tableDump('src_db_1', d, 'SNAP', [bulk]), through(load('dst_db_1', d)))),
    `bash -o pipefail -c 'exec 3>&1; docker exec src_db_1 pg_dump -U shop -d orders --snapshot=SNAP --no-owner --no-privileges --data-only -t '\\''"public"."bulk"'\\'' | LC_ALL=C dd bs=65536 2>&3 | ssh new '\\''docker exec -i dst_db_1 psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -U shop -d orders'\\'''`,
  );
  assert.equal(
    render(restDump('src_db_1', d, 'SNAP', [bulk, odd])),
    `docker exec src_db_1 pg_dump -U shop -d orders --snapshot=SNAP --no-owner --no-privileges --data-only '--exclude-table-data="public"."bulk"' '--exclude-table-data="Odd ""S"""."it'\\''s a*table"'`,
  );
  assert.equal(
    render(tableDump('src_db_1', d, 'SNAP', [bulk, odd])),
    `docker exec src_db_1 pg_dump -U shop -d orders --snapshot=SNAP --no-owner --no-privileges --data-only -t '"public"."bulk"' -t '"Odd ""S"""."it'\\''s a*table"'`,
  );
  assert.equal(
    render(restDump('src_db_1', d, 'SNAP', [])),
    'docker exec src_db_1 pg_dump -U shop -d orders --snapshot=SNAP --no-owner --no-privileges --data-only',
  );
});

test('schema lines compared as sets: what the target lacks and what only it has', () => {
  const source =
    'index CREATE UNIQUE INDEX bulk_pkey ON public.bulk USING btree (id)\nsequence public.bulk_id_seq 400000\nrelation r public.bulk\n';
  assert.deepEqual(compareSchema(source, 'relation r public.bulk\nsequence public.bulk_id_seq unused\n'), {
    missing: [
      'index CREATE UNIQUE INDEX bulk_pkey ON public.bulk USING btree (id)',
      'sequence public.bulk_id_seq 400000',
    ],
    extra: ['sequence public.bulk_id_seq unused'],
  });
  assert.deepEqual(compareSchema(source, source.split('\n').reverse().join('\n')), { missing: [], extra: [] });
});

test('a hostile database name (quotes, backslash, $$, newline) is one literal and one identifier in the SQL of its recreation', () => {
  const db = 'a\'b\\c"d$$e\nf';
  const c = recreateDatabase('c', { ...d, db });
  assert.equal(c.kind, 'argv');
  const sql = c.kind === 'argv' ? c.argv.filter((_, i, all) => all[i - 1] === '-c') : [];
  assert.deepEqual(sql, [
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = E'a''b\\\\c"d$$e\nf' AND pid <> pg_backend_pid()`,
    `DROP DATABASE IF EXISTS "a'b\\c""d$$e\nf"`,
    `CREATE DATABASE "a'b\\c""d$$e\nf" TEMPLATE template0`,
  ]);
});
