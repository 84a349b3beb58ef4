import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capacity, systemReserve } from './capacity.js';
import { brief, fleet, project, server, service, stack } from '../test-helpers/make.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const mem = (bytes: number) => ({ resources: { memoryLimit: bytes } });

describe('capacity', () => {
  it('reserves 10 % of memory, at least 512 MiB', () => {
    assert.equal(systemReserve(2 * GiB), 512 * MiB);
    assert.equal(systemReserve(8 * GiB), Math.round(0.8 * GiB));
    assert.equal(systemReserve(16 * GiB), Math.round(1.6 * GiB));
  });

  it('is an error when limits × replicas exceed memory minus the reserve, counting unlimited services', () => {
    const st = stack(
      'shop',
      project([
        service('api', { ...mem(2 * GiB), replicas: 3 }),
        service('db', mem(2 * GiB)),
        service('worker'),
        service('beat'),
      ]),
      { server: 'vps1' },
    );
    const f = capacity(fleet([st], [server('vps1', { memory: 8 * GiB })]));
    assert.deepEqual(brief(f), [
      {
        code: 'capacity',
        severity: 'error',
        message:
          'server vps1: memory limits × replicas total 8 GiB, over the 7.2 GiB available (8 GiB minus a 819 MiB system reserve); 2 services have no memory limit and are not counted',
        path: 'servers/vps1',
      },
    ]);
    assert.equal(f[0]?.where.file, 'ferry.yml');
    assert.equal(f[0]?.server, 'vps1');
  });

  it('sums every stack on the server and uses the 512 MiB floor on small servers', () => {
    const a = stack('a', project([service('x', mem(1 * GiB))]), { server: 's' });
    const b = stack('b', project([service('y', mem(1 * GiB))]), { server: 's' });
    const f = capacity(fleet([a, b], [server('s', { memory: 2 * GiB })]));
    assert.deepEqual(
      brief(f).map((x) => x.message),
      [
        'server s: memory limits × replicas total 2 GiB, over the 1.5 GiB available (2 GiB minus a 512 MiB system reserve)',
      ],
    );
  });

  it('says nothing when limits fit, or when the server declares no memory', () => {
    const st = stack('a', project([service('x', mem(7 * GiB))]), { server: 's' });
    assert.deepEqual(capacity(fleet([st], [server('s', { memory: 8 * GiB })])), []);
    assert.deepEqual(capacity(fleet([st], [server('s')])), []);
  });

  it('warns when CPU limits × replicas exceed the server CPUs', () => {
    const st = stack(
      'a',
      project([
        service('x', { resources: { cpuLimit: 1.5 }, replicas: 2 }),
        service('y', { resources: { cpuLimit: 1 } }),
      ]),
      { server: 's' },
    );
    const f = capacity(fleet([st], [server('s', { cpus: 2 })]));
    assert.deepEqual(brief(f), [
      {
        code: 'capacity',
        severity: 'warning',
        message: 'server s: CPU limits × replicas total 4, more than its 2 CPUs',
        path: 'servers/s',
      },
    ]);
    assert.deepEqual(capacity(fleet([st], [server('s', { cpus: 4 })])), []);
  });

  it('ignores stacks placed on other servers', () => {
    const st = stack('a', project([service('x', mem(4 * GiB))]), { server: 'big' });
    assert.deepEqual(
      capacity(fleet([st], [server('small', { memory: 1 * GiB }), server('big', { memory: 16 * GiB })])),
      [],
    );
  });
});
