import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from './duration.js';

test('durations as compose-go reads them', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('100ms'), 100);
  assert.equal(parseDuration('2d'), 172_800_000);
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('-5s'), -5000);
  for (const bad of ['', '30', 's', '1x', '1m 30s', 'abc', '.s'])
    assert.equal(parseDuration(bad), undefined, JSON.stringify(bad));
});
