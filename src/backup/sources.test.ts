import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../core/errors.js';
import { DEFAULT_RETENTION, type BackupDef } from '../model/backup.js';
import { mount, project, service } from '../check/test-helpers/make.js';
import type { Service } from '../model/compose.js';
import { backupSources, describeSources } from './sources.js';

// What bundle.ts finds: relative bind sources that are directories here (nginx.conf is a file of the release).
const binds = (s: Service): string[] =>
  s.volumes
    .filter((v) => v.type === 'bind' && v.source?.startsWith('/srv/app/') && !v.source.endsWith('.conf'))
    .map((v) => v.source!);
const sources = (d: BackupDef) => backupSources('shop', shop, d, binds);
const def = (over: Partial<BackupDef> = {}): BackupDef => ({ repositories: [], retention: DEFAULT_RETENTION, ...over });
const vol = (name: string, external = false) => ({ name, external, raw: {} });

const shop = project(
  [
    service('web', {
      image: 'shop/web:1',
      volumes: [
        mount(0, 'volume', 'uploads', '/srv/uploads'),
        mount(1, 'bind', '/srv/app/media', '/media'),
        mount(2, 'bind', '/srv/app/nginx.conf', '/etc/nginx.conf'),
      ],
    }),
    service('db', {
      image: 'postgres:16',
      environment: { POSTGRES_USER: 'shop', POSTGRES_DB: 'orders' },
      volumes: [
        mount(0, 'volume', 'db-data', '/var/lib/postgresql/data'),
        mount(1, 'bind', '/srv/app/pg-init', '/docker-entrypoint-initdb.d'),
      ],
    }),
    service('cache', { image: 'redis:7-alpine', volumes: [mount(0, 'volume', 'cache-data', '/data')] }),
    service('logs', { image: 'busybox', volumes: [mount(0, 'bind', '/var/log/shop', '/logs')] }),
  ],
  {
    name: 'shop',
    volumes: {
      uploads: vol('uploads'),
      'db-data': vol('db-data'),
      'cache-data': vol('cache-data'),
      shared: vol('shared', true),
    },
  },
);

test('detected: Postgres and Redis by image, and the named volumes but the databases’ own', () => {
  assert.deepEqual(sources(def()), {
    project: 'shop',
    postgres: [{ service: 'db', user: 'shop', db: 'orders', volumes: ['db-data'] }],
    mysql: [],
    redis: [{ service: 'cache' }],
    volumes: [
      { name: 'uploads', docker: 'shop_uploads' },
      { name: 'shared', docker: 'shared' },
    ],
    // The relative bind's data, but the dumped Postgres's own; /var/log/shop is not relative.
    paths: [{ name: './media', path: '/srv/ferry/shop/shared/media' }],
    release: true,
  });
});

test('paths: the data of a relative bind mount by ./REL, any absolute directory, or none', () => {
  assert.deepEqual(sources(def({ paths: ['./pg-init', '/var/log/shop', './media/'.slice(0, -1)] })).paths, [
    { name: './pg-init', path: '/srv/ferry/shop/shared/pg-init' },
    { name: '/var/log/shop', path: '/var/log/shop' },
    { name: './media', path: '/srv/ferry/shop/shared/media' },
  ]);
  assert.deepEqual(sources(def({ paths: false, release: false })).paths, []);
  assert.equal(sources(def({ release: false })).release, false);
  assert.throws(
    () => sources(def({ paths: ['./nginx.conf'] })),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === 'backup-source-unknown' &&
      e.place === 'backups/paths' &&
      /\.\/media, \.\/pg-init/.test(e.hint ?? ''),
  );
});

test('overridden: named services and volumes, or none with false', () => {
  const s = sources(def({ postgres: false, redis: ['cache'], volumes: ['db-data'] }));
  assert.deepEqual(s.postgres, []);
  assert.deepEqual(s.redis, [{ service: 'cache' }]);
  assert.deepEqual(s.volumes, [{ name: 'db-data', docker: 'shop_db-data' }]);
  // A service named as Postgres whose image is not recognised: its role and database from its environment.
  const custom = sources(def({ postgres: ['web'], redis: false, volumes: false }));
  assert.deepEqual(custom.postgres, [{ service: 'web', user: 'postgres', db: 'postgres', volumes: [] }]);
  // With Postgres off, its volume is copied as files.
  assert.deepEqual(
    sources(def({ postgres: false })).volumes.map((v) => v.name),
    ['uploads', 'db-data', 'shared'],
  );
});

test('a name the project does not have is backup-source-unknown, naming what it has', () => {
  assert.throws(
    () => sources(def({ redis: ['queue'] })),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === 'backup-source-unknown' &&
      e.place === 'backups/redis' &&
      e.hint === 'Name services of the project: web, db, cache, logs.',
  );
  assert.throws(
    () => sources(def({ volumes: ['nope'] })),
    (e: unknown) => e instanceof FerryError && e.code === 'backup-source-unknown' && e.place === 'backups/volumes',
  );
});

test('described one line per source', () => {
  assert.deepEqual(describeSources(sources(def())), [
    'postgres db (database orders, role shop): pg_dump streamed into restic',
    'redis cache: a fresh BGSAVE, then its RDB file',
    'volume uploads (shop_uploads): its files',
    'volume shared (shared): its files',
    'path ./media (/srv/ferry/shop/shared/media): its files',
    'release: the files of the running release (compose files, env files, configs)',
  ]);
});

test('a MySQL or MariaDB service is dumped, found by image; its data is never copied as files, also when `mysql: false` leaves it out', () => {
  const withMysql = project(
    [
      ...shop.services,
      service('legacy', {
        image: 'mariadb:11',
        volumes: [mount(0, 'volume', 'legacy-data', '/var/lib/mysql'), mount(1, 'bind', '/srv/app/my-conf', '/etc/x')],
      }),
      service('metrics', { image: 'prom/mysqld-exporter:v0.15.0' }),
    ],
    { name: 'shop', volumes: { ...shop.volumes, 'legacy-data': vol('legacy-data') } },
  );
  const of = (d: BackupDef) => backupSources('shop', withMysql, d, binds);
  const found = of(def());
  assert.deepEqual(found.mysql, [{ service: 'legacy' }]);
  assert.ok(
    describeSources(found).includes(
      'mysql legacy: mysqldump --single-transaction of its databases streamed into restic',
    ),
  );
  const off = of(def({ mysql: false }));
  assert.deepEqual(off.mysql, []);
  for (const s of [found, off]) {
    assert.deepEqual(
      s.volumes.map((v) => v.name),
      ['uploads', 'shared'],
    );
    assert.deepEqual(
      s.paths.map((p) => p.name),
      ['./media'],
    );
  }
  // Named by the user, a volume is copied all the same: their choice.
  assert.deepEqual(
    of(def({ mysql: false, volumes: ['legacy-data'] })).volumes.map((v) => v.name),
    ['legacy-data'],
  );
  assert.throws(
    () => of(def({ mysql: ['metrics', 'nope'] })),
    (e: unknown) => e instanceof FerryError && e.code === 'backup-source-unknown' && e.place === 'backups/mysql',
  );
  // The stack without such a service has none.
  assert.deepEqual(sources(def()).mysql, []);
});
