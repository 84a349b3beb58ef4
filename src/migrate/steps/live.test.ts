import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive } from '../../engine/test-helpers.js';
import { liveStep } from './live.js';
import { contextFor, migration, servers } from './db-fixture.js';

const MARKER = '/srv/ferry/shop/migration-live';
const READ = `cat ${MARKER} 2>/dev/null`;
const step = liveStep({ id: 'shop/migrate/live', m: migration(), copies: async () => [], dependsOn: [] });

test('live: written on the target once; found there, nothing to do', async () => {
  const s = servers();
  s.target.when(READ, { code: 1 }, { times: 1 }).when(READ, { stdout: '{"from":"old","to":"new","at":"T"}\n' });
  const { checked, verified } = await drive(step, contextFor(step, s));
  assert.deepEqual(checked, { needed: true, change: { summary: "mark new's data as in use" }, observed: {} });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(s.target.lines, [READ, READ]);
  const up = s.target.calls.find((c) => c.kind === 'upload');
  assert.ok(up && up.kind === 'upload');
  assert.deepEqual([up.path, up.mode], [MARKER, 0o600]);
  assert.deepEqual(Object.keys(JSON.parse(String(up.content)) as object), ['from', 'to', 'at']);
  assert.deepEqual(await step.check(contextFor(step, s)), { needed: false, observed: { since: 'T' } });
  assert.equal(step.holdsRollback, true);
  assert.deepEqual(step.reaches, ['old']);
});

test('live: rolled back before its marker was written, nothing to carry back and nothing done', async () => {
  const s = servers();
  s.target.when(READ, { code: 1 });
  await step.rollback(contextFor(step, s), {});
  assert.deepEqual(s.target.lines, [READ]);
  assert.deepEqual(s.source.lines, []);
});

test('live: the marker not there after the write is a failed verification', async () => {
  const s = servers();
  s.target.when(READ, { code: 1 });
  assert.deepEqual(await step.verify(contextFor(step, s), {}), {
    ok: false,
    message: `${MARKER} was not written`,
  });
});
