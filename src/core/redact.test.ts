import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from './redact.js';

test('redactor replaces every known value, longest first, also JSON-escaped', () => {
  const r = new Redactor();
  r.addAll(['canary-7d1f3c9e', 'canary-7d1f3c9e-long', 'a"b\\c', 'x']);
  assert.equal(r.size, 3);
  assert.equal(r.redact('v=canary-7d1f3c9e-long and canary-7d1f3c9e'), 'v=[REDACTED] and [REDACTED]');
  assert.equal(r.redact(JSON.stringify({ v: 'a"b\\c' })), '{"v":"[REDACTED]"}');
  assert.equal(r.redact('x marks'), 'x marks');
});
