/**
 * The destructive steps of a restore, as the command lines they run on the server: the
 * swap renames exactly the staged data in and the live data aside, a resumed swap leaves
 * alone what the killed one swapped, its undo puts the kept data back, and undoing the
 * stage removes staging only, never a live or kept name.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingTransport } from '../transport/recording.js';
import { testContext, drive } from '../engine/test-helpers.js';
import { render } from '../shell/command.js';
import { inspectProjectCommand } from '../deploy/compose-cli.js';
import { mountpointCommand } from '../migrate/volumes.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import type { Step } from '../engine/step.js';
import type { BackupManifest } from './manifest.js';
import {
  beforeDb,
  databasesPresent,
  dropStaging,
  pathsPresent,
  redisBefore,
  removeStaged,
  stagedRdb,
  stagedVolume,
  stagingDb,
  swapDatabases,
  swapRedis,
  swapVolume,
  unswapDatabases,
  unswapRedis,
  unswapVolume,
  volumeBefore,
  volumeStage,
} from './restore-commands.js';
import { recordFile, restoreSteps, stoppedServices, type RestoreInput } from './restore-steps.js';
import { mysqlFiles, swapMysql, unstageMysql, unswapMysql } from './mysql-restore.js';

const ID = 'a1b2c3';
const MOUNT = '/var/lib/docker/volumes/shop_uploads/_data';
const REDIS = { dir: '/var/lib/docker/volumes/shop_cache-data/_data', dbfilename: 'dump.rdb' };
const DB = { service: 'db', user: 'shop', db: 'shop', volumes: [] };

const manifest: BackupManifest = {
  version: 1,
  stack: 'shop',
  run: 'r1',
  at: '2026-12-03T00:00:00Z',
  mysql: [],
  postgres: [{ service: 'db', db: 'shop', user: 'shop', image: 'postgres:17', snapshot: 's1', tables: [] }],
  redis: [{ service: 'cache', image: 'redis:7', snapshot: 's2', keys: 5 }],
  volumes: [{ name: 'uploads', path: '/srv/uploads', snapshot: 's3', files: 1, bytes: 2, sha256: 'x' }],
  paths: [],
};

const input = (): RestoreInput => ({
  stack: 'shop',
  server: 'app1',
  sudo: false,
  id: ID,
  repo: { name: 'local', stack: 'shop', url: '/var/backups/shop' },
  manifest,
  sources: [
    { kind: 'postgres', name: 'db' },
    { kind: 'redis', name: 'cache' },
    { kind: 'volume', name: 'uploads' },
  ],
  release: { project: 'shop', services: ['db', 'cache', 'web'].map((name) => ({ name })) } as ReleaseMeta,
  dockerVolume: (n) => `shop_${n}`,
  proofs: [],
});

const containers = JSON.stringify(
  ['db', 'cache', 'web'].map((s) => ({
    Id: `${s}000000000000`,
    Name: `/shop-${s}-1`,
    Config: { Labels: { 'com.docker.compose.service': s } },
    State: { Status: 'running' },
  })),
);

type Where = 'staged' | 'swapped';

/**
 * A server where each source is staged or already swapped, answering the reads a step makes;
 * a swap or its undo of a source flips it, and any other change succeeds.
 */
function server(where: { postgres: Where; redis: Where; volume: Where }): RecordingTransport {
  const t = new RecordingTransport('app1');
  const lines = (...l: string[]) => ({ stdout: `${l.join('\n')}\n` });
  const flip = (kind: keyof typeof where, to: Where) => () => ((where[kind] = to), {});
  t.when(render(inspectProjectCommand('shop')), { stdout: containers });
  t.when(render({ kind: 'argv', argv: ['cat', recordFile('shop')] }), {
    stdout: JSON.stringify({ id: ID, redis: { cache: REDIS } }),
  });
  t.when(render(databasesPresent('shop-db-1', DB, ID)), () =>
    lines('shop', where.postgres === 'staged' ? stagingDb('shop') : beforeDb('shop', ID)),
  );
  t.when(render(pathsPresent(stagedRdb(REDIS, ID), redisBefore(REDIS, ID))), () =>
    lines(where.redis === 'staged' ? 'staged' : 'before'),
  );
  t.when(render(mountpointCommand('shop_uploads')), lines(MOUNT));
  t.when(render(pathsPresent(stagedVolume(MOUNT, ID, '/srv/uploads'), volumeBefore(MOUNT, ID))), () =>
    lines(where.volume === 'staged' ? 'staged' : 'before'),
  );
  t.when(render(swapDatabases('shop-db-1', DB, ID)), flip('postgres', 'swapped'));
  t.when(render(swapRedis(REDIS, ID)), flip('redis', 'swapped'));
  t.when(render(swapVolume(MOUNT, ID, '/srv/uploads')), flip('volume', 'swapped'));
  t.when(/./, { code: 0 });
  return t;
}

const step = (id: string): Step => restoreSteps(input(), 1000).find((s) => s.id === `shop/restore/${id}`)!;

/** The lines that change something: every read above is left out. */
const changes = (t: RecordingTransport): string[] =>
  t.lines.filter((l) => !/ferry-restore-state|docker inspect|docker ps|volume inspect|^cat |datname IN/.test(l));

