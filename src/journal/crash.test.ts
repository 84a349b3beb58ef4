/** A process killed with SIGKILL mid-run leaves every event up to the kill, and an unfinished run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { makePlan } from '../engine/plan.js';
import { runPlan } from '../engine/run.js';
import { collecting, memoryStep } from '../engine/test-helpers.js';
import { openJournal } from './journal.js';

const child = fileURLToPath(new URL('./test-helpers/crash-child.ts', import.meta.url));

test('after a kill -9 while applying a step, the journal holds every event before it and the run is unfinished', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'ferry-crash-')), 'state');
  const r = spawnSync(process.execPath, ['--import', 'tsx', child, dir], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  const journal = openJournal(dir);
  const run = journal.run('crashed');
  assert.ok(run);
  assert.deepEqual(
    run.events.map((e) => `${e.kind} ${'stepId' in e ? e.stepId : ''}`.trim()),
    [
      'run-start',
      ...['a', 'b'].flatMap((id) => [
        `step-start ${id}`,
        `step-checked ${id}`,
        `step-applied ${id}`,
        `step-verified ${id}`,
        `step-end ${id}`,
      ]),
      'step-start c',
      'step-checked c',
    ],
  );
  assert.deepEqual(journal.lastUnfinished(), {
    id: 'crashed',
    startedAt: '2025-01-02T03:04:05.000Z',
    command: 'apply',
    status: 'interrupted',
  });
  assert.deepEqual(journal.outcomes('crashed'), { a: 'changed', b: 'changed', c: 'interrupted' });
  // What c saw before the kill is there for the resumed run.
  const prior = journal.observations('crashed');
  assert.deepEqual(prior, { a: {}, b: {}, c: { before: 'old' } });
  journal.close();
  // Resumed where c's apply had half-happened: when c fails again, its undo goes back to what
  // the killed run saw (old), not to the half-done value the resumed check reads.
  const world = new Map([['c', 'half']]);
  const steps = ['a', 'b', 'c'].map((id) =>
    memoryStep({ id, world, value: 'v', ...(id === 'c' ? { failVerify: 'no' } : {}) }),
  );
  const { opts } = collecting({ maxPerHost: 1, prior });
  const summary = await runPlan(makePlan(steps), opts);
  assert.deepEqual(summary.outcomes, { a: 'changed', b: 'changed', c: 'failed' });
  assert.equal(world.get('c'), 'old');
});
