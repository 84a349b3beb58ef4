import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTuned, settingKb, shown, sqlValue, tuning, tuningChanges } from './host-postgres-tune.js';

const MIB = 1024;
const GIB = 1024 * MIB;

test('a 2 GiB server with 100 connections', () => {
  assert.deepEqual(tuning(2 * GIB, 100), {
    max_connections: 100,
    shared_buffers: 512 * MIB,
    effective_cache_size: 1536 * MIB,
    maintenance_work_mem: 128 * MIB,
    work_mem: 5 * MIB, // (2048 − 512) MiB / 300, whole MiB
  });
});

test('bounds: maintenance_work_mem at most 2 GiB, work_mem from 4 MiB to 1 GiB', () => {
  const big = tuning(256 * GIB, 20);
  assert.equal(big.maintenance_work_mem, 2 * GIB);
  assert.equal(big.work_mem, GIB);
  assert.equal(tuning(GIB, 500).work_mem, 4 * MIB);
});

test("pg_settings' units read as kB; values written in kB and shown to a person", () => {
  assert.equal(settingKb('16384', '8kB'), 128 * MIB);
  assert.equal(settingKb('4096', 'kB'), 4 * MIB);
  assert.equal(settingKb('100', ''), 100);
  assert.equal(sqlValue('shared_buffers', 512 * MIB), '524288kB');
  assert.equal(sqlValue('max_connections', 100), '100');
  assert.deepEqual(
    [shown('shared_buffers', 2 * GIB), shown('work_mem', 5 * MIB), shown('work_mem', 1000)],
    ['2 GB', '5 MB', '1000 kB'],
  );
});

test('the changes are the settings that differ, with a restart when one needs it', () => {
  const now = parseTuned(
    [
      'effective_cache_size|524288|8kB|user',
      'maintenance_work_mem|65536|kB|user',
      'max_connections|a hundred||postmaster',
      'shared_buffers|16384|8kB|postmaster',
      'work_mem|4096|kB|user',
    ].join('\n'),
  );
  assert.equal(now.max_connections, undefined, 'a line it cannot read is left out');
  const want = tuning(2 * GIB, 100);
  const changes = tuningChanges(want, now);
  assert.deepEqual(
    changes.map((c) => [c.line, c.restart]),
    [
      ['max_connections ? -> 100', true],
      ['shared_buffers 128 MB -> 512 MB', true],
      ['effective_cache_size 4 GB -> 1536 MB', false],
      ['maintenance_work_mem 64 MB -> 128 MB', false],
      ['work_mem 4 MB -> 5 MB', false],
    ],
  );
  const done = parseTuned(
    [
      'effective_cache_size|196608|8kB|user',
      'maintenance_work_mem|131072|kB|user',
      'max_connections|100||postmaster',
      'shared_buffers|65536|8kB|postmaster',
      'work_mem|5120|kB|user',
    ].join('\n'),
  );
  assert.deepEqual(tuningChanges(want, done), []);
});
