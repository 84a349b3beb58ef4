import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { pruneStep, staleImages } from './prune.js';

const LS = 'ls -1 /srv/ferry/shop/releases 2>/dev/null';
const HISTORY = 'cat /srv/ferry/shop/history 2>/dev/null';
const CURRENT = 'readlink /srv/ferry/shop/current 2>/dev/null';
const RM = 'rm -rf /srv/ferry/shop/releases/r1 /srv/ferry/shop/releases/r4.partial';
const step = pruneStep({ id: 'shop/prune', host: 'web1', stack: 'shop', keep: 2, sudo: true, dependsOn: [] });

const scripted = () =>
  new RecordingTransport('web1')
    .when(LS, { stdout: 'r1\nr2\nr3\nr4.partial\n' }, { times: 1 })
    .when(HISTORY, { stdout: '2026-01-01T00:00:00Z r1\n2026-01-02T00:00:00Z r2\n2026-01-03T00:00:00Z r3\n' })
    .when(CURRENT, { stdout: 'releases/r3\n' });

test('prune: releases beyond the last two and .partial leftovers are removed, then listed again', async () => {
  const t = scripted().when(RM, {}).when(LS, { stdout: 'r2\nr3\n' });
  const { checked, verified } = await drive(step, testContext(t), { rollback: true });
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'remove r1, r4.partial' },
    observed: { remove: ['r1', 'r4.partial'] },
  });
  assert.deepEqual(verified, { ok: true });
  // Rollback cannot bring removed releases back: it runs nothing.
  assert.deepEqual(t.lines, [LS, HISTORY, CURRENT, RM, LS]);
  assert.ok(t.calls.every((c) => c.sudo));
});

test('prune: a removal that fails stops the step with the command and its words', async () => {
  const t = scripted().when(RM, { code: 1, stderr: 'rm: cannot remove: Read-only file system\n' });
  await assert.rejects(drive(step, testContext(t)), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'command-failed');
    assert.match(e.message, /Read-only file system/);
    return true;
  });
});

test('prune: images built on the server that no kept release names go with the releases that ran them', async () => {
  const built = pruneStep({
    id: 'shop/prune',
    host: 'web1',
    stack: 'shop',
    keep: 2,
    sudo: false,
    dependsOn: [],
    built: { repo: 'shop-build', composeFile: 'compose.ferry.yml' },
  });
  const t = scripted()
    .when(/^sh -c .*docker image ls/, {
      stdout:
        'shop-build:aaa111\nshop-build:bbb222\nshop-build:ccc333\nshop-build:<none>\n---\nshop-build:bbb222\nshop-build:ccc333\n',
    })
    .when(RM, {})
    .when('docker image rm shop-build:aaa111 2>/dev/null', {})
    .when(LS, { stdout: 'r2\nr3\n' });
  const { checked } = await drive(built, testContext(t));
  assert.deepEqual(checked.observed, { remove: ['r1', 'r4.partial'], images: ['shop-build:aaa111'] });
  assert.equal(checked.change?.summary, 'remove r1, r4.partial, shop-build:aaa111');
  const list = t.lines.find((l) => l.includes('docker image ls'))!;
  assert.match(
    list,
    / shop-build compose\.ferry\.yml r2 r3 2>\/dev\/null$/,
    'the kept releases are read, not the removed ones',
  );
  assert.ok(t.lines.includes('docker image rm shop-build:aaa111 2>/dev/null'));
});

test('staleImages: nothing listed, or no answer at all, is nothing to remove', () => {
  assert.deepEqual(staleImages('---\nshop-build:aaa\n'), []);
  assert.deepEqual(staleImages(''), []);
  assert.deepEqual(staleImages('shop-build:aaa\nshop-build:bbb\n---\n'), ['shop-build:aaa', 'shop-build:bbb']);
});
