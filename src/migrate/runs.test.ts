import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../engine/events.js';
import { isMigrationOf, pauseAcross, transfersAcross } from './runs.js';

test('a migration run is named by its command: stack, then --to SERVER', () => {
  assert.equal(isMigrationOf('migrate shop --to host2', 'shop', 'host2'), true);
  assert.equal(isMigrationOf('migrate shop --service db --to host2 --resume r1', 'shop', 'host2'), true);
  assert.equal(isMigrationOf('migrate shop --to host3', 'shop', 'host2'), false);
  assert.equal(isMigrationOf('migrate shopping --to host2', 'shop', 'host2'), false);
  assert.equal(isMigrationOf('apply shop', 'shop', 'host2'), false);
});

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

test('the pause spans the runs: begun in the killed run, served in the resumed one', () => {
  const killed: RunEvent[] = [
    { at: at(1), kind: 'step-checked', stepId: 'shop/migrate/freeze', needed: true },
    { at: at(2), kind: 'step-verified', stepId: 'shop/migrate/freeze', ok: true },
  ];
  const resumed: RunEvent[] = [
    { at: at(30), kind: 'step-checked', stepId: 'shop/migrate/freeze', needed: false },
    { at: at(34), kind: 'step-verified', stepId: 'shop/migrate/switch', ok: false },
    { at: at(36), kind: 'step-verified', stepId: 'shop/migrate/switch', ok: true },
  ];
  assert.equal(pauseAcross([killed, resumed], 'shop/migrate/freeze', 'shop/migrate/switch'), 35_000);
  assert.equal(pauseAcross([resumed], 'shop/migrate/freeze', 'shop/migrate/switch'), null);
  assert.equal(pauseAcross([killed], 'shop/migrate/freeze', 'shop/migrate/switch'), null);
});

test('what crossed is summed by kind across the killed run and its resumes; every kind is listed', () => {
  const killed: RunEvent[] = [
    { at: at(1), kind: 'step-transferred', stepId: 'shop/migrate/copy/data', transfer: 'volumes', bytes: 1000 },
    { at: at(2), kind: 'step-applied', stepId: 'shop/migrate/copy/data' },
  ];
  const resumed: RunEvent[] = [
    { at: at(30), kind: 'step-transferred', stepId: 'shop/migrate/final-copy', transfer: 'volumes', bytes: 24 },
    { at: at(31), kind: 'step-transferred', stepId: 'shop/migrate/dump/db', transfer: 'databases', bytes: 500 },
  ];
  assert.deepEqual(transfersAcross([killed, resumed]), {
    volumes: 1024,
    databases: 500,
    replication: 0,
    images: 0,
    release: 0,
  });
  assert.deepEqual(Object.values(transfersAcross([])), [0, 0, 0, 0, 0]);
});
