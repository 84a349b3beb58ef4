import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PlanError } from './errors.js';
import { makePlan } from './plan.js';
import type { Phase } from './step.js';
import { memoryStep } from './test-helpers.js';

const world = new Map<string, string>();
const step = (id: string, phase: Phase = 'deploy', dependsOn: string[] = []) =>
  memoryStep({ id, phase, dependsOn, world, value: 'v' });
const ids = (steps: { id: string }[]) => steps.map((s) => s.id);

function rejects(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PlanError);
    assert.equal(e.code, 'plan-invalid');
    assert.equal(e.message, message);
    return true;
  });
}

test('orders by phase, then by the order given', () => {
  const plan = makePlan([
    step('up', 'deploy'),
    step('dirs', 'prepare'),
    step('check', 'verify'),
    step('copy', 'transfer'),
    step('site', 'proxy'),
    step('env', 'prepare'),
  ]);
  assert.deepEqual(ids(plan.steps), ['dirs', 'env', 'copy', 'up', 'site', 'check']);
});

test('a step comes after its dependencies, even ones given later in the same phase', () => {
  const plan = makePlan([step('a', 'deploy', ['c']), step('b'), step('c', 'deploy', ['d']), step('d', 'prepare')]);
  assert.deepEqual(ids(plan.steps), ['d', 'b', 'c', 'a']);
});

test('duplicate ids and unknown dependencies are all reported', () => {
  rejects(
    () => makePlan([step('a'), step('a'), step('b', 'deploy', ['nope', 'a'])]),
    'duplicate step id "a"\nstep "b" depends on unknown step "nope"',
  );
});

test('a dependency on a later phase is reported', () => {
  rejects(
    () => makePlan([step('site', 'proxy'), step('up', 'deploy', ['site'])]),
    'step "up" (phase deploy) depends on "site" of a later phase (proxy)',
  );
});

test('a cycle is reported with the ids that form it', () => {
  rejects(
    () => makePlan([step('x'), step('a', 'deploy', ['b']), step('b', 'deploy', ['c']), step('c', 'deploy', ['a'])]),
    'dependency cycle: a -> b -> c -> a',
  );
  rejects(() => makePlan([step('self', 'deploy', ['self'])]), 'dependency cycle: self -> self');
});

test('an empty plan is valid', () => {
  assert.deepEqual(makePlan([]).steps, []);
});
