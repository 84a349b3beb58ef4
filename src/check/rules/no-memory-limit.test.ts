import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { noMemoryLimit } from './no-memory-limit.js';
import { brief, service, single } from '../test-helpers/make.js';

describe('no-memory-limit', () => {
  it('warns about services without a memory limit only', () => {
    const f = noMemoryLimit(single([service('api'), service('db', { resources: { memoryLimit: 1024 ** 3 } })]));
    assert.deepEqual(brief(f), [
      { code: 'no-memory-limit', severity: 'warning', message: 'app/api has no memory limit', path: 'services/api' },
    ]);
    assert.deepEqual([f[0]?.stack, f[0]?.service], ['app', 'api']);
  });
});
