import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, format } from 'node:util';
import { Secret } from './secret.js';

test('a Secret prints as [REDACTED] everywhere and reveals only on demand', () => {
  const s = new Secret('canary-0c7e41');
  assert.equal(String(s), '[REDACTED]');
  assert.equal(`${s}`, '[REDACTED]');
  assert.equal(JSON.stringify({ s }), '{"s":"[REDACTED]"}');
  assert.equal(inspect({ s }), '{ s: [REDACTED] }');
  assert.equal(format('%s %o', s, s).includes('canary'), false);
  assert.equal(s.reveal(), 'canary-0c7e41');
});
