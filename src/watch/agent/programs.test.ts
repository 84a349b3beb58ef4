/**
 * The jq programs of the installed watch against the TypeScript they port, on the same
 * inputs, with the jq this machine has (Debian's, as on the servers).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { DELIVER_JQ, EVALUATE_JQ, SAMPLE_JQ } from './programs.js';
import { cpuPercent, containerSamples, emptySample, type ServerSample } from '../sample.js';
import { parseDf, parseMeminfo } from '../../inventory/live/probes/system.js';
import { parseContainers } from '../../deploy/containers.js';
import { newState, step, type Alert, type Transition } from '../evaluate.js';
import { deliveries } from '../notify.js';
import { Secret } from '../../core/secret.js';
import type { ReceiverDef } from '../../model/monitoring.js';

const jq = (program: string, input: string, args: string[] = []): unknown =>
  JSON.parse(execFileSync('jq', ['-c', ...args, program], { input, encoding: 'utf8' }));
const jqLines = (program: string, input: string, args: string[]): unknown[] =>
  execFileSync('jq', ['-c', ...args, program], { input, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);

/** The sample program on the facts (one JSON object a line), for server web1 at `at`. */
const sampleOf = (facts: string, at: string): unknown =>
  jq(SAMPLE_JQ, facts, ['-s', '--arg', 'server', 'web1', '--arg', 'at', at]);

const STAT0 = 'cpu  4705 356 584 3699 23 23 0 0 0 0';
const STAT1 = 'cpu  4805 356 604 3739 33 23 0 0 0 0';
const MEMINFO =
  'MemTotal:        2048000 kB\nMemFree:          100000 kB\nMemAvailable:     512345 kB\nBuffers: 1 kB\n';
const DF = [
  'Filesystem     1-blocks      Used Available Capacity Mounted on',
  'overlay       100000000  91000000   9000000      91% /',
  '/dev/vda1     100000000  50000000  50000000      50% /srv/data dir',
  'tmpfs           1000000         0   1000000       0% /dev/shm',
  'shm               64000         0     64000       0% /var/lib/docker/containers/abc/mounts/shm',
  '/dev/vdb1        100000     10000     90000      10% /etc/hosts',
  'overlay        50000000  10000000  40000000      20% /var/lib/docker/overlay2/xyz/merged',
  '/dev/vdc1     200000000 190000000  10000000      95% /var/lib/docker',
].join('\n');

const container = (name: string, service: string, state: object, extra: object = {}) => ({
  Id: `${name}0123456789abcdef`,
  Name: `/${name}`,
  Config: { Image: 'x', Labels: { 'com.docker.compose.service': service, 'com.docker.compose.project': 'shop' } },
  State: state,
  NetworkSettings: { Networks: { shop_default: { IPAddress: '172.18.0.3' } } },
  ...extra,
});
const INSPECT = [
  container('shop-web-1', 'web', { Status: 'running', ExitCode: 0, Health: { Status: 'unhealthy' } }),
  container('shop-web-2', 'web', { Status: 'exited', ExitCode: 137 }, { HostConfig: { RestartPolicy: { Name: '' } } }),
  container(
    'shop-migrate-1',
    'migrate',
    { Status: 'exited', ExitCode: 0 },
    { HostConfig: { RestartPolicy: { Name: 'no' } } },
  ),
  container('shop-db-1', 'db', { Status: 'running' }, { HostConfig: { RestartPolicy: { Name: 'always' } } }),
];

test('the sample program reads CPU, memory, data filesystems and containers as sample.ts does', () => {
  const facts = [
    { k: 'host', stat0: STAT0, stat1: STAT1, meminfo: MEMINFO, df: DF },
    { k: 'stack', stack: 'shop', services: ['web', 'migrate', 'db', 'worker'], inspect: INSPECT },
    { k: 'stack', stack: 'empty', services: ['app'], inspect: [] },
    { k: 'http', stack: 'shop', check: 'GET web:8080/health', problem: 'shop-web-1: GET … answered 503' },
    { k: 'log', stack: 'shop', container: 'shop-db-1', lines: 2, last: 'ERROR: deadlock' },
    { k: 'unreadable', stack: 'other', problem: 'docker-failed: permission denied' },
  ];
  const got = sampleOf(facts.map((f) => JSON.stringify(f)).join('\n'), '2026-01-01T00:00:00.000Z');
  const mem = parseMeminfo(MEMINFO)!;
  const want: ServerSample = {
    ...emptySample('web1', '2026-01-01T00:00:00.000Z'),
    cpuPercent: cpuPercent(STAT0, STAT1)!,
    memoryPercent: Math.round(1000 * (1 - mem.available / mem.total)) / 10,
    disks: parseDf(DF).map((d) => ({ mount: d.mount, usePercent: d.usePercent })),
    containers: [
      ...containerSamples('shop', ['web', 'migrate', 'db', 'worker'], parseContainers(JSON.stringify(INSPECT))),
      ...containerSamples('empty', ['app'], []),
    ],
    httpProblems: [{ stack: 'shop', check: 'GET web:8080/health', problem: 'shop-web-1: GET … answered 503' }],
    logErrors: [{ stack: 'shop', container: 'shop-db-1', lines: 2, last: 'ERROR: deadlock' }],
    stackProblems: [{ stack: 'other', problem: 'docker-failed: permission denied' }],
  };
  assert.deepEqual(got, want);
  assert.equal(want.disks.length, 3, 'the overlay root, the data disk with a space in its mount, Docker’s disk');
});

