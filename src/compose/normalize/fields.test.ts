import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ctx } from './common.js';
import {
  normalizeBuild,
  normalizeFileMounts,
  normalizeHealthcheck,
  normalizeLabels,
  normalizeNetworks,
  stringList,
} from './fields.js';

const ctx = (): Ctx => ({ service: 'svc', findings: [] });

test('secrets: default and relative targets live under /run/secrets', () => {
  const c = ctx();
  assert.deepEqual(
    normalizeFileMounts(
      c,
      ['a', { source: 'b' }, { source: 'c', target: 'c.txt' }, { source: 'd', target: '/d' }],
      'secrets',
    ),
    [
      { source: 'a', target: '/run/secrets/a' },
      { source: 'b', target: '/run/secrets/b' },
      { source: 'c', target: '/run/secrets/c.txt' },
      { source: 'd', target: '/d' },
    ],
  );
  assert.deepEqual(c.findings, []);
});

test('configs: default and relative targets live under /', () => {
  assert.deepEqual(normalizeFileMounts(ctx(), ['a', { source: 'b', target: 'etc/b.conf' }], 'configs'), [
    { source: 'a', target: '/a' },
    { source: 'b', target: '/etc/b.conf' },
  ]);
});

test('healthcheck: string test is CMD-SHELL; absent test', () => {
  const c = ctx();
  assert.deepEqual(normalizeHealthcheck(c, { test: 'pg_isready' }), {
    test: ['CMD-SHELL', 'pg_isready'],
    disabled: false,
  });
  assert.deepEqual(normalizeHealthcheck(c, { interval: '5s' }), { interval: '5s', disabled: false });
  assert.deepEqual(c.findings, []);
  const bad = ctx();
  assert.equal(normalizeHealthcheck(bad, 'CMD true'), undefined);
  assert.equal(bad.findings[0]!.message, 'healthcheck is a string, not a mapping');
});

test('networks: aliases and ipv4_address', () => {
  assert.deepEqual(normalizeNetworks(ctx(), { n: { aliases: ['a', 'b'], ipv4_address: '10.0.0.2', priority: 5 } }), {
    n: { aliases: ['a', 'b'], ipv4Address: '10.0.0.2' },
  });
});

test('labels and string lists', () => {
  assert.deepEqual(normalizeLabels(ctx(), ['a=1', 'b']), { a: '1', b: '' });
  assert.deepEqual(stringList(ctx(), ['80', 443, '9000-9001/udp'], 'expose'), ['80', '443', '9000-9001/udp']);
});

test('build: string, mapping, nothing', () => {
  assert.deepEqual(normalizeBuild(ctx(), 'https://github.com/x/y.git#main'), {
    context: 'https://github.com/x/y.git#main',
  });
  assert.deepEqual(normalizeBuild(ctx(), { context: 'api', target: 'prod' }), { context: 'api', target: 'prod' });
  assert.equal(normalizeBuild(ctx(), undefined), undefined);
});
