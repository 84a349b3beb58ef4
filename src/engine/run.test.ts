import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../core/redact.js';
import { TransportError } from '../transport/transport.js';
import { makePlan } from './plan.js';
import { runPlan } from './run.js';
import { collecting, Gauge, memoryStep } from './test-helpers.js';
import type { Step } from './step.js';
import { RecordingTransport } from '../transport/recording.js';

const at = '2025-01-02T03:04:05.000Z';
const counts = (s: { changed: number; ok: number; failed: number; skipped: number }) => ({
  changed: s.changed,
  ok: s.ok,
  failed: s.failed,
  skipped: s.skipped,
});

test('the second run of the same plan against an unchanged world changes nothing', async () => {
  const world = new Map([['b', 'v']]);
  const steps = () => ['a', 'b', 'c'].map((id) => memoryStep({ id, world, value: 'v' }));
  const first = await runPlan(makePlan(steps()), collecting().opts);
  assert.deepEqual(counts(first), { changed: 2, ok: 1, failed: 0, skipped: 0 });
  assert.deepEqual(first.outcomes, { a: 'changed', b: 'ok', c: 'changed' });
  const second = await runPlan(makePlan(steps()), collecting().opts);
  assert.deepEqual(counts(second), { changed: 0, ok: 3, failed: 0, skipped: 0 });
});

test('a step waits for its dependencies to end', async () => {
  const world = new Map<string, string>();
  const log: string[] = [];
  const plan = makePlan([
    memoryStep({ id: 'slow', world, value: 'v', log, delayMs: 30 }),
    memoryStep({ id: 'after', world, value: 'v', log, dependsOn: ['slow'] }),
    memoryStep({ id: 'free', world, value: 'v', log }),
  ]);
  await runPlan(plan, collecting().opts);
  assert.deepEqual(log, [
    'check slow',
    'check free',
    'apply slow',
    'apply free',
    'verify free',
    'verify slow',
    'check after',
    'apply after',
    'verify after',
  ]);
});

test('at most maxPerHost steps run at once on a host; hosts run in parallel', async () => {
  const world = new Map<string, string>();
  const gauge = new Gauge();
  const steps = ['web', 'db'].flatMap((host) =>
    Array.from({ length: 8 }, (_, i) =>
      memoryStep({ id: `${host}/${i}`, host, world, value: 'v', delayMs: 10, gauge }),
    ),
  );
  const summary = await runPlan(makePlan(steps), collecting({ maxPerHost: 3 }).opts);
  assert.equal(summary.changed, 16);
  assert.deepEqual([gauge.max.get('web'), gauge.max.get('db'), gauge.maxTotal], [3, 3, 6]);
});

test('a failing step is rolled back, earlier changes are undone last first, later steps skipped: the exact events', async () => {
  const world = new Map([['a', 'old']]);
  const log: string[] = [];
  const plan = makePlan([
    memoryStep({ id: 'a', world, value: 'v', log }),
    memoryStep({ id: 'b', world, value: 'v', log }),
    memoryStep({ id: 'c', world, value: 'v', log, failVerify: 'c is still old' }),
    memoryStep({ id: 'd', world, value: 'v', log }),
  ]);
  const { events, opts } = collecting({ maxPerHost: 1 });
  const summary = await runPlan(plan, opts);
  assert.deepEqual(counts(summary), { changed: 2, ok: 0, failed: 1, skipped: 1 });
  assert.deepEqual(summary.outcomes, { a: 'changed', b: 'changed', c: 'failed', d: 'skipped' });
  assert.deepEqual(summary.rolledBack, ['c', 'b', 'a']);
  assert.deepEqual([...world], [['a', 'old']]);
  assert.deepEqual(
    log.filter((l) => l.startsWith('rollback')),
    ['rollback c', 'rollback b', 'rollback a'],
  );
  const changed = (id: string, from: string) => [
    { at, kind: 'step-start', stepId: id, host: 'h1' },
    {
      at,
      kind: 'step-checked',
      stepId: id,
      needed: true,
      change: { summary: `${id}: ${from} -> v` },
      observed: from === '(none)' ? {} : { before: from },
    },
    { at, kind: 'step-applied', stepId: id },
  ];
  assert.deepEqual(events, [
    {
      at,
      kind: 'run-start',
      runId: 'run-1',
      steps: ['a', 'b', 'c', 'd'].map((id) => ({ id, host: 'h1', phase: 'deploy', title: `set ${id}` })),
    },
    ...changed('a', 'old'),
    { at, kind: 'step-verified', stepId: 'a', ok: true },
    { at, kind: 'step-end', stepId: 'a', outcome: 'changed', durationMs: 0 },
    ...changed('b', '(none)'),
    { at, kind: 'step-verified', stepId: 'b', ok: true },
    { at, kind: 'step-end', stepId: 'b', outcome: 'changed', durationMs: 0 },
    ...changed('c', '(none)'),
    { at, kind: 'step-verified', stepId: 'c', ok: false, message: 'c is still old' },
    { at, kind: 'rollback-start', stepId: 'c' },
    { at, kind: 'rollback-end', stepId: 'c', ok: true },
    {
      at,
      kind: 'step-end',
      stepId: 'c',
      outcome: 'failed',
      durationMs: 0,
      error: {
        code: 'verify-failed',
        message: 'h1: c: verification failed: c is still old',
        hint: 'the step was rolled back; look at the host to see why the change did not hold, then run apply again',
      },
    },
    { at, kind: 'step-end', stepId: 'd', outcome: 'skipped', durationMs: 0 },
    { at, kind: 'rollback-start', stepId: 'b' },
    { at, kind: 'rollback-end', stepId: 'b', ok: true },
    { at, kind: 'rollback-start', stepId: 'a' },
    { at, kind: 'rollback-end', stepId: 'a', ok: true },
    { at, kind: 'run-end', summary },
  ]);
});

