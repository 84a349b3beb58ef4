import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { differing, keyCount, sourcesOf } from './restore-live.js';
import { beforeDb, stagingDb, swapRedis, unswapRedis } from './restore-commands.js';
import { stoppedServices } from './restore-steps.js';
import { shortfalls } from './restore-space.js';
import { identityOf } from '../cli/restore.js';
import { recoveryRepository } from '../cli/recover.js';
import type { BackupTarget } from '../cli/backup-input.js';
import type { FerryError } from '../core/errors.js';
import type { BackupManifest } from './manifest.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';

const manifest: BackupManifest = {
  version: 1,
  stack: 'shop',
  run: 'r1',
  at: '2026-12-03T00:00:00Z',
  mysql: [],
  postgres: [{ service: 'db', db: 'shop', user: 'shop', image: 'postgres:17', snapshot: 's1', tables: [] }],
  redis: [
    { service: 'cache', image: 'redis:7', snapshot: 's2', keys: 5 },
    { service: 'queue', image: 'redis:7', snapshot: 's3', keys: 9 },
  ],
  volumes: [{ name: 'uploads', path: '/v/_data', snapshot: 's4', files: 1, bytes: 2, sha256: 'x' }],
  paths: [],
};

describe('restore, pure parts', () => {
  test('keyCount adds the keys of every database of INFO keyspace', () => {
    assert.equal(keyCount('# Keyspace\r\ndb0:keys=40,expires=0,avg_ttl=0\r\ndb3:keys=2,expires=1,avg_ttl=9\r\n'), 42);
    assert.equal(keyCount('# Keyspace\r\n'), 0);
  });

  test('differing names the sources with a failed proof, a table proof counting for its database', () => {
    const proofs = [
      { what: 'postgres db public.orders', expected: '', found: '', ok: false },
      { what: 'redis cache', expected: '', found: '', ok: true },
      { what: 'redis queue', expected: '', found: '', ok: false },
      { what: 'volume uploads', expected: '', found: '', ok: true },
    ];
    assert.deepEqual(differing(manifest, proofs), [
      { kind: 'postgres', name: 'db' },
      { kind: 'redis', name: 'queue' },
    ]);
    assert.equal(sourcesOf(manifest).length, 4);
  });

  test('the services stopped: all but Postgres and the Redis services left alone', () => {
    const release = { services: ['db', 'cache', 'queue', 'web', 'worker'].map((name) => ({ name })) } as ReleaseMeta;
    assert.deepEqual(stoppedServices({ release, manifest, sources: [{ kind: 'redis', name: 'cache' }] }), [
      'cache',
      'web',
      'worker',
    ]);
  });

  test('a restore is found again from its journal command; anything else is not one', () => {
    assert.deepEqual(
      identityOf('restore shop server=app1 run=r1 id=abc123 repository=local sources=postgres:db,volume:up:loads'),
      {
        server: 'app1',
        run: 'r1',
        id: 'abc123',
        repository: 'local',
        sources: [
          { kind: 'postgres', name: 'db' },
          { kind: 'volume', name: 'up:loads' },
        ],
      },
    );
    assert.equal(identityOf('restore shop'), undefined);
  });

  test('database names stay within the 63 bytes Postgres keeps', () => {
    const long = 'd'.repeat(63);
    assert.ok(Buffer.byteLength(stagingDb(long)) <= 63);
    assert.ok(Buffer.byteLength(beforeDb(long, 'abcdef')) <= 63);
    assert.equal(beforeDb('shop', 'abcdef'), 'shop_before_abcdef');
  });

  test('the Redis swap passes the AOF directory only when AOF is on, and its undo moves back what it moved', () => {
    const on = swapRedis(
      { dir: '/d', dbfilename: 'dump.rdb', aof: { dirname: 'appendonlydir', filename: 'a.aof' } },
      'i1',
    );
    assert.deepEqual(on.kind === 'argv' ? on.argv.slice(-7) : [], [
      'ferry-restore-redis',
      '/d',
      'dump.rdb',
      '/d/.ferry-restore-i1.rdb',
      '/d/.ferry-before-i1',
      'appendonlydir',
      'a.aof',
    ]);
    const off = swapRedis({ dir: '/d', dbfilename: 'dump.rdb' }, 'i1');
    assert.deepEqual(off.kind === 'argv' ? off.argv.slice(-2) : [], ['', '']);
    const undo = unswapRedis(
      { dir: '/d', dbfilename: 'dump.rdb', aof: { dirname: 'appendonlydir', filename: 'a.aof' } },
      'i1',
    );
    assert.deepEqual(undo.kind === 'argv' ? undo.argv.slice(-2) : [], ['dump.rdb', 'appendonlydir']);
  });
});

describe('recover: the repository it reads', () => {
  const target = (repos: { name: string; server?: string }[], stackServer: string, on: string) =>
    ({
      stack: { def: { name: 'shop', server: stackServer } },
      def: { repositories: repos.map((r) => ({ path: '/r', ...r })) },
      server: { name: on },
      place: 'ferry.yml: stacks/shop/backups',
      repos: repos.map((r) => ({ name: r.name, stack: 'shop', url: '/r' })),
    }) as unknown as BackupTarget;

  test('the first repository on another server than the stack’s own, or the one named', () => {
    const b = target([{ name: 'local' }, { name: 'vault', server: 'v1' }], 'app1', 'app2');
    assert.equal(recoveryRepository(b, undefined).name, 'vault');
    assert.equal(recoveryRepository(b, 'local').name, 'local');
  });

  test('every repository on the lost server is recover-no-offsite; onto the same server, its own will do', () => {
    const b = target([{ name: 'local' }, { name: 'also', server: 'app1' }], 'app1', 'app2');
    assert.throws(
      () => recoveryRepository(b, undefined),
      (e: FerryError) => e.code === 'recover-no-offsite',
    );
    assert.equal(recoveryRepository(target([{ name: 'local' }], 'app1', 'app1'), undefined).name, 'local');
    assert.throws(
      () => recoveryRepository(b, 'nope'),
      (e: FerryError) => e.code === 'usage',
    );
  });
});

describe('restore: room to stage', () => {
  const MiB = 2 ** 20;
  test('needs on one filesystem add up; each filesystem short of room is named with what would go there', () => {
    const root = { target: '/', avail: 1000 * MiB };
    const big = { target: '/srv', avail: 100_000 * MiB };
    const short = shortfalls([
      { need: { what: 'database shop', path: '/var/lib/docker/volumes/a/_data', bytes: 500 * MiB }, fs: root },
      { need: { what: 'volume uploads', path: '/var/lib/docker/volumes/b/_data', bytes: 300 * MiB }, fs: root },
      { need: { what: 'volume media', path: '/srv/x', bytes: 5000 * MiB }, fs: big },
    ]);
    assert.equal(short.length, 1);
    assert.match(short[0]!, /^\/ has 1000 MiB free; staging database shop, volume uploads needs about 800 MiB/);
  });

  test('room enough, with the margin, is no shortfall', () => {
    const fs = { target: '/', avail: 1200 * MiB };
    assert.deepEqual(shortfalls([{ need: { what: 'volume a', path: '/a', bytes: 800 * MiB }, fs }]), []);
    assert.equal(shortfalls([{ need: { what: 'volume a', path: '/a', bytes: 900 * MiB }, fs }]).length, 1);
  });
});
