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

  it('reports one cycle per group that waits on itself, however many cycles it holds (no exponential search)', () => {
    const names = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const dense = project(names.map((n) => service(n, { dependsOn: on(...names.filter((m) => m !== n)) })));
    assert.deepEqual(findCycles(dense), [['s0', 's1']]);
  });

  it('follows a chain of 100,000 services without recursion', () => {
    const n = 100_000;
    const chain = project(Array.from({ length: n }, (_, i) => service(`s${i}`, { dependsOn: on(`s${(i + 1) % n}`) })));
    const cycles = findCycles(chain);
    assert.equal(cycles.length, 1);
    assert.equal(cycles[0]!.length, n);
    assert.equal(cycles[0]![0], 's0');
  });

  it('says nothing for an acyclic project', () => {
    assert.deepEqual(dependencyCycle(single([service('web', { dependsOn: on('db') }), service('db')])), []);
  });
});