test('a rollback that throws is reported, and the others are still rolled back', async () => {
  const world = new Map<string, string>();
  const redactor = new Redactor();
  redactor.add('canary-pw');
  const plan = makePlan([
    memoryStep({ id: 'a', world, value: 'v' }),
    memoryStep({
      id: 'b',
      world,
      value: 'v',
      failRollback: new TransportError('connection-lost', 'h1', 'h1: lost while using canary-pw', 'reconnect'),
    }),
    memoryStep({ id: 'c', world, value: 'v', failApply: new Error('disk full near canary-pw') }),
  ]);
  const { events, opts } = collecting({ maxPerHost: 1, redactor });
  const summary = await runPlan(plan, opts);
  assert.deepEqual(summary.rolledBack, ['c', 'a']);
  assert.deepEqual(summary.rollbackFailed, ['b']);
  assert.deepEqual([...world], [['b', 'v']]);
  const ends = events.filter((e) => e.kind === 'rollback-end' || (e.kind === 'step-end' && e.outcome === 'failed'));
  assert.deepEqual(
    ends.map(({ at: _, ...e }) => e),
    [
      { kind: 'rollback-end', stepId: 'c', ok: true },
      {
        kind: 'step-end',
        stepId: 'c',
        outcome: 'failed',
        durationMs: 0,
        error: {
          code: 'step-failed',
          message: 'disk full near [REDACTED]',
          hint: 'read the message above, fix the cause on the host or in the config, then run apply again',
        },
      },
      {
        kind: 'rollback-end',
        stepId: 'b',
        ok: false,
        error: { code: 'connection-lost', message: 'h1: lost while using [REDACTED]', hint: 'reconnect' },
      },
      { kind: 'rollback-end', stepId: 'a', ok: true },
    ],
  );
  assert.equal(
    events.some((e) => e.kind === 'step-applied' && e.stepId === 'c'),
    false,
  );
});

test('steps running on other hosts finish, then are rolled back too; nothing new starts', async () => {
  const world = new Map<string, string>();
  const log: string[] = [];
  const plan = makePlan([
    memoryStep({ id: 'db/slow', host: 'db', world, value: 'v', delayMs: 30, log }),
    memoryStep({ id: 'web/bad', host: 'web', world, value: 'v', failApply: new Error('no'), log }),
    memoryStep({ id: 'web/next', host: 'web', world, value: 'v', dependsOn: ['web/bad'], log }),
    memoryStep({ id: 'db/next', host: 'db', world, value: 'v', dependsOn: ['db/slow'], log }),
  ]);
  const summary = await runPlan(plan, collecting().opts);
  assert.deepEqual(summary.outcomes, {
    'db/slow': 'changed',
    'web/bad': 'failed',
    'web/next': 'skipped',
    'db/next': 'skipped',
  });
  assert.deepEqual(summary.rolledBack, ['web/bad', 'db/slow']);
  assert.equal(world.size, 0);
});