test('the sample program leaves out what it could not read', () => {
  const got = sampleOf('{"k":"host","stat0":"garbage","stat1":"","meminfo":"","df":""}', 'T');
  assert.deepEqual(got, emptySample('web1', 'T'));
});

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomSample(r: () => number, n: number): ServerSample {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = (p: number) => r() < p;
  const s: ServerSample = {
    ...emptySample('web1', new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString()),
    cpuPercent: Math.round(r() * 1000) / 10,
    memoryPercent: Math.round(r() * 1000) / 10,
    disks: ['/', '/srv'].map((mount) => ({ mount, usePercent: Math.floor(80 + r() * 20) })),
  };
  const unreadable = maybe(0.15) ? ['jobs'] : [];
  for (const stack of ['shop', 'jobs'].filter((x) => !unreadable.includes(x)))
    for (const service of ['web', 'db']) {
      const status = pick(['running', 'running', 'running', 'exited', 'missing', 'restarting']);
      s.containers.push({
        stack,
        name: status === 'missing' ? service : `${stack}-${service}-1`,
        service,
        status,
        ...(status === 'missing' ? {} : { exitCode: pick([0, 0, 1, 137]) }),
        ...(maybe(0.3) ? { health: pick(['healthy', 'unhealthy', 'starting']) } : {}),
        ...(maybe(0.5) ? { restart: pick(['no', 'always', 'unless-stopped', 'on-failure']) } : {}),
      });
    }
  if (maybe(0.3)) s.httpProblems.push({ stack: 'shop', check: 'GET web:80/', problem: 'answered 502' });
  if (maybe(0.3)) s.logErrors.push({ stack: 'shop', container: 'shop-web-1', lines: pick([0, 1, 3]), last: 'error x' });
  for (const stack of unreadable) s.stackProblems.push({ stack, problem: 'docker-failed: cannot connect' });
  return s;
}

interface JqState {
  pending: Record<string, number>;
  firing: Record<string, Alert>;
}

test('the evaluate program fires and resolves exactly as evaluate.ts, sample after sample', () => {
  const T = { cpuPercent: 50, memoryPercent: 60, diskPercent: 90 };
  let compared = 0;
  for (const seed of [1, 2, 3, 4]) {
    const r = random(seed);
    const ts = newState();
    let js: JqState = { pending: {}, firing: {} };
    for (let n = 0; n < 25; n++) {
      const s = randomSample(r, n);
      const want = step(ts, [s], T);
      const got = jq(EVALUATE_JQ, JSON.stringify({ state: js, sample: s }), ['--argjson', 't', JSON.stringify(T)]) as {
        state: JqState;
        transitions: Transition[];
      };
      assert.deepEqual(got.transitions, want, `seed ${seed}, sample ${n}`);
      assert.deepEqual(new Map(Object.entries(got.state.firing)), ts.firing, `seed ${seed}, sample ${n}: firing`);
      assert.deepEqual(new Map(Object.entries(got.state.pending)), ts.pending, `seed ${seed}, sample ${n}: pending`);
      js = got.state;
      compared += want.length;
    }
  }
  assert.ok(compared > 50, `enough transitions compared (${compared})`);
});

