import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exposedPort } from './exposed-port.js';
import { brief, port, service, single } from '../test-helpers/make.js';

describe('exposed-port', () => {
  it('warns about a datastore published on all interfaces, with the ufw hint', () => {
    const f = exposedPort(single([service('db', { image: 'postgres:16', ports: [port(0, 5432, 5432)] })]));
    assert.deepEqual(brief(f), [
      {
        code: 'exposed-port',
        severity: 'warning',
        message: 'app/db (PostgreSQL) publishes container port 5432/tcp on all host interfaces as host port 5432',
        path: 'services/db/ports/0',
      },
    ]);
    assert.equal(
      f[0]?.hint,
      'Docker\'s published ports bypass ufw (Docker writes its own iptables rules), so this is reachable from the internet even when the firewall denies it. Bind it to loopback ("127.0.0.1:5432:5432") or remove `ports:` and let other services reach it over the compose network.',
    );
  });

  it('treats 0.0.0.0, :: and [::] as all interfaces, and ephemeral ports as published', () => {
    const f = exposedPort(
      single([
        service('cache', {
          image: 'redis:7',
          ports: [port(0, 6379, 6379, { hostIp: '0.0.0.0' }), port(1, 6380, 6379, { hostIp: '[::]' })],
        }),
        service('mq', { image: 'rabbitmq:3-management', ports: [port(0, undefined, 15672, { hostIp: '::' })] }),
      ]),
    );
    assert.deepEqual(
      brief(f).map((x) => [x.message, x.path]),
      [
        [
          'app/cache (Redis) publishes container port 6379/tcp on all host interfaces as host port 6379',
          'services/cache/ports/0',
        ],
        [
          'app/cache (Redis) publishes container port 6379/tcp on all host interfaces as host port 6380',
          'services/cache/ports/1',
        ],
        [
          'app/mq (RabbitMQ) publishes container port 15672/tcp on all host interfaces as an ephemeral host port',
          'services/mq/ports/0',
        ],
      ],
    );
    assert.match(f[2]?.hint ?? '', /"127\.0\.0\.1::15672"/);
  });

  it('recognizes admin UIs by image and port, and datastore ports on any image', () => {
    const f = exposedPort(
      single([
        service('grafana', { image: 'grafana/grafana:11.1.0', ports: [port(0, 3000, 3000)] }),
        service('proxy', { image: 'traefik:v3.1', ports: [port(0, 80, 80), port(1, 443, 443), port(2, 8080, 8080)] }),
        service('legacy', { image: 'example/custom-db:2', ports: [port(0, 3307, 3306)] }),
      ]),
    );
    assert.deepEqual(
      brief(f).map((x) => x.path),
      ['services/grafana/ports/0', 'services/proxy/ports/2', 'services/legacy/ports/0'],
    );
  });

  it('leaves loopback binds, public entry points and host networking alone', () => {
    const f = exposedPort(
      single([
        service('db', { image: 'postgres:16', ports: [port(0, 5432, 5432, { hostIp: '127.0.0.1' })] }),
        service('web', { image: 'nginx:1.27', ports: [port(0, 80, 80), port(1, 443, 443)] }),
        service('front', { build: { context: '.' }, image: undefined, ports: [port(0, 3000, 3000)] }),
        service('hostdb', { image: 'redis:7', networkMode: 'host', ports: [port(0, 6379, 6379)] }),
      ]),
    );
    assert.deepEqual(f, []);
  });
});
