import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { finding } from '../core/finding.js';
import { RULES, runChecks } from './index.js';
import { fleet, port, project, service, stack } from './test-helpers/make.js';

describe('runChecks', () => {
  it('runs every rule, includes loader findings, and sorts errors first', () => {
    const loader = finding(
      'missing-variable',
      'error',
      'DB_HOST is not set',
      { file: 'compose.yml', line: 3 },
      'Set it.',
      { stack: 'broken' },
    );
    const fleetLevel = finding('schema', 'warning', 'unknown key', { file: 'ferry.yml', line: 1 }, 'Remove it.');
    const ok = stack(
      'web',
      project([
        service('web', { image: 'nginx', ports: [port(0, 80, 80)], restart: 'always', resources: { memoryLimit: 1 } }),
      ]),
    );
    const f = runChecks(fleet([ok, stack('broken', undefined, {}, [loader])], [], [fleetLevel]), {
      readText: () => undefined,
    });
    assert.deepEqual(
      f.map((x) => [x.severity, x.code]),
      [
        ['error', 'missing-variable'],
        ['warning', 'floating-tag'],
        ['warning', 'no-healthcheck'],
        ['warning', 'schema'],
      ],
    );
  });

  it('leaves out a rule finding a loader already made at the same place', () => {
    const where = { file: 'compose.yml', path: 'services/api/depends_on/db' };
    const loader = finding('unknown-reference', 'error', 'api depends on undefined service db', where, 'Fix it.', {
      stack: 'app',
    });
    const p = project([
      service('api', {
        dependsOn: { db: { condition: 'service_started', required: true, restart: false } },
        restart: 'always',
        resources: { memoryLimit: 1 },
      }),
    ]);
    const f = runChecks(fleet([stack('app', p, {}, [loader])]), { readText: () => undefined });
    assert.deepEqual(f, [loader]);
  });

  it('names every documented rule code', () => {
    assert.deepEqual(Object.keys(RULES).sort(), [
      'capacity',
      'connection-budget',
      'container-name-with-replicas',
      'dependency-cycle',
      'exposed-port',
      'floating-tag',
      'host-gateway-missing',
      'invalid-image',
      'no-healthcheck',
      'no-memory-limit',
      'no-restart-policy',
      'plaintext-secret',
      'port-conflict',
      'project-conflict',
      'proxy-route',
      'stateful-without-volume',
      'unknown-reference',
    ]);
  });
});