test('the deliver program posts what notify.ts posts, to the receivers that want it', () => {
  const receivers: ReceiverDef[] = [
    { name: 'hook', type: 'webhook', url: { env: 'H' }, severity: 'warning', sendResolved: true },
    { name: 'crit', type: 'slack', url: { env: 'S' }, severity: 'critical', sendResolved: false, channel: '#ops' },
    { name: 'disc', type: 'discord', url: { env: 'D' }, severity: 'warning', sendResolved: false },
    { name: 'tg', type: 'telegram', token: { env: 'T' }, chatId: -100123, severity: 'warning', sendResolved: true },
    { name: 'mail', type: 'email', to: 'a@b', from: 'c@d', smarthost: 'm:25', severity: 'warning', sendResolved: true },
  ];
  const secrets = new Map([
    ['hook', new Secret('http://hook.test/x?token=canary')],
    ['crit', new Secret('https://hooks.slack.test/T/B/canary')],
    ['disc', new Secret('https://discord.test/api/webhooks/1/canary')],
    ['tg', new Secret('123:canary')],
  ]);
  // What the receivers file holds: the URL each is posted to.
  const file = receivers.map((r) => ({
    name: r.name,
    type: r.type,
    url:
      r.type === 'telegram'
        ? `https://api.telegram.org/bot${secrets.get(r.name)!.reveal()}/sendMessage`
        : (secrets.get(r.name)?.reveal() ?? ''),
    severity: r.severity,
    send_resolved: r.sendResolved,
    ...('channel' in r && r.channel ? { channel: r.channel } : {}),
    ...(r.type === 'telegram' ? { chat_id: r.chatId } : {}),
  }));
  const alert: Alert = {
    key: 'ContainerDown|web1|shop|db',
    alert: 'ContainerDown',
    severity: 'critical',
    server: 'web1',
    stack: 'shop',
    subject: 'db',
    summary: 'shop/db on web1: no container',
    firedAt: '2026-01-01T00:00:00.000Z',
  };
  const cases: Transition[] = [
    { status: 'firing', alert },
    { status: 'resolved', alert: { ...alert, resolvedAt: '2026-01-01T00:05:00.000Z' } },
    { status: 'firing', alert: { ...alert, severity: 'warning', stack: undefined as unknown as string } },
  ];
  for (const t of cases) {
    const clean = JSON.parse(JSON.stringify(t)) as Transition;
    const got = jqLines(DELIVER_JQ, JSON.stringify(file), ['--argjson', 'tr', JSON.stringify(clean)]);
    assert.deepEqual(got, JSON.parse(JSON.stringify(deliveries(receivers, secrets, clean))), t.status);
    assert.ok(got.length > 0);
  }
});

test('the evaluate program: the server watched in turn fires HostUnreachable after two samples without an answer, once, and resolves at the first answer', () => {
  const T = { cpuPercent: 50, memoryPercent: 60, diskPercent: 90 };
  const sampled = sampleOf(
    '{"k":"host","stat0":"","stat1":"","meminfo":"","df":""}\n' +
      '{"k":"peer","server":"db1","address":"10.0.0.6:22","ok":false,"problem":"Connection refused"}',
    'T',
  ) as ServerSample & { peer: unknown };
  assert.deepEqual(sampled.peer, { server: 'db1', address: '10.0.0.6:22', ok: false, problem: 'Connection refused' });
  let state: JqState = { pending: {}, firing: {} };
  const run = (n: number, ok: boolean): [string, string, string, string][] => {
    const peer = { server: 'db1', address: '10.0.0.6:22', ok, ...(ok ? {} : { problem: 'Connection refused' }) };
    const sample = { ...emptySample('web1', `2026-01-01T00:0${n}:00.000Z`), peer };
    const got = jq(EVALUATE_JQ, JSON.stringify({ state, sample }), ['--argjson', 't', JSON.stringify(T)]) as {
      state: JqState;
      transitions: Transition[];
    };
    state = got.state;
    return got.transitions.map((t) => [t.status, t.alert.alert, t.alert.server, t.alert.summary]);
  };
  const key = 'HostUnreachable|db1||db1';
  assert.deepEqual(run(0, false), []);
  assert.deepEqual(state.pending, { [key]: 1 });
  assert.deepEqual(run(1, false), [
    [
      'firing',
      'HostUnreachable',
      'db1',
      'db1 does not answer on its SSH port 10.0.0.6:22, seen from web1: Connection refused',
    ],
  ]);
  assert.deepEqual(run(2, false), [], 'fired once');
  assert.deepEqual(Object.keys(state.firing), [key]);
  assert.deepEqual(
    run(3, true).map((t) => t.slice(0, 3)),
    [['resolved', 'HostUnreachable', 'db1']],
  );
  assert.deepEqual(run(4, false), []);
  assert.deepEqual(run(5, true), [], 'one sample without an answer fires nothing');
  assert.deepEqual(state, { pending: {}, firing: {} });
});
