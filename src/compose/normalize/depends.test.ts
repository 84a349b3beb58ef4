import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Ctx } from './common.js';
import { normalizeDependsOn } from './depends.js';

const ctx = (): Ctx => ({ service: 'web', findings: [] });
const started = { condition: 'service_started', required: true, restart: false };

test('list syntax: service_started, required', () => {
  const c = ctx();
  assert.deepEqual(normalizeDependsOn(['db', 'redis'], c), { db: started, redis: started });
  assert.deepEqual(c.findings, []);
});

test('map syntax with defaults', () => {
  const c = ctx();
  const deps = normalizeDependsOn(
    {
      db: { condition: 'service_healthy' },
      init: { condition: 'service_completed_successfully', required: false },
      cache: { restart: true },
      queue: { required: 'false', restart: 'yes' },
      plain: {},
    },
    c,
  );
  assert.deepEqual(deps, {
    db: { condition: 'service_healthy', required: true, restart: false },
    init: { condition: 'service_completed_successfully', required: false, restart: false },
    cache: { condition: 'service_started', required: true, restart: true },
    queue: { condition: 'service_started', required: false, restart: true },
    plain: started,
  });
  assert.deepEqual(c.findings, []);
});

test('absent depends_on', () => {
  assert.deepEqual(normalizeDependsOn(undefined, ctx()), {});
});

test('malformed depends_on', () => {
  const c = ctx();
  const deps = normalizeDependsOn({ db: { condition: 'service_ready', required: 'maybe' }, cache: null }, c);
  assert.deepEqual(deps, { db: started });
  normalizeDependsOn(['db', 7], c);
  normalizeDependsOn('db', c);
  assert.deepEqual(
    c.findings.map((f) => [f.code, f.where.path, f.message]),
    [
      [
        'schema',
        'services/web/depends_on/db/condition',
        'depends_on db condition "service_ready" is not one of service_started, service_healthy, service_completed_successfully',
      ],
      ['schema', 'services/web/depends_on/db/required', 'depends_on db required "maybe" is not a boolean'],
      ['schema', 'services/web/depends_on/cache', 'depends_on cache is an empty value, not a mapping'],
      ['schema', 'services/web/depends_on/1', 'depends_on entry is an integer, not a service name'],
      ['schema', 'services/web/depends_on', 'depends_on is a string, not a list or a mapping'],
    ],
  );
});
