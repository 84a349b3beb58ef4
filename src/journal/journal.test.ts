import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { Redactor } from '../core/redact.js';
import type { RunEvent } from '../engine/events.js';
import { makePlan } from '../engine/plan.js';
import { runPlan } from '../engine/run.js';
import { collecting, memoryStep } from '../engine/test-helpers.js';
import { JOURNAL_FILE, openJournal } from './journal.js';
import { SCHEMA_VERSION } from './schema.js';

const stateDir = () => join(mkdtempSync(join(tmpdir(), 'ferry-journal-')), 'state');
const at = '2025-01-02T03:04:05.000Z';

/** Runs a plan of a, b (fails verify) and c, recording into the journal; returns the events it emitted. */
async function failingRun(dir: string, redactor = new Redactor()): Promise<RunEvent[]> {
  const journal = openJournal(dir, redactor);
  const world = new Map<string, string>();
  const plan = makePlan([
    memoryStep({ id: 'shop/a', world, value: 'v' }),
    memoryStep({ id: 'shop/b', world, value: 'v', failVerify: 'still old' }),
    memoryStep({ id: 'shop/c', world, value: 'v' }),
  ]);
  const { events, opts } = collecting({ maxPerHost: 1, redactor });
  const record = journal.recorder('run-1', { command: 'apply', fleetFile: 'ferry.yml' });
  await runPlan(plan, {
    ...opts,
    onEvent: (e) => {
      events.push(e);
      record(e);
    },
  });
  journal.close();
  return events;
}

test('a recorded run reads back exactly: the run, every event in order, and each step outcome', async () => {
  const dir = stateDir();
  const events = await failingRun(dir);
  const journal = openJournal(dir);
  const summary = {
    changed: 1,
    ok: 0,
    failed: 1,
    skipped: 1,
    outcomes: { 'shop/a': 'changed', 'shop/b': 'failed', 'shop/c': 'skipped' },
    rolledBack: ['shop/b', 'shop/a'],
    rollbackFailed: [],
  };
  const run = {
    id: 'run-1',
    startedAt: at,
    endedAt: at,
    command: 'apply',
    fleetFile: 'ferry.yml',
    status: 'failed',
    summary,
  };
  assert.deepEqual(journal.runs(), [run]);
  assert.deepEqual(journal.run('run-1'), { run, events });
  assert.equal(events.length, 17);
  assert.deepEqual(journal.outcomes('run-1'), { 'shop/a': 'rolled-back', 'shop/b': 'failed', 'shop/c': 'skipped' });
  assert.equal(journal.lastUnfinished(), undefined);
  assert.equal(journal.run('nope'), undefined);
  journal.close();
});

test('a run without run-end is the last unfinished one; a step started and not ended is interrupted', () => {
  const journal = openJournal(stateDir());
  const record = journal.recorder('run-2', { command: 'apply' });
  record({
    at,
    kind: 'run-start',
    runId: 'run-2',
    steps: [
      { id: 'a', host: 'h1', phase: 'deploy', title: 'set a' },
      { id: 'b', host: 'h1', phase: 'deploy', title: 'set b' },
    ],
  });
  record({ at, kind: 'step-start', stepId: 'a', host: 'h1' });
  record({ at, kind: 'step-end', stepId: 'a', outcome: 'changed', durationMs: 5 });
  record({ at, kind: 'step-start', stepId: 'b', host: 'h1' });
  assert.deepEqual(journal.lastUnfinished(), { id: 'run-2', startedAt: at, command: 'apply', status: 'interrupted' });
  assert.deepEqual(
    journal.runs().map((r) => r.status),
    ['running'],
  );
  assert.deepEqual(journal.outcomes('run-2'), { a: 'changed', b: 'interrupted' });
  journal.close();
});

