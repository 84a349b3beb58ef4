import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionBudget, headroom } from './connection-budget.js';
import { brief, files, fleet, mount, pool, project, server, service, stack } from '../test-helpers/make.js';

const none = files();

describe('connection-budget', () => {
  it('keeps superuser_reserved_connections plus 10 % free', () => {
    assert.equal(headroom(100, 3), 13);
    assert.equal(headroom(500, 3), 53);
    assert.equal(headroom(55, 3), 9);
  });

  it('sums pool × processes × replicas against the default max_connections', () => {
    const st = stack(
      'shop',
      project([service('api', { replicas: 3 }), service('worker'), service('db', { image: 'postgres:16' })]),
      {
        connections: [pool(0, 'api', 20, 'db', { processes: 2 }), pool(1, 'worker', 10, 'shop/db', { replicas: 2 })],
      },
    );
    const f = connectionBudget(fleet([st]), none);
    assert.deepEqual(brief(f), [
      {
        code: 'connection-budget',
        severity: 'error',
        message:
          "Postgres shop/db: connection pools may open 140 connections (shop/api: 3 replicas × 2 processes × pool 20 = 120, shop/worker: 2 replicas × 1 process × pool 10 = 20), more than the 87 usable (max_connections 100 from Postgres' default; 13 kept free: 3 superuser_reserved_connections + 10 %)",
        path: 'services/db',
      },
    ]);
    assert.deepEqual([f[0]?.stack, f[0]?.service], ['shop', 'db']);
  });

  it('reads max_connections from the command, and summarizes a budget that fits', () => {
    const db = service('db', {
      image: 'postgres:16',
      command: ['postgres', '-c', 'max_connections=500', '-c', 'shared_buffers=1GB'],
    });
    const app = stack('app', project([service('api', { replicas: 3 })]), {
      connections: [pool(0, 'api', 25, 'data/db')],
    });
    const f = connectionBudget(fleet([app, stack('data', project([db]))]), none);
    assert.deepEqual(brief(f), [
      {
        code: 'connection-budget',
        severity: 'info',
        message:
          'Postgres data/db: connection pools may open 75 of 447 usable connections (app/api: 3 replicas × 1 process × pool 25 = 75; max_connections 500 from its command; 53 kept free: 3 superuser_reserved_connections + 10 %)',
        path: 'services/db',
      },
    ]);
  });

  it('reads max_connections from a bind-mounted postgresql.conf', () => {
    const conf = '# tuned\nmax_connections = 50\t# was 100\nsuperuser_reserved_connections = 5\n';
    const db = service('db', {
      image: 'postgres:16',
      command: 'postgres -c config_file=/etc/postgresql/postgresql.conf',
      volumes: [mount(0, 'bind', '/srv/pg', '/etc/postgresql')],
    });
    const ctx = files({ '/srv/pg/postgresql.conf': conf });
    const at = (n: number) =>
      connectionBudget(
        fleet([stack('s', project([db, service('api')]), { connections: [pool(0, 'api', n, 'db')] })]),
        ctx,
      );
    assert.deepEqual(
      brief(at(41)).map((x) => [x.severity, x.message]),
      [
        [
          'error',
          'Postgres s/db: connection pools may open 41 connections (s/api: 1 replica × 1 process × pool 41 = 41), more than the 40 usable (max_connections 50 from /srv/pg/postgresql.conf; 10 kept free: 5 superuser_reserved_connections + 10 %)',
        ],
      ],
    );
    assert.deepEqual(
      brief(at(40)).map((x) => x.severity),
      ['info'],
    );
  });
});

