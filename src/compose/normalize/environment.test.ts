import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ctx } from './common.js';
import { mergeEnvironment, normalizeEnvironment } from './environment.js';

const ctx = (): Ctx => ({ service: 'api', findings: [] });

test('list syntax: KEY=VALUE, bare KEY is null, the value keeps later "="', () => {
  const c = ctx();
  assert.deepEqual(normalizeEnvironment(['A=1', 'B', 'C=', 'D=x=y', 'E= spaced '], c), {
    A: '1',
    B: null,
    C: '',
    D: 'x=y',
    E: ' spaced ',
  });
  assert.deepEqual(c.findings, []);
});

test('list syntax: a later entry for the same key wins', () => {
  assert.deepEqual(normalizeEnvironment(['A=1', 'A=2'], ctx()), { A: '2' });
});

test('map syntax: strings, numbers, booleans and null', () => {
  const c = ctx();
  const env = normalizeEnvironment({ S: 'text', N: 5432, F: 1.5, T: true, FALSE: false, EMPTY: '', NUL: null }, c);
  assert.deepEqual(env, { S: 'text', N: '5432', F: '1.5', T: 'true', FALSE: 'false', EMPTY: '', NUL: null });
  assert.deepEqual(c.findings, []);
});

test('absent environment', () => {
  assert.deepEqual(normalizeEnvironment(undefined, ctx()), {});
  assert.deepEqual(normalizeEnvironment(null, ctx()), {});
});

test('keys like __proto__ are plain keys', () => {
  const env = normalizeEnvironment(['__proto__=x'], ctx());
  assert.equal(Object.getPrototypeOf(env), Object.prototype);
  assert.deepEqual(Object.entries(env), [['__proto__', 'x']]);
});

test('malformed entries never print the value', () => {
  const c = ctx();
  const env = normalizeEnvironment({ PASSWORD: { nested: 'hunter2' }, LIST: ['hunter2'], OK: 'fine' }, c);
  assert.deepEqual(env, { OK: 'fine' });
  assert.deepEqual(
    c.findings.map((f) => [f.code, f.severity, f.where.path, f.message]),
    [
      [
        'schema',
        'error',
        'services/api/environment/PASSWORD',
        'environment variable PASSWORD is a mapping, not a string, number, boolean or empty',
      ],
      [
        'schema',
        'error',
        'services/api/environment/LIST',
        'environment variable LIST is a list, not a string, number, boolean or empty',
      ],
    ],
  );
  for (const f of c.findings) assert.ok(!f.message.includes('hunter2') && !f.hint.includes('hunter2'));
});

test('malformed list entries and shapes', () => {
  const c = ctx();
  assert.deepEqual(normalizeEnvironment(['A=1', 42, '=secret'], c), { A: '1' });
  assert.deepEqual(normalizeEnvironment('A=1', c), {});
  assert.deepEqual(
    c.findings.map((f) => [f.where.path, f.message]),
    [
      ['services/api/environment/1', 'environment entry is an integer, not a "KEY=value" string'],
      ['services/api/environment/2', 'environment entry has no variable name before "="'],
      ['services/api/environment', 'environment is a string, not a mapping or a list'],
    ],
  );
  assert.equal(
    c.findings[0]!.hint,
    'Write environment as a mapping (KEY: value) or a list of "KEY=value" strings; values are strings, numbers, booleans or empty.',
  );
});

test('mergeEnvironment: environment overrides env_file, a bare KEY included', () => {
  assert.deepEqual(mergeEnvironment({ A: 'file', B: 'file', C: 'file' }, { B: 'inline', C: null, D: 'new' }), {
    A: 'file',
    B: 'inline',
    C: null,
    D: 'new',
  });
});