test('without rollbackOnFailure only the failed step is undone', async () => {
  const world = new Map<string, string>();
  const plan = makePlan([
    memoryStep({ id: 'a', world, value: 'v' }),
    memoryStep({ id: 'b', world, value: 'v', failVerify: 'no' }),
  ]);
  const summary = await runPlan(plan, collecting({ maxPerHost: 1, rollbackOnFailure: false }).opts);
  assert.deepEqual(counts(summary), { changed: 1, ok: 0, failed: 1, skipped: 0 });
  assert.deepEqual(summary.rolledBack, ['b']);
  assert.deepEqual([...world], [['a', 'v']]);
});

test('a check that throws fails the step without applying or rolling it back', async () => {
  const world = new Map<string, string>();
  const log: string[] = [];
  const step = memoryStep({ id: 'a', world, value: 'v', log });
  step.check = async () => {
    throw new TransportError('host-unreachable', 'h1', 'h1: cannot reach h1:22', 'check sshd');
  };
  const { events, opts } = collecting();
  const summary = await runPlan(makePlan([step]), opts);
  assert.deepEqual(summary.outcomes, { a: 'failed' });
  assert.deepEqual(log, []);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['run-start', 'step-start', 'step-end', 'run-end'],
  );
});

// Resume is a new run of the same plan: every step is checked again, so what the
// interrupted run finished is checked, not applied, and only what the world lacks is done.
test('a run interrupted halfway resumes and completes: the finished half is checked, not applied', async () => {
  const world = new Map<string, string>();
  const log: string[] = [];
  const steps = () =>
    ['a', 'b', 'c', 'd'].map((id, i) =>
      memoryStep({ id, world, value: 'v', log, dependsOn: i === 0 ? [] : [['a', 'b', 'c'][i - 1]!] }),
    );
  const firstHalf = await runPlan(makePlan(steps().slice(0, 2)), collecting().opts);
  assert.deepEqual(firstHalf.outcomes, { a: 'changed', b: 'changed' });
  log.length = 0;
  const { events, opts } = collecting();
  const resumed = await runPlan(makePlan(steps()), opts);
  assert.deepEqual(resumed.outcomes, { a: 'ok', b: 'ok', c: 'changed', d: 'changed' });
  assert.deepEqual(log, ['check a', 'check b', 'check c', 'apply c', 'verify c', 'check d', 'apply d', 'verify d']);
  assert.deepEqual(
    events.filter((e) => 'stepId' in e && e.stepId === 'a').map((e) => e.kind),
    ['step-start', 'step-checked', 'step-end'],
  );
});

test('on resume, a finished step whose world changed since is applied again', async () => {
  const world = new Map<string, string>();
  const log: string[] = [];
  const steps = () => ['a', 'b'].map((id) => memoryStep({ id, world, value: 'v', log }));
  await runPlan(makePlan(steps().slice(0, 1)), collecting().opts);
  world.set('a', 'edited by hand');
  log.length = 0;
  const summary = await runPlan(makePlan(steps()), collecting({ maxPerHost: 1 }).opts);
  assert.deepEqual(summary.outcomes, { a: 'changed', b: 'changed' });
  assert.deepEqual(log, ['check a', 'apply a', 'verify a', 'check b', 'apply b', 'verify b']);
  assert.deepEqual(
    [...world],
    [
      ['a', 'v'],
      ['b', 'v'],
    ],
  );
});

test("a step's observation reaches apply, verify and rollback, and is journaled redacted", async () => {
  const redactor = new Redactor();
  redactor.add('canary-pw');
  const seen: string[] = [];
  const step: Step<{ token: string; n: number }> = {
    id: 'obs',
    host: 'h1',
    phase: 'deploy',
    title: 'observe',
    dependsOn: [],
    doc: () => ({ purpose: '', commands: [], verify: '', undo: '' }),
    check: async () => ({ needed: true, observed: { token: 'x canary-pw y', n: 3 } }),
    apply: async (_ctx, o) => {
      seen.push(`apply ${o.token} ${o.n}`);
    },
    verify: async (_ctx, o) => {
      seen.push(`verify ${o.n}`);
      return { ok: false, message: 'no' };
    },
    rollback: async (_ctx, o) => {
      seen.push(`rollback ${o.n}`);
    },
  };
  const { events, opts } = collecting({ redactor });
  await runPlan(makePlan([step]), opts);
  assert.deepEqual(seen, ['apply x canary-pw y 3', 'verify 3', 'rollback 3']);
  const checked = events.find((e) => e.kind === 'step-checked');
  assert.deepEqual(checked, {
    at,
    kind: 'step-checked',
    stepId: 'obs',
    needed: true,
    observed: { token: 'x [REDACTED] y', n: 3 },
  });
});

