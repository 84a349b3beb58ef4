import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadedFleet } from '../model/loaded.js';
import { watchTargets } from './watch-targets.js';

const check = { service: 'web', port: 8000, path: '/health' };
const loaded = {
  fleet: { servers: { app1: { name: 'app1' }, db1: { name: 'db1', sudo: true }, spare: { name: 'spare' } } },
  stacks: [
    {
      def: { name: 'shop', server: 'app1', placement: { db: { server: 'db1' } }, deploy: { httpChecks: [check] } },
      project: { name: 'shop', services: [{ name: 'web' }, { name: 'worker' }, { name: 'db' }] },
    },
    {
      def: { name: 'blog', server: 'app1', deploy: { httpChecks: [] } },
      project: { name: 'blog-prod', services: [{ name: 'ghost' }] },
    },
  ],
} as unknown as LoadedFleet;

test('a stack is watched on each server it runs on, with the services placed there', () => {
  assert.deepEqual(watchTargets(loaded, ['shop']), [
    {
      server: 'app1',
      sudo: false,
      stacks: [{ stack: 'shop', project: 'shop', services: ['web', 'worker'], httpChecks: [check] }],
    },
    { server: 'db1', sudo: true, stacks: [{ stack: 'shop', project: 'shop', services: ['db'], httpChecks: [check] }] },
  ]);
});

test('a server is watched with every stack on it; no name watches every server', () => {
  assert.deepEqual(
    watchTargets(loaded, ['app1'])[0]!.stacks.map((s) => [s.stack, s.project, s.services]),
    [
      ['shop', 'shop', ['web', 'worker']],
      ['blog', 'blog-prod', ['ghost']],
    ],
  );
  assert.deepEqual(
    watchTargets(loaded, []).map((w) => [w.server, w.stacks.length]),
    [
      ['app1', 2],
      ['db1', 1],
      ['spare', 0],
    ],
  );
});

test('a name that is neither a stack nor a server is a usage error listing both', () => {
  assert.throws(
    () => watchTargets(loaded, ['shopp']),
    (e: Error & { code?: string; hint?: string }) =>
      e.code === 'usage' && /shop, blog, app1, db1, spare/.test(e.hint ?? ''),
  );
});
