import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dataDirs, isPostgresImage, knownImage, KNOWN_IMAGES, privatePortLabel } from './known-images.js';
import { parseImage } from './image-ref.js';
import { service } from './test-helpers/make.js';

describe('image references', () => {
  it('splits registry, repository, tag and digest', () => {
    assert.deepEqual(parseImage('postgres:16'), { repository: 'postgres', name: 'postgres', tag: '16' });
    assert.deepEqual(parseImage('docker.io/library/redis'), {
      registry: 'docker.io',
      repository: 'redis',
      name: 'redis',
    });
    assert.deepEqual(parseImage('localhost:5000/team/app@sha256:ab'), {
      registry: 'localhost:5000',
      repository: 'team/app',
      name: 'app',
      namespace: 'team',
      digest: 'sha256:ab',
    });
    assert.deepEqual(parseImage('ghcr.io/Acme/API:v2'), {
      registry: 'ghcr.io',
      repository: 'acme/api',
      name: 'api',
      namespace: 'acme',
      tag: 'v2',
    });
  });
});

describe('known images', () => {
  it('has no name in two entries', () => {
    const names = KNOWN_IMAGES.flatMap((k) => k.names);
    assert.equal(new Set(names).size, names.length);
  });

  it('matches on the last repository component', () => {
    assert.equal(knownImage('bitnami/redis:7.2')?.label, 'Redis');
    assert.equal(knownImage('docker.elastic.co/elasticsearch/elasticsearch:8.15.0')?.label, 'Elasticsearch');
    assert.equal(knownImage('prom/node-exporter:v1.8.2')?.label, 'node-exporter');
    assert.equal(knownImage('redis-commander:latest'), undefined);
    assert.equal(knownImage(undefined), undefined);
  });

  it('knows which ports are not public entry points', () => {
    assert.equal(privatePortLabel('postgres:16', 5432, 5432), 'PostgreSQL');
    assert.equal(privatePortLabel('rabbitmq:3-management', 15672, 15672), 'RabbitMQ');
    assert.equal(privatePortLabel('minio/minio', 9001, 9001), 'MinIO');
    assert.equal(privatePortLabel('grafana/grafana-oss:11.2.0', 3000, 3000), 'Grafana');
    assert.equal(privatePortLabel('traefik:v3', 8080, 8080), 'Traefik dashboard');
    assert.equal(privatePortLabel('mher/flower:2.0', 5555, 5555), 'Flower');
    assert.equal(privatePortLabel('acme/api:1', 6378, 6380), 'Redis');
    assert.equal(privatePortLabel('traefik:v3', 443, 443), undefined);
    assert.equal(privatePortLabel('acme/front:1', 3000, 3000), undefined);
    assert.equal(privatePortLabel(undefined, 80, 80), undefined);
  });

  it('knows where stateful images keep their data', () => {
    assert.deepEqual(dataDirs(service('db', { image: 'postgres:16.4' })), {
      label: 'PostgreSQL',
      dirs: ['/var/lib/postgresql/data'],
    });
    assert.deepEqual(dataDirs(service('db', { image: 'postgres:18-alpine' })), {
      label: 'PostgreSQL',
      dirs: ['/var/lib/postgresql/18/docker'],
    });
    assert.deepEqual(dataDirs(service('db', { image: 'timescale/timescaledb:latest-pg16' })), {
      label: 'PostgreSQL',
      dirs: ['/var/lib/postgresql/data'],
    });
    assert.deepEqual(dataDirs(service('m', { image: 'mariadb:11' })), { label: 'MySQL', dirs: ['/var/lib/mysql'] });
    assert.deepEqual(dataDirs(service('c', { image: 'clickhouse/clickhouse-server:24.8' })), {
      label: 'ClickHouse',
      dirs: ['/var/lib/clickhouse'],
    });
    assert.deepEqual(
      dataDirs(service('s3', { image: 'minio/minio', command: ['server', '/data', '--console-address', ':9001'] })),
      { label: 'MinIO', dirs: ['/data'] },
    );
    assert.equal(dataDirs(service('s3', { image: 'minio/minio' })), undefined);
    assert.equal(dataDirs(service('b', { image: 'bitnami/postgresql:16' })), undefined);
    assert.equal(dataDirs(service('k', { image: 'apache/kafka:3.8.0' })), undefined);
  });

  it('recognizes Postgres images', () => {
    for (const i of [
      'postgres:16',
      'postgis/postgis:16-3.4',
      'timescale/timescaledb-ha:pg16',
      'pgvector/pgvector:pg16',
      'bitnami/postgresql',
    ])
      assert.equal(isPostgresImage(i), true, i);
    for (const i of ['mysql:8', 'pgbouncer/pgbouncer', undefined]) assert.equal(isPostgresImage(i), false, String(i));
  });
});
