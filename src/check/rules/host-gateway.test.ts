import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostGateway } from './host-gateway.js';
import { brief, fleet, pool, project, server, service, stack } from '../test-helpers/make.js';

const pg = { maxConnections: 100, cluster: 'main', port: 5432, superuser: 'postgres', tune: false };

describe('host-gateway-missing', () => {
  it('warns about a service connecting to its own server without a host-gateway mapping', () => {
    const services = [
      service('api'),
      service('web', { raw: { extra_hosts: ['host.docker.internal:host-gateway'] } }),
      service('beat', { raw: { extra_hosts: { 'host.docker.internal': 'host-gateway' } } }),
      service('cron', { networkMode: 'host' }),
      service('remote'),
    ];
    const connections = ['api', 'web', 'beat', 'cron'].map((s, i) => pool(i, s, 5, 'server:app1'));
    connections.push(pool(4, 'remote', 5, 'server:db1'));
    const f = hostGateway(
      fleet(
        [stack('app', project(services), { server: 'app1', connections })],
        [server('app1', { postgres: pg }), server('db1', { postgres: pg })],
      ),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'host-gateway-missing',
        severity: 'warning',
        message:
          'app/api connects to the Postgres on app1, but host.docker.internal does not resolve in its containers',
        path: 'services/api',
      },
    ]);
  });

  it('says nothing when the server declares no postgres', () => {
    const st = stack('app', project([service('api')]), {
      server: 'app1',
      connections: [pool(0, 'api', 5, 'server:app1')],
    });
    assert.deepEqual(hostGateway(fleet([st], [server('app1')])), []);
  });
});