describe('restore steps, as the commands they run', () => {
  test('the swap renames every staged source in and the live data aside; its undo puts the kept data back', async () => {
    const t = server({ postgres: 'staged', redis: 'staged', volume: 'staged' });
    const { checked, verified } = await drive(step('swap'), testContext(t));
    assert.deepEqual(checked.observed, { todo: ['postgres db', 'redis cache', 'volume uploads'] });
    assert.deepEqual(verified, { ok: true });
    assert.deepEqual(changes(t), [
      render(swapDatabases('shop-db-1', DB, ID)),
      render(swapRedis(REDIS, ID)),
      render(swapVolume(MOUNT, ID, '/srv/uploads')),
    ]);
    const undo = server({ postgres: 'swapped', redis: 'swapped', volume: 'swapped' });
    await step('swap').rollback(testContext(undo), checked.observed);
    assert.deepEqual(changes(undo), [
      render(unswapDatabases('shop-db-1', DB, ID)),
      render(unswapRedis(REDIS, ID)),
      render(unswapVolume(MOUNT, ID)),
    ]);
  });

  test('a resumed swap swaps only what is still staged, and its undo still covers what the killed run swapped', async () => {
    const t = server({ postgres: 'swapped', redis: 'staged', volume: 'staged' });
    const prior = { todo: ['postgres db', 'redis cache', 'volume uploads'] };
    const { checked, verified } = await drive(step('swap'), testContext(t, { prior }));
    assert.deepEqual(checked.observed, { todo: ['postgres db', 'redis cache', 'volume uploads'] });
    assert.deepEqual(verified, { ok: true });
    assert.deepEqual(changes(t), [render(swapRedis(REDIS, ID)), render(swapVolume(MOUNT, ID, '/srv/uploads'))]);
    const undo = server({ postgres: 'swapped', redis: 'swapped', volume: 'swapped' });
    await step('swap').rollback(testContext(undo), checked.observed);
    assert.equal(changes(undo).length, 3);
    assert.equal(changes(undo)[0], render(unswapDatabases('shop-db-1', DB, ID)));
  });

  test('nothing staged and everything kept: the swap has nothing to do and runs nothing', async () => {
    const t = server({ postgres: 'swapped', redis: 'swapped', volume: 'swapped' });
    const { checked } = await drive(step('swap'), testContext(t));
    assert.equal(checked.needed, false);
    assert.deepEqual(changes(t), []);
  });

  test('undoing the stage removes the staging database, file and directory, and nothing live or kept', async () => {
    const t = server({ postgres: 'staged', redis: 'staged', volume: 'staged' });
    await step('stage').rollback(testContext(t), { todo: [] });
    assert.deepEqual(changes(t), [
      render(dropStaging('shop-db-1', DB)),
      render(removeStaged(stagedRdb(REDIS, ID))),
      render(removeStaged(volumeStage(MOUNT, ID))),
    ]);
    assert.match(changes(t)[0] ?? '', /DROP DATABASE IF EXISTS "?shop_ferry_restore"?/);
  });
});

describe('a MySQL restore, as the commands it runs', () => {
  const files = mysqlFiles('shop', ID, 'legacy');
  const my: RestoreInput = {
    ...input(),
    manifest: {
      ...manifest,
      postgres: [],
      redis: [],
      volumes: [],
      mysql: [{ service: 'legacy', image: 'mariadb:11', snapshot: 's4', databases: ['audit', 'shop'], tables: [] }],
    },
    sources: [{ kind: 'mysql', name: 'legacy' }],
    release: { project: 'shop', services: ['legacy', 'web'].map((name) => ({ name })) } as ReleaseMeta,
  };
  const mysqlServer = (where: { mysql: Where }): RecordingTransport => {
    const t = new RecordingTransport('app1');
    t.when(render(inspectProjectCommand('shop')), {
      stdout: JSON.stringify(
        ['legacy', 'web'].map((s) => ({
          Id: `${s}000000000000`,
          Name: `/shop-${s}-1`,
          Config: { Labels: { 'com.docker.compose.service': s } },
          State: { Status: 'running' },
        })),
      ),
    });
    t.when(render(pathsPresent(files.staged, files.before)), () => ({
      stdout: `${where.mysql === 'staged' ? 'staged\nbefore' : 'before'}\n`,
    }));
    t.when(render({ kind: 'argv', argv: ['cat', recordFile('shop')] }), {
      code: 1,
      stderr: 'No such file or directory\n',
    });
    t.when(render(swapMysql('shop-legacy-1', ['audit', 'shop'], files)), () => ((where.mysql = 'swapped'), {}));
    t.when(/./, { code: 0 });
    return t;
  };
  const myStep = (id: string): Step => restoreSteps(my, 1000).find((s) => s.id === `shop/restore/${id}`)!;

  test('the MySQL service keeps running while the rest stops: the swap loads into it', () => {
    assert.deepEqual(stoppedServices(my), ['web']);
  });

  test('the swap loads the staged dump once (a kept copy already there is never dumped again); its undo loads the kept copy back', async () => {
    // A swap killed after its dump of the live databases: the kept copy and the staged dump are both there.
    const t = mysqlServer({ mysql: 'staged' });
    const { checked, verified } = await drive(myStep('swap'), testContext(t));
    assert.deepEqual(checked.observed, { todo: ['mysql legacy'] });
    assert.deepEqual(verified, { ok: true });
    assert.deepEqual(changes(t), [render(swapMysql('shop-legacy-1', ['audit', 'shop'], files))]);
    assert.match(changes(t)[0]!, /dump_once "\$before"/);
    const undo = mysqlServer({ mysql: 'swapped' });
    await myStep('swap').rollback(testContext(undo), checked.observed);
    assert.deepEqual(changes(undo), [render(unswapMysql('shop-legacy-1', ['audit', 'shop'], files))]);
  });

  test('undoing the stage removes the partial and staged dumps only, never the kept copy', async () => {
    const t = mysqlServer({ mysql: 'staged' });
    await myStep('stage').rollback(testContext(t), { todo: [] });
    assert.deepEqual(changes(t), [render(unstageMysql(files))]);
    assert.equal(changes(t)[0]!.includes(files.before), false);
  });
});
