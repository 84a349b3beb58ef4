import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rollbackOf } from './rollback-migration.js';

test("a migration rollback's journaled command names its target, and its source since it was added", () => {
  assert.deepEqual(rollbackOf('rollback shop (migration to new from old)', 'shop'), { target: 'new', source: 'old' });
  assert.deepEqual(rollbackOf('rollback shop (migration to new)', 'shop'), { target: 'new' });
  assert.equal(rollbackOf('rollback shop (migration to new from old)', 'shop2'), undefined);
  assert.equal(rollbackOf('rollback shop --to abc', 'shop'), undefined);
  assert.equal(rollbackOf('migrate shop --to new', 'shop'), undefined);
});