test('on resume, a step is given what its check observed in the run it resumes (prior)', async () => {
  const world = new Map([['a', 'old']]);
  // The killed run saw 'old' and applied; the world now holds its half-done value.
  world.set('a', 'half');
  const step = memoryStep({ id: 'a', world, value: 'v', failVerify: 'no' });
  const { events, opts } = collecting({ prior: { a: { before: 'old' } } });
  await runPlan(makePlan([step]), opts);
  assert.deepEqual([...world], [['a', 'old']]);
  const checked = events.find((e) => e.kind === 'step-checked');
  assert.deepEqual(checked && 'observed' in checked ? checked.observed : undefined, { before: 'old' });
});

test('a step reaches only the hosts it declares', async () => {
  const reached: string[] = [];
  const make = (reaches: string[] | undefined): Step => ({
    id: 'x',
    host: 'target',
    ...(reaches ? { reaches } : {}),
    phase: 'transfer',
    title: 'x',
    dependsOn: [],
    doc: () => ({ purpose: '', commands: [], verify: '', undo: '' }),
    check: async (ctx) => {
      reached.push(ctx.on('source').name);
      return { needed: false };
    },
    apply: async () => undefined,
    verify: async () => ({ ok: true }),
    rollback: async () => undefined,
  });
  const { opts } = collecting();
  const named = { ...opts, transports: (host: string) => new RecordingTransport(host) };
  const ok = await runPlan(makePlan([make(['source'])]), named);
  assert.deepEqual([ok.outcomes, reached], [{ x: 'ok' }, ['source']]);
  const { events, opts: o2 } = collecting();
  const refused = await runPlan(makePlan([make(undefined)]), { ...o2, transports: named.transports });
  assert.equal(refused.outcomes['x'], 'failed');
  const end = events.find((e) => e.kind === 'step-end');
  assert.equal(end && 'error' in end ? end.error?.code : undefined, 'step-host-undeclared');
});

test('a resumed run that fails undoes what the interrupted run changed too, from what it observed there', async () => {
  // The interrupted run set a and b (from none and from "old"); the resumed one finds them done, then c fails.
  const world = new Map([
    ['a', 'v'],
    ['b', 'v'],
  ]);
  const prior = { a: {}, b: { before: 'old' } };
  const steps = [
    memoryStep({ id: 'a', world, value: 'v' }),
    memoryStep({ id: 'b', world, value: 'v', dependsOn: ['a'] }),
    memoryStep({ id: 'c', world, value: 'v', dependsOn: ['b'], failVerify: 'no' }),
  ];
  const { events, opts } = collecting({ maxPerHost: 1, prior });
  const summary = await runPlan(makePlan(steps), opts);
  assert.deepEqual(summary.outcomes, { a: 'ok', b: 'ok', c: 'failed' });
  assert.deepEqual(summary.rolledBack, ['c', 'b', 'a']);
  assert.deepEqual([...world], [['b', 'old']]);
  assert.deepEqual(
    events.filter((e) => e.kind === 'rollback-start').map((e) => ('stepId' in e ? e.stepId : '')),
    ['c', 'b', 'a'],
  );
});

test('a resumed run that fails before the steps the interrupted run got to undoes those too, last first', async () => {
  // The interrupted run set a, b and c; the resumed one finds a done, then cannot check b.
  const world = new Map([
    ['a', 'v'],
    ['b', 'v'],
    ['c', 'v'],
  ]);
  const unreadable = memoryStep({ id: 'b', world, value: 'v', dependsOn: ['a'] });
  const steps = [
    memoryStep({ id: 'a', world, value: 'v' }),
    { ...unreadable, check: () => Promise.reject(new Error('cannot read b')) },
    memoryStep({ id: 'c', world, value: 'v', dependsOn: ['b'] }),
    memoryStep({ id: 'd', world, value: 'v', dependsOn: ['c'] }),
  ];
  const { opts } = collecting({ maxPerHost: 1, prior: { a: {}, b: { before: 'old' }, c: {} } });
  const summary = await runPlan(makePlan(steps), opts);
  assert.deepEqual(summary.outcomes, { a: 'ok', b: 'failed', c: 'skipped', d: 'skipped' });
  assert.deepEqual(summary.rolledBack, ['c', 'b', 'a']);
  assert.deepEqual([...world], [['b', 'old']]);
});

