import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backupDef } from './backup-build.js';

test('a stack without its own backups key is not backed up, whatever the defaults', () => {
  assert.equal(backupDef({ password: { env: 'PW' } }, undefined, '/fleet'), undefined);
});

test("the stack's keys over the fleet's, retention per kind over the defaults, a password file resolved", () => {
  const fleet = {
    password: { file: 'secrets/restic' },
    repositories: [{ name: 'offsite', server: 'vault', path: '/srv/restic' }],
    retention: { postgres: 60 },
  };
  assert.deepEqual(backupDef(fleet, { retention: { redis: 7 }, volumes: false }, '/fleet'), {
    password: { file: '/fleet/secrets/restic' },
    repositories: [{ name: 'offsite', server: 'vault', path: '/srv/restic' }],
    retention: { postgres: 60, redis: 7, volumes: 30 },
    volumes: false,
  });
  assert.deepEqual(
    backupDef(
      fleet,
      { password: { env: 'SHOP_PW' }, repositories: [{ name: 'here', path: '/var/backups/shop' }] },
      '/f',
    ),
    {
      password: { env: 'SHOP_PW' },
      repositories: [{ name: 'here', path: '/var/backups/shop' }],
      retention: { postgres: 60, redis: 14, volumes: 30 },
    },
  );
});
