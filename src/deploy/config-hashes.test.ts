import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Container } from './containers.js';
import { expectedHashes, recordOf } from './config-hashes.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const box = (service: string, configHash: string) => ({ service, configHash }) as Container;

test('the label recorded after the last up is expected while config --hash says what it said then', () => {
  const record = { web: { config: A, label: B } };
  assert.equal(expectedHashes(new Map([['web', A]]), record).get('web'), B, "Compose's own label (env_file)");
  assert.equal(expectedHashes(new Map([['web', C]]), record).get('web'), C, 'a changed configuration is a change');
  assert.equal(expectedHashes(new Map([['api', A]]), record).get('api'), A, 'no record: config --hash alone');
});

test('a record is kept only for services whose containers carry one label', () => {
  const hashes = new Map([
    ['web', A],
    ['api', A],
    ['db', A],
  ]);
  const record = recordOf(hashes, [box('web', B), box('web', B), box('api', B), box('api', C), box('db', '')]);
  assert.deepEqual(record, { web: { config: A, label: B } });
});
