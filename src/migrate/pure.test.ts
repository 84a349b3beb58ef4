import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../model/compose.js';
import { changedSince, checksumSql, compareTables, countSql, databases, parseSums, REDIS_IMAGE } from './postgres.js';
import { needWithMargin } from './steps/preflight.js';
import { report, type Migration } from './context.js';

const svc = (
  name: string,
  image: string,
  environment: Record<string, string> = {},
  volumes: Service['volumes'] = [],
): Service =>
  ({
    name,
    image,
    environment,
    volumes,
    ports: [],
    expose: [],
    inlineEnvironment: {},
    envFiles: [],
    dependsOn: {},
    resources: {},
    replicas: 1,
    networks: {},
    secrets: [],
    configs: [],
    profiles: [],
    labels: {},
    raw: {},
  }) as Service;

test('Postgres services are found by image, with the role and database their image creates', () => {
  const found = databases([
    svc('db', 'postgres:16', { POSTGRES_USER: 'shop', POSTGRES_DB: 'orders' }, [
      { type: 'volume', source: 'pg', target: '/var/lib/postgresql/data', readOnly: false, index: 0 },
    ]),
    svc('gis', 'postgis/postgis:16-3.4'),
    svc('tb', 'ferry-tb-postgres:1', { POSTGRES_USER: 'demo' }),
    svc('web', 'ghcr.io/acme/web:1', { DATABASE_URL: 'postgres://x' }),
    svc('metrics', 'quay.io/prometheuscommunity/postgres-exporter:v0.16.0'),
    svc('dumps', 'prodrigestivill/postgres-backup-local:16'),
  ]);
  assert.deepEqual(found, [
    { service: 'db', user: 'shop', db: 'orders', volumes: ['pg'] },
    { service: 'gis', user: 'postgres', db: 'postgres', volumes: [] },
    { service: 'tb', user: 'demo', db: 'demo', volumes: [] },
  ]);
  assert.ok(
    REDIS_IMAGE.test('redis:7-alpine') && REDIS_IMAGE.test('valkey/valkey:8') && REDIS_IMAGE.test('ferry-tb-redis:1'),
  );
  assert.ok(!REDIS_IMAGE.test('ghcr.io/acme/web:1'));
});

test('table checksums: one order-independent query per table (or only counts); results compared by name', () => {
  assert.equal(
    checksumSql(['public.a', 'odd."it\'s"']),
    [
      "SELECT 'public.a', count(*), md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')) FROM public.a x;",
      "SELECT 'odd.\"it''s\"', count(*), md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')) FROM odd.\"it's\" x;",
    ].join('\n'),
  );
  assert.equal(
    countSql(['public.a', 'odd."it\'s"']),
    "SELECT 'public.a', count(*), '' FROM public.a;\nSELECT 'odd.\"it''s\"', count(*), '' FROM odd.\"it's\";",
  );
  assert.deepEqual(parseSums('public.a|3|\n'), [{ name: 'public.a', rows: 3, checksum: '' }]);
  const src = parseSums('public.a|3|aaa\npublic.b|2|bbb\npublic.gone|1|ccc\n');
  const dst = parseSums('public.a|3|aaa\npublic.b|2|xxx\npublic.new|0|d41d\n');
  assert.deepEqual(compareTables(src, dst), [
    { name: 'public.a', rows_source: 3, rows_target: 3, checksum_match: true },
    { name: 'public.b', rows_source: 2, rows_target: 2, checksum_match: false },
    { name: 'public.gone', rows_source: 1, rows_target: -1, checksum_match: false },
    { name: 'public.new', rows_source: -1, rows_target: 0, checksum_match: false },
  ]);
});

test('a proof is stale when a table of the source has other rows than when proven, or is new', () => {
  const proof = [
    { name: 'public.a', rows_source: 3, rows_target: 3, checksum_match: true },
    { name: 'public.b', rows_source: 2, rows_target: 2, checksum_match: true },
  ];
  assert.deepEqual(changedSince(proof, parseSums('public.a|3|\npublic.b|2|\n')), []);
  assert.deepEqual(changedSince(proof, parseSums('public.a|4|\npublic.b|2|\npublic.c|0|\n')), [
    'public.a has 4 rows, 3 when proven',
    'public.c is new',
  ]);
});

test('the disk margin, and the report: the downtime and the transfers it is given, their sum, the duration', () => {
  assert.equal(needWithMargin(0), 1024 ** 3);
  assert.equal(needWithMargin(1000), 1100 + 1024 ** 3);
  const m = { marks: { startedAt: 1000, tables: [], volumes: [] } } as unknown as Migration;
  const transferred = { volumes: 40, databases: 2, replication: 0, images: 0, release: 0 };
  assert.deepEqual(report(m, 9000, 2500, transferred), {
    downtime_ms: 2500,
    bytes_transferred: 42,
    transferred,
    duration_ms: 8000,
    verified: { tables: [], volumes: [] },
  });
  assert.equal(report(m, 9000, null, transferred).downtime_ms, null);
});

test('a hostile table name (quotes, backslash, $$, newline), as quote_ident gives it, is a literal in the checksums and counts', () => {
  const t = 'public."a\'b\\c$$d\ne"';
  assert.equal(
    checksumSql([t]),
    `SELECT E'public."a''b\\\\c$$d\ne"', count(*), md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')) FROM ${t} x;`,
  );
  assert.equal(countSql([t]), `SELECT E'public."a''b\\\\c$$d\ne"', count(*), '' FROM ${t};`);
  assert.equal(countSql(['public.plain']), "SELECT 'public.plain', count(*), '' FROM public.plain;");
});
