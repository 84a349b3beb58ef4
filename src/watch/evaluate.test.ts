import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditions, newState, step } from './evaluate.js';
import { emptySample, type ServerSample } from './sample.js';

const T = { cpuPercent: 90, memoryPercent: 90, diskPercent: 90 };
const at = (n: number): string => new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
const sample = (n: number, extra: Partial<ServerSample> = {}): ServerSample => ({
  ...emptySample('web1', at(n)),
  cpuPercent: 10,
  memoryPercent: 20,
  disks: [{ mount: '/', usePercent: 40 }],
  ...extra,
});

test('a healthy sample holds no condition', () => {
  assert.deepEqual(conditions(sample(0), T), []);
});

test('each threshold crossed is a condition naming the server and what crossed it', () => {
  const c = conditions(sample(0, { memoryPercent: 95, disks: [{ mount: '/srv', usePercent: 97 }] }), T);
  assert.deepEqual(
    c.map((x) => [x.alert, x.subject, x.summary]),
    [
      ['HostHighMemory', 'memory', 'web1: memory 95 % used (threshold 90 %)'],
      ['HostDiskFull', '/srv', 'web1: /srv is 97 % full (threshold 90 %)'],
    ],
  );
});

test('CPU fires only after three samples over the threshold in a row; one under resets the count', () => {
  const s = newState();
  const hot = (n: number) => sample(n, { cpuPercent: 99 });
  assert.deepEqual(step(s, [hot(0)], T), []);
  assert.deepEqual(step(s, [hot(1)], T), []);
  assert.deepEqual(step(s, [sample(2)], T), []);
  assert.deepEqual(step(s, [hot(3)], T), []);
  assert.deepEqual(step(s, [hot(4)], T), []);
  const fired = step(s, [hot(5)], T);
  assert.deepEqual(
    fired.map((t) => [t.status, t.alert.alert, t.alert.firedAt]),
    [['firing', 'HostHighCpu', at(5)]],
  );
  assert.deepEqual(step(s, [hot(6)], T), [], 'a firing alert is not sent again');
  assert.deepEqual(
    step(s, [sample(7)], T).map((t) => [t.status, t.alert.firedAt, t.alert.resolvedAt]),
    [['resolved', at(5), at(7)]],
  );
});

test('a stopped container is down unless it ran to completion without a restart policy; unhealthy is its own alert', () => {
  const c = (name: string, status: string, exitCode: number, restart?: string, health?: string) => ({
    stack: 'shop',
    name,
    service: name,
    status,
    exitCode,
    ...(restart ? { restart } : {}),
    ...(health ? { health } : {}),
  });
  const found = conditions(
    sample(0, {
      containers: [
        c('migrate', 'exited', 0),
        c('web', 'exited', 0, 'unless-stopped'),
        c('worker', 'exited', 1, 'on-failure'),
        c('api', 'running', 0, 'always', 'unhealthy'),
        c('cache', 'missing', 0),
        c('db', 'running', 0, 'always', 'healthy'),
      ],
    }),
    T,
  );
  assert.deepEqual(
    found.map((x) => [x.alert, x.subject, x.summary]),
    [
      ['ContainerDown', 'web', 'shop/web on web1: web is exited'],
      ['ContainerDown', 'worker', 'shop/worker on web1: worker is exited (exit 1)'],
      ['ContainerUnhealthy', 'api', 'shop/api on web1: api is unhealthy'],
      ['ContainerDown', 'cache', 'shop/cache on web1: no container'],
    ],
  );
});

test('a server that cannot be read fires HostUnreachable and keeps its other alerts as they were', () => {
  const s = newState();
  const full = sample(0, { disks: [{ mount: '/', usePercent: 99 }] });
  assert.deepEqual(
    step(s, [full], T).map((t) => t.alert.alert),
    ['HostDiskFull'],
  );
  const gone = { ...emptySample('web1', at(1)), unreachable: 'connection refused' };
  assert.deepEqual(
    step(s, [gone], T).map((t) => [t.status, t.alert.alert]),
    [['firing', 'HostUnreachable']],
  );
  assert.deepEqual(
    step(s, [sample(2)], T).map((t) => [t.status, t.alert.alert]),
    [
      ['resolved', 'HostDiskFull'],
      ['resolved', 'HostUnreachable'],
    ],
  );
});

test("a stack that cannot be read fires StackUnreadable: the host's figures still count, that stack's alerts stay as they were, another stack's resolve", () => {
  const s = newState();
  const down = (stack: string) => ({ stack, name: 'web', service: 'web', status: 'exited', exitCode: 1 });
  assert.deepEqual(
    step(s, [sample(0, { containers: [down('shop'), down('blog')] })], T).map((t) => [t.alert.alert, t.alert.stack]),
    [
      ['ContainerDown', 'shop'],
      ['ContainerDown', 'blog'],
    ],
  );
  const unread = sample(1, {
    memoryPercent: 95,
    stackProblems: [{ stack: 'shop', problem: 'docker-failed: permission denied' }],
  });
  assert.deepEqual(
    step(s, [unread], T).map((t) => [t.status, t.alert.alert, t.alert.stack ?? '']),
    [
      ['firing', 'HostHighMemory', ''],
      ['firing', 'StackUnreadable', 'shop'],
      ['resolved', 'ContainerDown', 'blog'],
    ],
  );
  assert.match(
    [...s.firing.values()].find((a) => a.alert === 'StackUnreadable')!.summary,
    /^shop on web1: its containers cannot be read: docker-failed: permission denied$/,
  );
  assert.deepEqual(
    step(s, [sample(2)], T).map((t) => [t.status, t.alert.alert, t.alert.stack ?? '']),
    [
      ['resolved', 'ContainerDown', 'shop'],
      ['resolved', 'HostHighMemory', ''],
      ['resolved', 'StackUnreadable', 'shop'],
    ],
  );
});

test('alerts of one server are not resolved by the sample of another', () => {
  const s = newState();
  step(s, [sample(0, { memoryPercent: 99 })], T);
  assert.deepEqual(step(s, [{ ...sample(1), server: 'web2' }], T), []);
  assert.equal(s.firing.size, 1);
});

test('error lines and failing HTTP checks are conditions of their stack', () => {
  const found = conditions(
    sample(0, {
      httpProblems: [{ stack: 'shop', check: 'GET web:8000/health', problem: 'answered 502' }],
      logErrors: [{ stack: 'shop', container: 'shop-web-1', lines: 2, last: 'ERROR db gone' }],
    }),
    T,
  );
  assert.deepEqual(
    found.map((x) => [x.alert, x.severity, x.stack, x.summary]),
    [
      ['HttpCheckFailing', 'critical', 'shop', 'shop on web1: GET web:8000/health: answered 502'],
      ['LogErrors', 'warning', 'shop', 'shop on web1: shop-web-1 logged 2 error lines, the last: ERROR db gone'],
    ],
  );
});
