import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statefulWithoutVolume } from './stateful-without-volume.js';
import { brief, mount, service, single } from '../test-helpers/make.js';

describe('stateful-without-volume', () => {
  it('warns when the data directory is not on a named volume or a bind mount', () => {
    const f = statefulWithoutVolume(
      single([
        service('db', { image: 'postgres:16' }),
        service('cache', { image: 'redis:7', volumes: [mount(0, 'tmpfs', undefined, '/data')] }),
        service('mongo', { image: 'mongo:7', volumes: [mount(0, 'volume', undefined, '/data/db')] }),
        service('mq', { image: 'rabbitmq:3', volumes: [mount(0, 'bind', '/srv/mq/conf', '/etc/rabbitmq')] }),
      ]),
    );
    assert.deepEqual(brief(f), [
      {
        code: 'stateful-without-volume',
        severity: 'warning',
        message:
          'app/db (PostgreSQL) keeps its data in /var/lib/postgresql/data, which is not on a named volume or a bind mount',
        path: 'services/db/image',
      },
      {
        code: 'stateful-without-volume',
        severity: 'warning',
        message: 'app/cache (Redis) keeps its data in /data, which is not on a named volume or a bind mount',
        path: 'services/cache/volumes',
      },
      {
        code: 'stateful-without-volume',
        severity: 'warning',
        message: 'app/mongo (MongoDB) keeps its data in /data/db, which is not on a named volume or a bind mount',
        path: 'services/mongo/volumes',
      },
      {
        code: 'stateful-without-volume',
        severity: 'warning',
        message:
          'app/mq (RabbitMQ) keeps its data in /var/lib/rabbitmq, which is not on a named volume or a bind mount',
        path: 'services/mq/volumes',
      },
    ]);
  });

  it('accepts a mount at the directory or a parent of it', () => {
    const f = statefulWithoutVolume(
      single([
        service('db', { image: 'postgres:16', volumes: [mount(0, 'volume', 'pgdata', '/var/lib/postgresql/data/')] }),
        service('db17', {
          image: 'postgis/postgis:17-3.5',
          volumes: [mount(0, 'volume', 'pg', '/var/lib/postgresql')],
        }),
        service('mysql', { image: 'mysql:8', volumes: [mount(0, 'bind', '/srv/mysql', '/var/lib/mysql')] }),
        service('s3', {
          image: 'minio/minio:RELEASE.2024-10-13T13-34-11Z',
          command: ['server', '/data', '--console-address', ':9001'],
          volumes: [mount(0, 'volume', 'minio', '/data')],
        }),
        service('q', { image: 'qdrant/qdrant:v1.12.0', volumes: [mount(0, 'volume', 'q', '/qdrant/storage')] }),
        service('influx', { image: 'influxdb:1.8', volumes: [mount(0, 'volume', 'i', '/var/lib/influxdb')] }),
        service('app', { image: 'example/app:1' }),
        service('bitnami', { image: 'bitnami/postgresql:16' }),
        service('mc', { image: 'memcached:1.6' }),
      ]),
    );
    assert.deepEqual(f, []);
  });

  it('follows PGDATA, Postgres 18 and the MinIO command', () => {
    const f = statefulWithoutVolume(
      single([
        service('pgdata', {
          image: 'postgres:16',
          environment: { PGDATA: '/pg' },
          volumes: [mount(0, 'volume', 'x', '/var/lib/postgresql/data')],
        }),
        service('pg18', { image: 'postgres:18', volumes: [mount(0, 'volume', 'x', '/var/lib/postgresql/data')] }),
        service('s3', { image: 'minio/minio', command: 'server /export', volumes: [mount(0, 'volume', 'x', '/data')] }),
      ]),
    );
    assert.deepEqual(
      brief(f).map((x) => x.message),
      [
        'app/pgdata (PostgreSQL) keeps its data in /pg, which is not on a named volume or a bind mount',
        'app/pg18 (PostgreSQL) keeps its data in /var/lib/postgresql/18/docker, which is not on a named volume or a bind mount',
        'app/s3 (MinIO) keeps its data in /export, which is not on a named volume or a bind mount',
      ],
    );
  });
});
