import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  keysOf,
  parseManifest,
  provePostgres,
  proveRedis,
  proveVolume,
  tablesOf,
  type PostgresEntry,
} from './manifest.js';

test('the sums and the key count are read from what the backup printed, among restic’s JSON lines', () => {
  const out = [
    'table|public."odd name"|3|fdf68a0fffdc4901bd018b115315d287',
    'table|public.items|1000|9583d474532e10cb483073c78054687a',
    '{"message_type":"summary","snapshot_id":"abc"}',
    'keys|50',
  ].join('\n');
  assert.deepEqual(tablesOf(out), [
    { name: 'public."odd name"', rows: 3, checksum: 'fdf68a0fffdc4901bd018b115315d287' },
    { name: 'public.items', rows: 1000, checksum: '9583d474532e10cb483073c78054687a' },
  ]);
  assert.equal(keysOf(out), 50);
  assert.equal(keysOf('{"message_type":"summary"}'), undefined);
});

const pg: PostgresEntry = {
  service: 'db',
  db: 'shop',
  user: 'shop',
  image: 'postgres:16',
  snapshot: 's1',
  tables: [
    { name: 'public.a', rows: 2, checksum: 'aaaaaaaaaaaaaaaa' },
    { name: 'public.b', rows: 5, checksum: 'bbbbbbbbbbbbbbbb' },
  ],
};

test('every table proven by rows and checksum; a missing, changed or extra table fails', () => {
  assert.ok(provePostgres(pg, pg.tables).every((p) => p.ok));
  assert.deepEqual(
    provePostgres(pg, [
      { name: 'public.a', rows: 2, checksum: 'aaaaaaaaaaaaXXXX' },
      { name: 'public.c', rows: 1, checksum: 'cc' },
    ]),
    [
      {
        what: 'postgres db public.a',
        expected: '2 rows, checksum aaaaaaaaaaaa',
        found: '2 rows, checksum aaaaaaaaaaaa',
        ok: false,
      },
      { what: 'postgres db public.b', expected: '5 rows, checksum bbbbbbbbbbbb', found: 'no such table', ok: false },
      { what: 'postgres db public.c', expected: 'no such table', found: '1 rows', ok: false },
    ],
  );
});

test('key counts and volumes proven; a volume with the same files and bytes but other content fails', () => {
  const r = { service: 'cache', image: 'redis:7', snapshot: 's2', keys: 50 };
  assert.equal(proveRedis(r, 50).ok, true);
  assert.deepEqual(proveRedis(r, undefined), {
    what: 'redis cache',
    expected: '50 keys',
    found: 'no key count',
    ok: false,
  });
  const v = { name: 'uploads', path: '/v', snapshot: 's3', files: 2, bytes: 10, sha256: 'a'.repeat(64) };
  assert.equal(proveVolume(v, { files: 2, bytes: 10, sha256: 'a'.repeat(64) }).ok, true);
  assert.equal(proveVolume(v, { files: 2, bytes: 10, sha256: 'b'.repeat(64) }).ok, false);
});

test('a manifest of another version is refused', () => {
  assert.throws(() => parseManifest('{"version":2,"postgres":[],"redis":[],"volumes":[]}'), /version 1/);
  assert.equal(
    parseManifest('{"version":1,"stack":"s","run":"r","at":"t","postgres":[],"redis":[],"volumes":[]}').run,
    'r',
  );
});
