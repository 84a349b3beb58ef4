/** `ferry runs` and `ferry runs show` read the journal in FERRY_STATE_DIR. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { makePlan } from '../../src/engine/plan.js';
import { runPlan } from '../../src/engine/run.js';
import { collecting, memoryStep } from '../../src/engine/test-helpers.js';
import { openJournal } from '../../src/journal/journal.js';
import { ferry } from './run.js';

/** A state dir with a failed run (`run-1`) and, after it, one killed while applying (`run-2`). */
async function stateWithRuns(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), 'ferry-runs-')), 'state');
  const journal = openJournal(dir);
  const world = new Map([['shop/upload/env', 'v']]);
  const plan = makePlan([
    memoryStep({ id: 'shop/upload/compose.yml', world, value: 'v' }),
    memoryStep({ id: 'shop/upload/env', world, value: 'v' }),
    memoryStep({
      id: 'shop/up',
      world,
      value: 'v',
      failApply: new Error('docker compose up: exit 1'),
      dependsOn: ['shop/upload/compose.yml'],
    }),
  ]);
  const { opts } = collecting({ maxPerHost: 1 });
  await runPlan(plan, { ...opts, onEvent: journal.recorder('run-1', { command: 'apply', fleetFile: 'ferry.yml' }) });
  const record = journal.recorder('run-2', { command: 'apply' });
  record({
    at: '2025-01-03T10:00:00.000Z',
    kind: 'run-start',
    runId: 'run-2',
    steps: [{ id: 'shop/up', host: 'h1', phase: 'deploy', title: 'up' }],
  });
  record({ at: '2025-01-03T10:00:01.000Z', kind: 'step-start', stepId: 'shop/up', host: 'h1' });
  journal.close();
  return dir;
}

test('ferry runs lists runs newest first with their counts; a run without run-end shows as running', async () => {
  const env = { FERRY_STATE_DIR: await stateWithRuns() };
  const t = await ferry(['runs'], { env });
  assert.deepEqual(t, {
    code: 0,
    err: '',
    out: [
      'RUN    STARTED (UTC)        STATUS   CHANGED  OK  FAILED  SKIPPED  COMMAND',
      '-----  -------------------  -------  -------  --  ------  -------  -------',
      'run-2  2025-01-03 10:00:00  running  -        -   -       -        apply',
      'run-1  2025-01-02 03:04:05  failed   1        1   1       0        apply',
      '',
    ].join('\n'),
  });
  const limited = await ferry(['runs', '--limit', '1', '--json'], { env });
  assert.equal(limited.code, 0);
  assert.deepEqual(JSON.parse(limited.out), {
    runs: [{ id: 'run-2', startedAt: '2025-01-03T10:00:00.000Z', command: 'apply', status: 'running' }],
  });
});

test('ferry runs show prints one line per event, or the run and its events as JSON', async () => {
  const env = { FERRY_STATE_DIR: await stateWithRuns() };
  const t = await ferry(['runs', 'show', 'run-1'], { env });
  assert.deepEqual(t, {
    code: 0,
    err: '',
    out: [
      'run run-1: apply, failed',
      '03:04:05 run-start run-1 3 steps',
      '03:04:05 step-start shop/upload/compose.yml on h1',
      '03:04:05 step-checked shop/upload/compose.yml needed: shop/upload/compose.yml: (none) -> v',
      '03:04:05 step-applied shop/upload/compose.yml',
      '03:04:05 step-verified shop/upload/compose.yml ok',
      '03:04:05 step-end shop/upload/compose.yml changed 0ms',
      '03:04:05 step-start shop/upload/env on h1',
      '03:04:05 step-checked shop/upload/env not needed',
      '03:04:05 step-end shop/upload/env ok 0ms',
      '03:04:05 step-start shop/up on h1',
      '03:04:05 step-checked shop/up needed: shop/up: (none) -> v',
      '03:04:05 rollback-start shop/up',
      '03:04:05 rollback-end shop/up ok',
      '03:04:05 step-end shop/up failed 0ms step-failed: docker compose up: exit 1',
      '03:04:05 rollback-start shop/upload/compose.yml',
      '03:04:05 rollback-end shop/upload/compose.yml ok',
      '03:04:05 run-end changed 1, ok 1, failed 1, skipped 0',
      '',
    ].join('\n'),
  });
  const unfinished = await ferry(['runs', 'show', 'run-2'], { env });
  assert.equal(
    unfinished.out,
    'run run-2: apply, running\n10:00:00 run-start run-2 1 steps\n10:00:01 step-start shop/up on h1\n(no run-end: the run is still running or was interrupted)\n',
  );
  const json = await ferry(['runs', 'show', 'run-2', '--json'], { env });
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.out), {
    run: { id: 'run-2', startedAt: '2025-01-03T10:00:00.000Z', command: 'apply', status: 'running' },
    events: [
      {
        at: '2025-01-03T10:00:00.000Z',
        kind: 'run-start',
        runId: 'run-2',
        steps: [{ id: 'shop/up', host: 'h1', phase: 'deploy', title: 'up' }],
      },
      { at: '2025-01-03T10:00:01.000Z', kind: 'step-start', stepId: 'shop/up', host: 'h1' },
    ],
  });
});

test('an unknown run id exits 2 with run-not-found and a hint', async () => {
  const dir = await stateWithRuns();
  const t = await ferry(['runs', 'show', 'nope'], { env: { FERRY_STATE_DIR: dir } });
  assert.deepEqual(t, {
    code: 2,
    out: '',
    err: `error run-not-found: no run "nope" in the journal\n  at ${join(dir, 'journal.sqlite')}\n  hint: run \`ferry runs\` to list the recorded runs and their ids\n`,
  });
});

test('with no journal yet, ferry runs says so and creates nothing; a bad --limit is a usage error', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'ferry-runs-')), 'state');
  assert.deepEqual(await ferry(['runs'], { env: { FERRY_STATE_DIR: dir } }), {
    code: 0,
    out: 'no runs recorded yet\n',
    err: '',
  });
  assert.equal((await ferry(['runs', 'show', 'x'], { env: { FERRY_STATE_DIR: dir } })).code, 2);
  assert.equal(existsSync(dir), false);
  const bad = await ferry(['runs', '--limit', 'all'], { env: { FERRY_STATE_DIR: dir } });
  assert.deepEqual(bad, {
    code: 2,
    out: '',
    err: 'error usage: --limit: expected a whole number of runs, got "all"\n  at --limit\n  hint: pass --limit 1 or more\n',
  });
});
