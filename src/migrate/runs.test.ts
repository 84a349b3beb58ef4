import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunEvent } from '../engine/events.js';
import { isMigrationOf, pauseAcross } from './runs.js';

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