test('runs are listed newest first, up to the limit', () => {
  const journal = openJournal(stateDir());
  for (const [id, t] of [
    ['old', '2025-01-01T00:00:00.000Z'],
    ['new', '2025-03-01T00:00:00.000Z'],
    ['mid', '2025-02-01T00:00:00.000Z'],
  ] as const) {
    journal.recorder(id, { command: 'apply' })({ at: t, kind: 'run-start', runId: id, steps: [] });
  }
  assert.deepEqual(
    journal.runs().map((r) => r.id),
    ['new', 'mid', 'old'],
  );
  assert.deepEqual(
    journal.runs(2).map((r) => r.id),
    ['new', 'mid'],
  );
  journal.close();
});

test('a secret the redactor knows never reaches the journal files, even from an unredacted event', async () => {
  const dir = stateDir();
  const redactor = new Redactor();
  redactor.add('canary-7d3f1a');
  await failingRun(dir, redactor);
  const journal = openJournal(dir, redactor);
  const record = journal.recorder('run-canary-7d3f1a', {
    command: 'apply --token canary-7d3f1a',
    fleetFile: '/srv/canary-7d3f1a/ferry.yml',
  });
  record({
    at,
    kind: 'run-start',
    runId: 'x',
    steps: [{ id: 'canary-7d3f1a', host: 'h1', phase: 'deploy', title: 'upload canary-7d3f1a' }],
  });
  record({
    at,
    kind: 'step-end',
    stepId: 'canary-7d3f1a',
    outcome: 'failed',
    durationMs: 1,
    error: { code: 'step-failed', message: 'password "canary-7d3f1a\\n"', hint: 'canary-7d3f1a' },
  });
  assert.match(JSON.stringify(journal.run('run-[REDACTED]')), /upload \[REDACTED\]/);
  journal.close();
  for (const name of readdirSync(dir)) {
    assert.equal(readFileSync(join(dir, name)).includes('canary-7d3f1a'), false, name);
  }
});

test('the journal file is mode 600 in a directory of mode 700, in WAL mode, at the current schema version', async () => {
  const dir = stateDir();
  await failingRun(dir);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(join(dir, JOURNAL_FILE)).mode & 0o777, 0o600);
  const db = new Database(join(dir, JOURNAL_FILE), { readonly: true });
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.deepEqual(db.prepare('SELECT version FROM schema_version').all(), [{ version: SCHEMA_VERSION }]);
  db.close();
});

test('a journal from a newer Ferry is refused with a code and a hint', () => {
  const dir = stateDir();
  openJournal(dir).close();
  const db = new Database(join(dir, JOURNAL_FILE));
  db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 1);
  db.close();
  assert.throws(() => openJournal(dir), {
    code: 'journal-too-new',
    hint: 'upgrade Ferry, or point FERRY_STATE_DIR at another directory',
  });
});

test('a write that fails is reported once and nothing more is written for that run', () => {
  const journal = openJournal(stateDir());
  const errors: unknown[] = [];
  const record = journal.recorder('run-3', { command: 'apply', onError: (e) => errors.push(e) });
  record({ at, kind: 'step-start', stepId: 'a', host: 'h1' });
  record({ at, kind: 'run-start', runId: 'run-3', steps: [] });
  assert.equal(errors.length, 1);
  assert.deepEqual(journal.runs(), []);
  journal.close();
});

test('observations: what each step saw, for the steps whose apply began and was not undone', () => {
  const dir = stateDir();
  const journal = openJournal(dir);
  const record = journal.recorder('run-k', { command: 'apply' });
  // Omit on each member of the union: `Omit<RunEvent, 'at'>` would keep only the keys they share.
  type Bare = RunEvent extends infer E ? (E extends unknown ? Omit<E, 'at'> : never) : never;
  const ev = (e: Bare) => record({ at, ...e } as RunEvent);
  ev({ kind: 'run-start', runId: 'run-k', steps: [] });
  // done: changed; a: apply began, killed; ok: nothing needed; undone: rolled back.
  for (const [id, needed] of [
    ['done', true],
    ['a', true],
    ['ok', false],
    ['undone', true],
  ] as const) {
    ev({ kind: 'step-start', stepId: id, host: 'h1' });
    ev({ kind: 'step-checked', stepId: id, needed, observed: { previous: `r-${id}` } });
  }
  ev({ kind: 'step-end', stepId: 'done', outcome: 'changed', durationMs: 1 });
  ev({ kind: 'step-end', stepId: 'ok', outcome: 'ok', durationMs: 1 });
  ev({ kind: 'rollback-start', stepId: 'undone' });
  ev({ kind: 'rollback-end', stepId: 'undone', ok: true });
  ev({ kind: 'step-end', stepId: 'undone', outcome: 'failed', durationMs: 1 });
  assert.deepEqual(journal.observations('run-k'), { done: { previous: 'r-done' }, a: { previous: 'r-a' } });
  assert.deepEqual(journal.observations('no-such-run'), {});
  journal.close();
});

