import { test } from 'node:test';
import assert from 'node:assert/strict';
import { asBool, asInt, describe, resolveHostPath, schemaError, shape, type Ctx } from './common.js';

test('asInt: whole numbers and decimal strings, as strconv.Atoi', () => {
  assert.equal(asInt(3), 3);
  assert.equal(asInt('3'), 3);
  assert.equal(asInt('+3'), 3);
  assert.equal(asInt('007'), 7);
  for (const bad of [-1, 1.5, '1.5', ' 3', '3 ', '', 'x', null, true])
    assert.equal(asInt(bad), undefined, JSON.stringify(bad));
});

test('asBool: YAML 1.1 words, any case', () => {
  for (const t of [true, 'true', 'True', 'yes', 'Y', 'on']) assert.equal(asBool(t), true, String(t));
  for (const f of [false, 'false', 'NO', 'n', 'off']) assert.equal(asBool(f), false, String(f));
  for (const bad of ['maybe', '', 1, 0, null]) assert.equal(asBool(bad), undefined, String(bad));
});

test('shape and describe', () => {
  assert.deepEqual([null, undefined, [], {}, '', 's', 1, 1.5, true].map(shape), [
    'an empty value',
    'an empty value',
    'a list',
    'a mapping',
    'an empty string',
    'a string',
    'an integer',
    'a fractional number',
    'a boolean',
  ]);
  assert.deepEqual(['x', 2, false, [1]].map(describe), ['"x"', '2', 'false', 'a list']);
});

test('resolveHostPath: ~, absolute, relative', () => {
  process.env.HOME = '/home/tester';
  assert.equal(resolveHostPath('/srv/app', '~/x'), '/home/tester/x');
  assert.equal(resolveHostPath('/srv/app', '/etc/x'), '/etc/x');
  assert.equal(resolveHostPath('/srv/app', 'conf/../x'), '/srv/app/x');
});

test('schemaError: a schema error at services/<name>/<path>', () => {
  const ctx: Ctx = { service: 'web', findings: [] };
  schemaError(ctx, ['ports', 2], 'msg', 'hint');
  assert.deepEqual(ctx.findings, [
    {
      code: 'schema',
      severity: 'error',
      message: 'msg',
      where: { path: 'services/web/ports/2' },
      hint: 'hint',
      service: 'web',
    },
  ]);
});
