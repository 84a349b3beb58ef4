import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Limiter } from './limiter.js';
import { backoffDelay, withRetry } from './retry.js';

const policy = { retries: 3, baseDelayMs: 100, maxDelayMs: 300 };

test('backoff doubles from the base delay and stops at the cap', () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffDelay(policy, n)),
    [100, 200, 300, 300],
  );
});

test('withRetry retries what may pass later, sleeping the backoff, and gives up after the retries', async () => {
  const slept: number[] = [];
  const attempts: number[] = [];
  await assert.rejects(
    withRetry(
      async (n) => {
        attempts.push(n);
        throw new Error(`attempt ${n}`);
      },
      policy,
      { shouldRetry: () => true, sleep: async (ms) => void slept.push(ms) },
    ),
    /attempt 4/,
  );
  assert.deepEqual(attempts, [1, 2, 3, 4]);
  assert.deepEqual(slept, [100, 200, 300]);
});

test('withRetry stops at once on a failure waiting cannot fix, and returns the first success', async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(
      async () => {
        calls += 1;
        throw new Error('auth');
      },
      policy,
      { shouldRetry: () => false, sleep: async () => undefined },
    ),
    /auth/,
  );
  assert.equal(calls, 1);
  const retries: number[] = [];
  const value = await withRetry(
    async (n) => {
      if (n < 3) throw new Error('not yet');
      return 'ok';
    },
    policy,
    { shouldRetry: () => true, sleep: async () => undefined, onRetry: (_e, n) => void retries.push(n) },
  );
  assert.equal(value, 'ok');
  assert.deepEqual(retries, [1, 2]);
});

test('the limiter never runs more than its maximum at once', async () => {
  const limiter = new Limiter(3);
  let running = 0;
  let most = 0;
  const task = () =>
    limiter.run(async () => {
      running += 1;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
    });
  await Promise.all(Array.from({ length: 10 }, task));
  assert.deepEqual([most, limiter.peak, limiter.started], [3, 3, 10]);
  // A failing task frees its slot.
  await assert.rejects(
    limiter.run(async () => {
      throw new Error('x');
    }),
    /x/,
  );
  await limiter.run(async () => undefined);
  assert.throws(() => new Limiter(0), /a limit must be a whole number of 1 or more, got 0/);
});
