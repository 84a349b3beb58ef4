import { test } from 'node:test';
import assert from 'node:assert/strict';
import { releaseRollbackCommand, releaseRollbackOf } from './rollback-release.js';

test("a release rollback's command gives back its target and origin", () => {
  const c = releaseRollbackCommand('shop', '20261204-a1', '20261204-b2');
  assert.equal(c, 'rollback shop 20261204-a1 (from 20261204-b2)');
  assert.deepEqual(releaseRollbackOf(c, 'shop'), { to: '20261204-a1', from: '20261204-b2' });
  assert.deepEqual(releaseRollbackOf(releaseRollbackCommand('shop', 'a1', undefined), 'shop'), { to: 'a1' });
});

test('a command journaled before the origin was, still names the target', () => {
  assert.deepEqual(releaseRollbackOf('rollback shop a1', 'shop'), { to: 'a1' });
});

test("neither a migration's rollback, nor another stack's, nor another command is one", () => {
  assert.equal(releaseRollbackOf('rollback shop (migration to web2 from web1)', 'shop'), undefined);
  assert.equal(releaseRollbackOf('rollback blog a1 (from b2)', 'shop'), undefined);
  assert.equal(releaseRollbackOf('migrate shop --to web2', 'shop'), undefined);
});
