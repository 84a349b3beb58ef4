/** How exporters reach a stack's Postgres and Redis: network, port, and whether a password is handed over. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ComposeProject, Service } from '../model/compose.js';
import { mysqlConnect, postgresConnect, redisConnect, redisServicePassword } from './connect.js';
import { mysqlMyCnf } from './render/compose.js';
import { exporterKind } from './targets.js';

const service = (s: Partial<Service>): Service =>
  ({
    name: 'cache',
    image: 'redis:7.4',
    environment: {},
    networks: {},
    ports: [],
    volumes: [],
    secrets: [],
    ...s,
  }) as Service;
const project = {
  name: 'shop',
  networks: { default: { name: 'shop_default', raw: {} }, back: { name: 'shared', external: true, raw: {} } },
  secrets: {
    pg: { name: 'shop_pg', external: false, file: '/srv/app/pg.txt', raw: {} },
    vault: { name: 'vault', external: true, raw: {} },
  },
} as unknown as ComposeProject;

test('connect: a Redis password is found in the exec form, the shell form, REDIS_ARGS and REDIS_PASSWORD; none is none', () => {
  assert.equal(redisServicePassword(service({ command: ['redis-server', '--requirepass', 's3 cr"t'] })), 's3 cr"t');
  assert.equal(
    redisServicePassword(
      service({ command: ['sh', '-c', 'redis-server --requirepass "$PW"'], environment: { PW: 'from-env' } }),
    ),
    'from-env',
  );
  assert.equal(redisServicePassword(service({ environment: { REDIS_ARGS: '--requirepass abc' } })), 'abc');
  assert.equal(redisServicePassword(service({ environment: { REDIS_PASSWORD: 'bitnami' } })), 'bitnami');
  assert.equal(redisServicePassword(service({ command: 'redis-server --appendonly yes' })), undefined);
});

test('connect: Redis is reached on its first network at its --port; not at all on another network mode', () => {
  assert.deepEqual(redisConnect(service({ command: ['redis-server', '--port', '6380'] }), project), {
    network: 'shop_default',
    port: 6380,
    auth: false,
  });
  assert.deepEqual(redisConnect(service({ networks: { back: null }, environment: { REDIS_PASSWORD: 'x' } }), project), {
    network: 'shared',
    port: 6379,
    auth: true,
  });
  assert.equal(redisConnect(service({ networkMode: 'host' }), project), undefined);
});

test('connect: Postgres needs its password in the environment or a Compose secret; its user and database default as the image does', () => {
  const pg = service({ name: 'db', image: 'postgres:16', environment: { POSTGRES_PASSWORD: 'pw' } });
  assert.deepEqual(postgresConnect(pg, project), {
    network: 'shop_default',
    user: 'postgres',
    db: 'postgres',
    passwordVar: 'POSTGRES_PASSWORD',
  });
  // From a Compose secret Ferry can read: the secret is handed over; one it cannot (external, not mounted) is not.
  const fromFile = { ...pg, environment: { POSTGRES_PASSWORD_FILE: '/run/secrets/pg' } };
  assert.deepEqual(postgresConnect({ ...fromFile, secrets: [{ source: 'pg', target: '/run/secrets/pg' }] }, project), {
    network: 'shop_default',
    user: 'postgres',
    db: 'postgres',
    passwordVar: 'POSTGRES_PASSWORD_FILE',
    passwordSecret: 'pg',
  });
  assert.equal(postgresConnect(fromFile, project), undefined);
  assert.equal(
    postgresConnect(
      {
        ...pg,
        environment: { POSTGRES_PASSWORD_FILE: '/run/secrets/vault' },
        secrets: [{ source: 'vault', target: '/run/secrets/vault' }],
      },
      project,
    ),
    undefined,
  );
});

test('connect: Redis images are found by name; exporters, UIs and Sentinel named after it are not', () => {
  for (const image of ['redis:7.4', 'valkey/valkey:8', 'bitnami/redis:7.2', 'ferry-tb-redis:1'])
    assert.equal(exporterKind(service({ image })), 'redis', image);
  for (const image of [
    'bitnami/redis-exporter:1.6',
    'oliver006/redis_exporter:v1.66.0',
    'rediscommander/redis-commander:latest',
    'redis/redisinsight:2.60',
    'bitnami/redis-sentinel:7.4',
  ])
    assert.equal(exporterKind(service({ image })), undefined, image);
});

test('connect: MySQL and MariaDB as root when its password is set, else as the user the image creates; a file that is no secret of the service is none', () => {
  const db = (environment: Record<string, string>, extra: Partial<Service> = {}) =>
    mysqlConnect(service({ name: 'db', image: 'mariadb:11', environment, ...extra }), project);
  assert.deepEqual(db({ MARIADB_ROOT_PASSWORD: 'r', MARIADB_USER: 'app', MARIADB_PASSWORD: 'p' }), {
    network: 'shop_default',
    user: 'root',
    passwordVar: 'MARIADB_ROOT_PASSWORD',
    port: 3306,
  });
  assert.deepEqual(db({ MYSQL_RANDOM_ROOT_PASSWORD: 'yes', MYSQL_USER: 'app', MYSQL_PASSWORD: 'p' }), {
    network: 'shop_default',
    user: 'app',
    passwordVar: 'MYSQL_PASSWORD',
    port: 3306,
  });
  assert.equal(db({ MYSQL_ROOT_PASSWORD: 'r' }, { command: ['mysqld', '--port=3307'] })?.port, 3307);
  assert.equal(db({ MYSQL_ROOT_PASSWORD_FILE: '/run/secrets/root' }), undefined);
  assert.equal(db({ MYSQL_USER: 'app' }), undefined, 'a user without its password');
  assert.equal(db({ MYSQL_ROOT_PASSWORD: 'r' }, { networkMode: 'host' }), undefined);
});

test('connect: the my.cnf of mysqld_exporter quotes the password, so that # and ; stay in it', () => {
  const e = {
    kind: 'mysql' as const,
    server: 'app',
    address: '10.0.0.5:9104',
    stack: 'blog',
    service: 'db',
    mysql: { network: 'blog_default', user: 'root', passwordVar: 'MYSQL_ROOT_PASSWORD', port: 3306 },
  };
  // Backticks and triple double quotes are read raw by the exporter's ini reader (checked
  // against mysqld_exporter 0.17 and MariaDB); double quotes are not: a # cuts the value first.
  assert.equal(mysqlMyCnf(e, 'a#b;c'), '[client]\nuser=root\npassword=`a#b;c`\nhost=db\nport=3306\n');
  assert.match(mysqlMyCnf(e, 'say "hi"')!, /^password=`say "hi"`$/m);
  assert.match(mysqlMyCnf(e, 'pa`ss#x;"y')!, /^password="{3}pa`ss#x;"y"{3}$/m);
  assert.equal(mysqlMyCnf(e, 'a`b' + '"'.repeat(3) + 'c'), undefined);
  assert.equal(mysqlMyCnf(e, 'two\nlines'), undefined);
});

test("connect: MySQL images are found by name, also under a prefix of one's own; their exporters and tools are not", () => {
  for (const image of [
    'mysql:8.4',
    'mariadb:11',
    'bitnami/mariadb:11.4',
    'percona/percona-server:8.0',
    'ferry-tb-mariadb:1',
  ])
    assert.equal(exporterKind(service({ image })), 'mysql', image);
  for (const image of ['prom/mysqld-exporter:v0.16.0', 'mysql/mysql-router:8.0', 'mariadb-backup:1'])
    assert.equal(exporterKind(service({ image })), undefined, image);
});
