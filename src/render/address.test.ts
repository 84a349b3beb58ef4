import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressPort } from './address.js';

test('addressPort brackets IPv6 and shows every interface as *', () => {
  assert.equal(addressPort('127.0.0.1', 5432), '127.0.0.1:5432');
  assert.equal(addressPort('::', 5432), '[::]:5432');
  assert.equal(addressPort('[::1]', 80), '[::1]:80');
  assert.equal(addressPort(undefined, '8000-8010'), '*:8000-8010');
  assert.equal(addressPort('', 80), '*:80');
});