test('a resumed run names the run it resumes, which becomes interrupted; observations follow the chain', () => {
  const journal = openJournal(stateDir());
  const steps = ['a', 'b', 'c'].map((id) => ({ id, host: 'h1', phase: 'deploy' as const, title: `set ${id}` }));
  const first = journal.recorder('r1', { command: 'migrate shop --to h2' });
  first({ at, kind: 'run-start', runId: 'r1', steps });
  first({ at, kind: 'step-start', stepId: 'a', host: 'h1' });
  first({ at, kind: 'step-checked', stepId: 'a', needed: true, observed: { before: 'a0' } });
  first({ at, kind: 'step-end', stepId: 'a', outcome: 'changed', durationMs: 1 });
  first({ at, kind: 'step-start', stepId: 'b', host: 'h1' });
  first({ at, kind: 'step-checked', stepId: 'b', needed: true, observed: { before: 'b0' } });
  // killed here; the second run finds a done, changes c, undoes c, and is killed too
  const second = journal.recorder('r2', { command: 'migrate shop --to h2 --resume r1', resumes: 'r1' });
  second({ at, kind: 'run-start', runId: 'r2', steps });
  second({ at, kind: 'step-start', stepId: 'b', host: 'h1' });
  second({ at, kind: 'step-checked', stepId: 'b', needed: false });
  second({ at, kind: 'step-end', stepId: 'b', outcome: 'ok', durationMs: 1 });
  second({ at, kind: 'step-start', stepId: 'c', host: 'h1' });
  second({ at, kind: 'step-checked', stepId: 'c', needed: true, observed: { before: 'c0' } });
  second({ at, kind: 'step-end', stepId: 'c', outcome: 'changed', durationMs: 1 });
  second({ at, kind: 'rollback-start', stepId: 'a' });
  second({ at, kind: 'rollback-end', stepId: 'a', ok: true });
  assert.deepEqual(
    journal.runs().map((r) => [r.id, r.status, r.resumes]),
    [
      ['r2', 'running', 'r1'],
      ['r1', 'interrupted', undefined],
    ],
  );
  assert.deepEqual(
    journal.chain('r2').map((r) => r.id),
    ['r1', 'r2'],
  );
  assert.deepEqual(journal.observations('r2'), { b: { before: 'b0' }, c: { before: 'c0' } });
  assert.equal(journal.lastUnfinished((r) => r.command.startsWith('migrate shop'))?.id, 'r2');
  assert.equal(
    journal.lastUnfinished((r) => r.command.startsWith('migrate other')),
    undefined,
  );
  journal.close();
});

test('a run refused before its first step (a lock held elsewhere) ends failed, with the reason', () => {
  const journal = openJournal(stateDir());
  const record = journal.recorder('r1', { command: 'apply' });
  record({ at, kind: 'run-start', runId: 'r1', steps: [] });
  record({ at, kind: 'run-refused', error: { code: 'lock-held', message: 'held by r0', hint: 'wait' } });
  assert.deepEqual(
    journal.runs().map((r) => [r.status, r.endedAt]),
    [['failed', at]],
  );
  assert.equal(journal.lastUnfinished(), undefined);
  // Refused behind an interrupted run (its lock): that run is still the one to resume.
  const killed = journal.recorder('r0', { command: 'apply' });
  killed({ at: '2025-01-01T00:00:00.000Z', kind: 'run-start', runId: 'r0', steps: [] });
  assert.equal(journal.lastUnfinished()?.id, 'r0');
  journal.close();
});
