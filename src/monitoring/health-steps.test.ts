/** The container health timer step: started when off, left alone when on, reloaded after a unit changed, undone only when it was off. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../engine/test-helpers.js';
import { render } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { HEALTH_TIMER, healthSteps } from './health-steps.js';
import { startTimerCommand, stopTimerCommand, timerStateCommand } from '../deploy/steps/timer.js';
import { HEALTH_SCRIPT } from './render/health.js';

const STATE = render(timerStateCommand(HEALTH_TIMER));
const START = render(startTimerCommand(HEALTH_TIMER));
const STOP = render(stopTimerCommand(HEALTH_TIMER));
const steps = healthSteps({ stack: 'ferry-exporters-web1', server: 'web1', sudo: true, dependsOn: ['x/up'] });
const timer = steps.at(-1)!;

test('health: the script and both units are written before the timer, which waits for them', () => {
  assert.deepEqual(
    steps.map((s) => s.id),
    [
      'ferry-exporters-web1/health/script',
      'ferry-exporters-web1/health/service',
      'ferry-exporters-web1/health/timer',
      'ferry-exporters-web1/health/enable',
    ],
  );
  assert.match(steps[0]!.title, new RegExp(HEALTH_SCRIPT));
  assert.deepEqual(
    timer.dependsOn,
    steps.slice(0, 3).map((s) => s.id),
  );
  assert.ok(steps.slice(0, 3).every((s) => s.dependsOn.includes('x/up')));
});

test('health: a timer that is off is started, then verified; rollback stops it again', async () => {
  const t = new RecordingTransport('web1')
    .when(STATE, { stdout: 'disabled inactive no\n' }, { times: 1 })
    .when(START, {})
    .when(STATE, { stdout: 'enabled active no\n' })
    .when(STOP, {});
  const { checked, verified } = await drive(timer, testContext(t));
  assert.equal(checked.needed, true);
  assert.equal(checked.change?.summary, 'ferry-container-health.timer: enable; ferry-container-health.timer: start');
  assert.deepEqual(verified, { ok: true });
  await timer.rollback(testContext(t), checked.observed);
  assert.deepEqual(t.lines, [STATE, START, STATE, STOP]);
  assert.ok(t.calls.every((c) => c.sudo));
});

test('health: a running timer is left alone unless a unit changed; one that was on is not stopped by rollback', async () => {
  const on = new RecordingTransport('web1').when(STATE, { stdout: 'enabled active no\n' });
  assert.equal((await timer.check(testContext(on))).needed, false);
  const changed = new RecordingTransport('web1')
    .when(STATE, { stdout: 'enabled active yes\n' }, { times: 1 })
    .when(START, {})
    .when(STATE, { stdout: 'enabled active no\n' });
  const { checked, verified } = await drive(timer, testContext(changed));
  assert.equal(checked.change?.summary, 'ferry-container-health.timer: reload its changed units');
  assert.deepEqual(verified, { ok: true });
  await timer.rollback(testContext(changed), checked.observed);
  assert.deepEqual(changed.lines, [STATE, START, STATE]);
});
