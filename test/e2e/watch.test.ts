/**
 * `ferry watch` on the test bed: a deployed stack watched over SSH while its web container
 * is stopped and started again, with a server of the fleet that cannot be reached; the
 * alerts reach a webhook receiver started here (its URL a secret), and the report says
 * what happened. Bad input is refused before any server is read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { ferry } from '../cli/run.js';
import { join } from 'node:path';
import { paths } from '../../scripts/testbed/lib.mjs';
import { ferryChild, loadImages, onHost, testbedHosts, testbedIsUp } from './helpers.js';
import { CANARY, removeStack, makeStack, type Stack } from './deploy-stack.js';
import { posted, receiver, until, type Hook } from './webhook.js';

const STACK = 'tbwatch';
const HOOK_CANARY = 'hook-canary-5d1c9e';

describe(
  'ferry watch on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    let s: Stack;
    let hook: Hook;
    before(async () => {
      s = makeStack(testbedHosts()[5]!, STACK);
      removeStack(s, STACK);
      loadImages(s.host, ['ferry-tb-postgres:1', 'ferry-tb-app:1', 'ferry-tb-worker:1']);
      hook = await receiver('127.0.0.1', HOOK_CANARY);
      // A second server that refuses SSH, and the thresholds of the host out of reach: the
      // test bed's hosts share this machine's CPU, memory and disk.
      const file = join(s.dir, 'ferry.yml');
      const text = readFileSync(file, 'utf8').replace(
        'stacks:',
        `  ghost: { host: 127.0.0.1, port: 1, user: root, identity_file: ${paths.key} }\nstacks:`,
      );
      writeFileSync(
        file,
        `${text}\nmonitoring:\n  server: ${s.host.name}\n  receivers: { hook: { type: webhook, url: { env: WATCH_HOOK } } }\n` +
          '  thresholds: { cpu_percent: 100, memory_percent: 100, disk_percent: 100 }\n',
      );
      const applied = await s.run(['apply', STACK, '--yes', '--json']);
      assert.equal(applied.code, 0, applied.err + applied.out);
    });
    after(() => {
      hook.server.close();
      removeStack(s, STACK);
    });

    test('a stopped container and an unreachable server fire alerts that reach the webhook; the container started again resolves its own; Docker unusable is StackUnreadable, not HostUnreachable; the report says so; no secret printed', () =>
      alertsReachTheWebhook(s, hook));

    test('a healthy stack watched for two samples fires nothing and exits 0', async () => {
      const done = await s.run(['watch', STACK, '--every', '5s', '--for', '10s'], { WATCH_HOOK: hook.url });
      assert.equal(done.code, 0, done.out + done.err);
      assert.match(done.out, /^2 samples, 0 alerts fired, 0 still firing$/m);
      assert.match(
        done.out,
        new RegExp(`^  ${s.host.name}: peak CPU [0-9.]+ %, memory [0-9.]+ %, disk [0-9]+ %$`, 'm'),
      );
    });

    test('bad input is refused with a code and the place, before any server is read', async () => {
      const cases: [string[], RegExp][] = [
        [['watch', STACK, '--for', '3x'], /^error usage: --for 3x is not a duration\n {2}at --for\n {2}hint: /m],
        [['watch', STACK, '--every', '1s', '--for', '1m'], /^error usage: --every 1s must be at least 5s/m],
        [['watch', 'nosuch', '--for', '1m'], /^error usage: "nosuch" is neither a stack nor a server/m],
        [['watch', STACK, '--for', '1m'], /^error monitoring-secret-missing: the secret of receiver "hook"/m],
      ];
      for (const [args, expected] of cases) {
        const r = await s.run(args);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, expected);
        assert.doesNotMatch(r.err, /\n\s+at .*:\d+:\d+\)?$/m, 'a stack trace');
      }
    });

    test('a key the server refuses stops the watch at its first sample with auth-failed, not 72 hours of HostUnreachable', async () => {
      const key = join(s.dir, 'other_key');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      const text = readFileSync(join(s.dir, 'ferry.yml'), 'utf8');
      writeFileSync(
        join(s.dir, 'badkey.yml'),
        text.replace(`identity_file: ${paths.key} }\n  ghost`, `identity_file: ${key} }\n  ghost`),
      );
      const r = await ferry(
        ['watch', STACK, '--for', '30s', '--every', '5s', '-f', 'badkey.yml', '--known-hosts', paths.knownHosts],
        {
          cwd: s.dir,
          env: { FERRY_STATE_DIR: s.state, WATCH_HOOK: hook.url },
        },
      );
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.err, new RegExp(`^error auth-failed: .*\\n {2}at host ${s.host.name}\\n {2}hint: `, 'm'));
      assert.doesNotMatch(r.out, /FIRING/);
    });
  },
);

async function alertsReachTheWebhook(s: Stack, hook: Hook): Promise<void> {
  const report = join(s.dir, 'watch-report.json');
  let child: import('node:child_process').ChildProcess | undefined;
  const run = ferryChild(
    s.dir,
    s.state,
    [
      'watch',
      STACK,
      'ghost',
      '--every',
      '5s',
      '--for',
      '1h',
      '--report',
      report,
      '--json',
      '-f',
      'ferry.yml',
      '--known-hosts',
      paths.knownHosts,
    ],
    { WATCH_HOOK: hook.url },
    (c) => (child = c),
  );
  const fired = (alert: string, status = 'firing') => posted(hook, alert, status);
  await until('HostUnreachable of ghost at the webhook', fired('HostUnreachable'));
  assert.equal(fired('ContainerDown')(), false, 'a running stack fired ContainerDown');
  onHost(
    s.host,
    `docker stop $(docker ps -q --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=web)`,
  );
  await until('ContainerDown of web at the webhook', fired('ContainerDown'));
  onHost(
    s.host,
    `docker start $(docker ps -aq --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=web)`,
  );
  await until('ContainerDown resolved at the webhook', fired('ContainerDown', 'resolved'));
  // The server answers but its Docker CLI cannot run: the stack is unreadable, the host is not unreachable.
  onHost(s.host, 'chmod 000 /usr/bin/docker');
  try {
    await until('StackUnreadable at the webhook', fired('StackUnreadable'));
  } finally {
    onHost(s.host, 'chmod 755 /usr/bin/docker');
  }
  await until('StackUnreadable resolved at the webhook', fired('StackUnreadable', 'resolved'));
  assert.ok(
    !hook.posts.some((p) =>
      p.alerts.some((a) => a.labels.alertname === 'HostUnreachable' && a.labels.server === s.host.name),
    ),
    'a server whose stack could not be read was taken for unreachable',
  );
  child!.kill('SIGINT');
  const done = await run;
  assert.equal(done.code, 1, `exit 1 when an alert fired: ${done.err}`);
  const down = hook.posts.find((p) => p.alerts[0]!.labels.alertname === 'ContainerDown')!.alerts[0]!;
  assert.deepEqual(
    [down.labels.server, down.labels.stack, down.labels.subject, down.labels.severity],
    [s.host.name, STACK, 'web', 'critical'],
  );
  const lines = done.out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const final = lines.at(-1) as {
    stopped_early: boolean;
    alerts: { alert: string; resolvedAt?: string }[];
    still_firing: string[];
    report: string;
  };
  assert.equal(final.stopped_early, true);
  assert.equal(final.report, report);
  const saved = JSON.parse(readFileSync(report, 'utf8')) as typeof final;
  assert.ok(
    saved.alerts.some((a) => a.alert === 'ContainerDown' && a.resolvedAt),
    readFileSync(report, 'utf8'),
  );
  assert.deepEqual(saved.still_firing, ['HostUnreachable|ghost||ghost']);
  for (const text of [
    done.out,
    done.err,
    readFileSync(report, 'utf8'),
    ...hook.raw.map((r) => r.replace(`/hook/${HOOK_CANARY}`, '')),
  ])
    for (const secret of [CANARY, HOOK_CANARY]) assert.ok(!text.includes(secret), `a secret in: ${text.slice(0, 400)}`);
}
