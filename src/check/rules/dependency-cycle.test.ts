import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dependencyCycle, findCycles } from './dependency-cycle.js';
import { brief, project, service, single } from '../test-helpers/make.js';
import type { Dependency } from '../../model/compose.js';

const on = (...names: string[]): Record<string, Dependency> =>
  Object.fromEntries(names.map((n) => [n, { condition: 'service_started', required: true, restart: false }]));

describe('dependency-cycle', () => {
  it('reports a cycle once, at its first service', () => {
    const f = dependencyCycle(
      single([
        service('web', { dependsOn: on('api') }),
        service('api', { dependsOn: on('worker') }),
        service('worker', { dependsOn: on('web') }),
      ]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'dependency-cycle',
        severity: 'error',
        message: 'app: depends_on cycle web → api → worker → web',
        path: 'services/web/depends_on/api',
      },
    ]);
  });

  it('finds self-dependencies and separate cycles, ignores chains and missing services', () => {
    const p = project([
      service('a', { dependsOn: on('a') }),
      service('b', { dependsOn: on('c', 'ghost') }),
      service('c', { dependsOn: on('b') }),
      service('d', { dependsOn: on('b') }),
    ]);
    assert.deepEqual(findCycles(p), [['a'], ['b', 'c']]);
  });

  it('says nothing for an acyclic project', () => {
    assert.deepEqual(dependencyCycle(single([service('web', { dependsOn: on('db') }), service('db')])), []);
  });
});