test('a step found done without a prior observation is not undone: it was like that before the run', async () => {
  const world = new Map([['a', 'v']]);
  const steps = [
    memoryStep({ id: 'a', world, value: 'v' }),
    memoryStep({ id: 'c', world, value: 'v', dependsOn: ['a'], failVerify: 'no' }),
  ];
  const { opts } = collecting({ maxPerHost: 1, prior: {} });
  const summary = await runPlan(makePlan(steps), opts);
  assert.deepEqual(summary.rolledBack, ['c']);
  assert.equal(world.get('a'), 'v');
});

test('a failed rollback of a step that holds the rollback keeps every step before it as it is', async () => {
  const world = new Map<string, string>();
  const log: string[] = [];
  const held = {
    ...memoryStep({ id: 'b', world, value: 'v', dependsOn: ['a'], log, failRollback: new Error('cannot') }),
  };
  const steps = [
    memoryStep({ id: 'a', world, value: 'v', log }),
    { ...held, holdsRollback: true },
    memoryStep({ id: 'c', world, value: 'v', dependsOn: ['b'], log }),
    memoryStep({ id: 'd', world, value: 'v', dependsOn: ['c'], failVerify: 'no', log }),
  ];
  const { opts } = collecting({ maxPerHost: 1 });
  const summary = await runPlan(makePlan(steps), opts);
  assert.deepEqual(summary.rolledBack, ['d', 'c']);
  assert.deepEqual(summary.rollbackFailed, ['b']);
  assert.equal(summary.rollbackStoppedAt, 'b');
  assert.equal(world.get('a'), 'v', 'a is not undone');
  assert.deepEqual(
    log.filter((l) => l.startsWith('rollback')),
    ['rollback d', 'rollback c', 'rollback b'],
  );
});

test('bytes a step says it moved are events of the run; nothing is said of zero or of a non-number', async () => {
  const step: Step = {
    id: 'copy',
    host: 'h1',
    phase: 'transfer',
    title: 'copy',
    dependsOn: [],
    doc: () => ({ purpose: '', commands: [], verify: '', undo: '' }),
    check: async () => ({ needed: true }),
    apply: async (ctx) => {
      ctx.transferred('volumes', 4096);
      ctx.transferred('databases', 0);
      ctx.transferred('databases', Number.NaN);
      ctx.transferred('databases', 10);
    },
    verify: async () => ({ ok: true }),
    rollback: async () => {},
  };
  const { events, opts } = collecting();
  await runPlan(makePlan([step]), opts);
  assert.deepEqual(
    events.filter((e) => e.kind === 'step-transferred'),
    [
      { at, kind: 'step-transferred', stepId: 'copy', transfer: 'volumes', bytes: 4096 },
      { at, kind: 'step-transferred', stepId: 'copy', transfer: 'databases', bytes: 10 },
    ],
  );
});

test('keepGoing: a failed step stops only what depends on it, and nothing is undone', async () => {
  const world = new Map<string, string>();
  const steps = [
    memoryStep({ id: 'a', world, value: 'v', failApply: new Error('refused') }),
    memoryStep({ id: 'b', world, value: 'v' }),
    memoryStep({ id: 'c', world, value: 'v', dependsOn: ['a'] }),
    memoryStep({ id: 'd', world, value: 'v', dependsOn: ['b'] }),
  ];
  const { opts } = collecting({ maxPerHost: 1 });
  const summary = await runPlan(makePlan(steps), { ...opts, keepGoing: true });
  assert.deepEqual(summary.outcomes, { a: 'failed', b: 'changed', c: 'skipped', d: 'changed' });
  assert.deepEqual(summary.rolledBack, ['a']);
  assert.deepEqual([...world].sort(), [
    ['b', 'v'],
    ['d', 'v'],
  ]);
});
