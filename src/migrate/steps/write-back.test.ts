import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksumSql, TABLES_SQL } from '../postgres.js';
import { SEQUENCES_SQL } from '../replica-sql.js';
import { writeBackStep } from './write-back.js';
import { contextFor, failure, migration, pg, servers, SRC, TGT } from './db-fixture.js';
import { StepError } from '../../engine/errors.js';

const READ = 'cat /srv/ferry/shop/migration-live 2>/dev/null';
const step = writeBackStep({ id: 'shop/unmigrate/write-back', m: migration(), copies: async () => [], dependsOn: [] });

/** Each side answers its tables, their sums, and its sequences. */
function answering(sums: { source: string; target: string }, tables = { source: 'public.t', target: 'public.t' }) {
  const s = servers();
  s.target.when(READ, { stdout: '{"from":"old","to":"new","at":"T0"}\n' });
  for (const [t, c, list, sum] of [
    [s.source, SRC, tables.source, sums.source],
    [s.target, TGT, tables.target, sums.target],
  ] as const) {
    t.when(pg(c, TABLES_SQL), { stdout: `${list}\n` })
      .when(pg(c, checksumSql(list.split('\n'))), { stdout: `${sum}\n` })
      .when(pg(c, SEQUENCES_SQL), { stdout: 'public.t_id_seq=7\n' });
  }
  return s;
}

test('write-back: nothing to carry back when the target data never came into use', async () => {
  const s = servers();
  s.target.when(READ, { code: 1 });
  assert.deepEqual(await step.check(contextFor(step, s)), { needed: false, observed: { differing: [] } });
  assert.deepEqual(s.target.lines, [READ]);
  assert.deepEqual(s.source.lines, []);
});

test('write-back: the tables that differ are named with their rows on each side', async () => {
  const s = answering({ source: 'public.t|3|aaa', target: 'public.t|5|bbb' });
  assert.deepEqual(await step.check(contextFor(step, s)), {
    needed: true,
    change: { summary: 'carry back demo public.t 5 on new, 3 on old' },
    observed: { since: 'T0', differing: ['demo public.t 5 on new, 3 on old'] },
  });
});

test('write-back: equal sides still prove and remove the marker (no table to copy)', async () => {
  const s = answering({ source: 'public.t|3|aaa', target: 'public.t|3|aaa' });
  const checked = await step.check(contextFor(step, s));
  assert.equal(checked.change?.summary, 'prove new and old equal (no table differs now)');
});

test('write-back: a table on the target only refuses the rollback before anything changes', async () => {
  const s = answering(
    { source: 'public.t|3|aaa', target: 'public.t|3|aaa\npublic.audit|2|ccc' },
    { source: 'public.t', target: 'public.t\npublic.audit' },
  );
  const e = await failure(step.check(contextFor(step, s)));
  assert.ok(e instanceof StepError && e.code === 'write-back-impossible', String(e));
  assert.match((e as StepError).message, /public\.audit 2 on new, missing on old/);
});
