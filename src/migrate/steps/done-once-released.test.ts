import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmd } from '../../shell/command.js';
import type { Step } from '../../engine/step.js';
import { StepError } from '../../engine/errors.js';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { doneOnceReleasedStep, type DoneOnceReleasedObserved } from './done-once-released.js';

const READLINK = 'readlink /srv/ferry/shop/current 2>/dev/null';
const NEW = '20260102-000000-bbbbbbbb';

interface FreezeObserved {
  running: string[];
}

/** A step on host2 (like the dump) that reads and changes a flag file there, and reports what it saw. */
function inner(): Step<FreezeObserved> {
  return {
    id: 'shop/migrate/dump/db',
    host: 'host2',
    reaches: ['host3'],
    phase: 'deploy',
    title: 'move db',
    dependsOn: ['shop/migrate/freeze'],
    doc: () => ({ purpose: 'Move db.', commands: [], verify: 'It is there.', undo: 'Remove it.' }),
    async check(ctx) {
      const r = await ctx.transport.exec(cmd('cat', '/flag'));
      const prior = ctx.prior as FreezeObserved | undefined;
      const running = prior?.running ?? r.stdout.split(' ').filter(Boolean);
      return { needed: r.code !== 0, change: { summary: 'move db' }, observed: { running } };
    },
    async apply(ctx, o) {
      const r = await ctx.transport.exec(cmd('touch', '/flag', ...o.running));
      if (r.code !== 0) throw new StepError('docker-failed', 'host2: touch failed', 'fix it');
    },
    async verify(ctx) {
      return { ok: (await ctx.transport.exec(cmd('cat', '/flag'))).code === 0 };
    },
    async rollback(ctx, o) {
      await ctx.transport.exec(cmd('rm', '-f', '/flag', ...o.running));
    },
  };
}

const wrapped = () =>
  doneOnceReleasedStep({ step: inner(), stack: 'shop', source: { name: 'host1', sudo: false }, releaseId: NEW });

function hosts() {
  const target = new RecordingTransport('host2');
  const source = new RecordingTransport('host1');
  return { target, source, ctx: (prior?: unknown) => testContext(target, { others: { host1: source }, prior: prior }) };
}

test('done once released: keeps the wrapped step place and reaches the source besides its own hosts', () => {
  const s = wrapped();
  assert.deepEqual(
    [s.id, s.host, s.phase, s.dependsOn, s.reaches],
    ['shop/migrate/dump/db', 'host2', 'deploy', ['shop/migrate/freeze'], ['host3', 'host1']],
  );
  assert.equal(
    s.doc().purpose,
    `Move db. Nothing to do once host1 runs release ${NEW} (\`${READLINK}\`): the move is past this step.`,
  );
});

test('done once released: the source runs the new release, so the check reads only that and needs nothing', async () => {
  const { target, source, ctx } = hosts();
  source.when(READLINK, { stdout: `releases/${NEW}\n` });
  const { checked } = await drive(wrapped(), ctx());
  assert.deepEqual(checked, { needed: false, observed: { done: true } });
  assert.deepEqual(source.lines, [READLINK]);
  assert.deepEqual(target.lines, []);
});

test('done once released: before it, check, apply, verify and rollback are the wrapped step, its observation inside', async () => {
  const { target, source, ctx } = hosts();
  source.when(READLINK, { stdout: 'releases/20260101-000000-aaaaaaaa\n' });
  target
    .when('cat /flag', { code: 1 }, { times: 1 })
    .when('cat /flag', { stdout: 'x' })
    .when(/^(touch|rm) /, {});
  const { checked, verified } = await drive(wrapped(), ctx(), { rollback: true });
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'move db' },
    observed: { done: false, inner: { running: [] } },
  });
  assert.deepEqual(verified, { ok: true });
  // Read at the check, and again right before the apply.
  assert.deepEqual(source.lines, [READLINK, READLINK]);
  assert.deepEqual(target.lines, ['cat /flag', 'touch /flag', 'cat /flag', 'rm -f /flag']);
});

test('done once released: a resumed run gives the wrapped step its own part of the journaled observation', async () => {
  const { target, source, ctx } = hosts();
  source.when(READLINK, { code: 1, stderr: 'readlink: no such file' });
  target.when('cat /flag', { code: 1 }).when(/^touch /, {});
  const prior: DoneOnceReleasedObserved<FreezeObserved> = { done: false, inner: { running: ['web', 'worker'] } };
  const step = wrapped();
  const checked = await step.check(ctx(prior));
  assert.deepEqual(checked.observed, { done: false, inner: { running: ['web', 'worker'] } });
  await step.apply(ctx(prior), checked.observed!);
  assert.deepEqual(target.lines, ['cat /flag', 'touch /flag web worker']);
});

test('done once released: a failure of the wrapped apply is its own coded error', async () => {
  const { target, source, ctx } = hosts();
  source.when(READLINK, { stdout: 'releases/20260101-000000-aaaaaaaa\n' });
  target.when('cat /flag', { code: 1 }).when(/^touch /, { code: 1, stderr: 'denied' });
  const step = wrapped();
  const checked = await step.check(ctx());
  await assert.rejects(
    step.apply(ctx(), checked.observed!),
    (e: unknown) => e instanceof StepError && e.code === 'docker-failed',
  );
});

test('done once released: an apply asked for once the source runs the new release refuses, changing nothing', async () => {
  const { target, source, ctx } = hosts();
  source.when(READLINK, { stdout: 'releases/20260101-000000-aaaaaaaa\n' }, { times: 1 }).when(READLINK, {
    stdout: `releases/${NEW}\n`,
  });
  target.when('cat /flag', { code: 1 });
  const step = wrapped();
  const checked = await step.check(ctx());
  await assert.rejects(
    step.apply(ctx(), checked.observed!),
    (e: unknown) => e instanceof StepError && e.code === 'source-in-use',
  );
  assert.deepEqual(target.lines, ['cat /flag']);
});