describe('connection-budget with servers and references in the fleet file', () => {
  it("counts a pool to a service kept in its server's installed Postgres against that Postgres", () => {
    const st = stack('shop', project([service('api', { replicas: 2 }), service('db', { image: 'postgres:16' })]), {
      server: 'app1',
      serverPostgres: ['db'],
      connections: [pool(0, 'api', 20, 'db')],
    });
    const pg = { maxConnections: 40, cluster: 'main', port: 5432, superuser: 'postgres', tune: false };
    assert.deepEqual(brief(connectionBudget(fleet([st], [server('app1', { postgres: pg })]), none)), [
      {
        code: 'connection-budget',
        severity: 'error',
        message:
          'Postgres on server app1: connection pools may open 40 connections (shop/api: 2 replicas × 1 process × pool 20 = 40), more than the 33 usable (max_connections 40 from the fleet file; 7 kept free: 3 superuser_reserved_connections + 10 %)',
        path: 'servers/app1/postgres',
      },
    ]);
  });

  it('uses the fleet file for a Postgres on a host', () => {
    const st = stack('app', project([service('api', { replicas: 2 })]), {
      server: 'app1',
      connections: [pool(0, 'api', 30, 'server:db1')],
    });
    const f = connectionBudget(
      fleet(
        [st],
        [
          server('app1'),
          server('db1', {
            postgres: { maxConnections: 60, cluster: 'main', port: 5432, superuser: 'postgres', tune: false },
          }),
        ],
      ),
      none,
    );
    assert.deepEqual(brief(f), [
      {
        code: 'connection-budget',
        severity: 'error',
        message:
          'Postgres on server db1: connection pools may open 60 connections (app/api: 2 replicas × 1 process × pool 30 = 60), more than the 51 usable (max_connections 60 from the fleet file; 9 kept free: 3 superuser_reserved_connections + 10 %)',
        path: 'servers/db1/postgres',
      },
    ]);
    assert.equal(f[0]?.server, 'db1');
    // Monitored, its exporter's connections count too.
    const loaded = fleet(
      [st],
      [
        server('app1'),
        server('db1', {
          postgres: { maxConnections: 100, cluster: 'main', port: 5432, superuser: 'postgres', tune: false },
        }),
      ],
    );
    const monitored = {
      ...loaded,
      fleet: { ...loaded.fleet, monitoring: {} as NonNullable<typeof loaded.fleet.monitoring> },
    };
    assert.match(
      brief(connectionBudget(monitored, none))[0]!.message,
      /may open 63 of 87 usable connections \(app\/api: 2 replicas × 1 process × pool 30 = 60, its exporter \(ferry_monitor\): 3;/,
    );
    assert.match(brief(connectionBudget(loaded, none))[0]!.message, /may open 60 of 87 usable connections/);
  });

  it('reports pools that name nothing as unknown-reference at the fleet file', () => {
    const st = stack('app', project([service('api')]), {
      connections: [
        pool(0, 'api', 5, 'nope/db'),
        pool(1, 'ghost', 5, 'server:db1'),
        pool(2, 'api', 5, 'server:app1'),
        pool(3, 'api', 5, 'app/missing'),
      ],
    });
    const f = connectionBudget(fleet([st], [server('app1')]), none);
    assert.deepEqual(brief(f), [
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'stack app: connections[0].to "nope/db" names nothing: there is no stack nope',
        path: 'stacks/app/connections/0/to',
      },
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'stack app: connections[1].service "ghost" names nothing: stack app has no service ghost',
        path: 'stacks/app/connections/1/service',
      },
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'stack app: connections[1].to "server:db1" names nothing: there is no server db1 in the fleet',
        path: 'stacks/app/connections/1/to',
      },
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'stack app: connections[2].to "server:app1" names nothing: server app1 declares no postgres',
        path: 'stacks/app/connections/2/to',
      },
      {
        code: 'unknown-reference',
        severity: 'error',
        message: 'stack app: connections[3].to "app/missing" names nothing: stack app has no service missing',
        path: 'stacks/app/connections/3/to',
      },
    ]);
    assert.equal(f[0]?.where.file, 'ferry.yml');
  });

  it('skips pools towards stacks that failed to load', () => {
    const st = stack('app', project([service('api')]), { connections: [pool(0, 'api', 5, 'data/db')] });
    assert.deepEqual(connectionBudget(fleet([st, stack('data', undefined)]), none), []);
  });
});
