/**
 * The watch installed on a server (`ferry watch --install`), on the test bed: once
 * installed, Ferry is not run again while the stack's web container is stopped and started;
 * the server's own timer sends ContainerDown and its end to a webhook started here (its
 * URL a secret), and `--status` reads back what it saw. Installing again changes nothing; a
 * watch at its end disables its timer and deletes its receivers; `--remove` takes it away.
 * Bad input is refused with a code before anything changes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NETWORK, paths } from '../../scripts/testbed/lib.mjs';
import { loadImages, onHost, testbedHosts, testbedIsUp, type TestbedHost } from './helpers.js';
import { CANARY, removeStack, makeStack, type Stack } from './deploy-stack.js';
import { gatewayOf } from './pebble.js';
import { posted, receiver, until, type Hook } from './webhook.js';

const STACK = 'tbwinst';
const HOOK_CANARY = 'winst-hook-canary-41f7c2';
const ETC = '/etc/ferry/watch';

/** Every file of the state directory, as text. */
function stateFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name)).toString('latin1'));
}

function clean(host: TestbedHost): void {
  onHost(
    host,
    `for t in /etc/systemd/system/ferry-watch-*.timer; do [ -e "$t" ] && systemctl disable --now "$(basename "$t")"; done; ` +
      `rm -rf /etc/systemd/system/ferry-watch-* ${ETC} /var/lib/ferry/watch /usr/local/lib/ferry/watch-run; systemctl daemon-reload; true`,
  );
}

describe(
  'ferry watch --install on the test bed',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    let s: Stack;
    let hook: Hook;
    // A second server, Debian 13 (jq 1.7; host6 has Debian 12's 1.6), without a stack.
    const trixie = testbedHosts()[4]!;
    // The second receiver's URL is refused (404): what the watch records of it is tested.
    const env = () => ({ WATCH_HOOK: hook.url, WATCH_BAD: hook.url.replace('/hook/', '/nohook/') });
    before(async () => {
      s = makeStack(testbedHosts()[5]!, STACK);
      removeStack(s, STACK);
      clean(s.host);
      clean(trixie);
      loadImages(s.host, ['ferry-tb-postgres:1', 'ferry-tb-app:1', 'ferry-tb-worker:1']);
      hook = await receiver(gatewayOf(NETWORK), HOOK_CANARY);
      // The test bed's hosts share this machine's CPU, memory and disk: those thresholds out of reach.
      const fleet = readFileSync(join(s.dir, 'ferry.yml'), 'utf8').replace(
        'stacks:',
        `  ${trixie.name}: { host: ${trixie.host}, user: ${trixie.user}, port: ${trixie.port}, identity_file: ${paths.key} }\nstacks:`,
      );
      writeFileSync(
        join(s.dir, 'ferry.yml'),
        `${fleet}\nmonitoring:\n  server: ${s.host.name}\n  receivers:\n` +
          '    hook: { type: webhook, url: { env: WATCH_HOOK }, severity: warning, send_resolved: true }\n' +
          '    bad: { type: webhook, url: { env: WATCH_BAD }, severity: critical }\n' +
          '  thresholds: { cpu_percent: 100, memory_percent: 100, disk_percent: 100 }\n',
      );
      const applied = await s.run(['apply', STACK, '--yes', '--json']);
      assert.equal(applied.code, 0, applied.err + applied.out);
    });
    after(() => {
      hook.server.close();
      clean(s.host);
      clean(trixie);
      removeStack(s, STACK);
    });

    test('installed, the server watches itself: a stopped container fires ContainerDown at the webhook and resolves, with Ferry not running; --status reads it back; installing again changes nothing; no secret shown', () =>
      installedAndAlerting(s, trixie, hook, env()));

    test("each server watches the next one's SSH port: host5 refusing host6 fires HostUnreachable of host5 from host6's watch, once; answering again resolves it", () =>
      peerWatched(s, trixie, hook, env()));

    test('a watch at its end says so, disables its timer and deletes its receivers, on Debian 12 and 13; --remove takes it away and a second --remove changes nothing', () =>
      endedAndRemoved(s, trixie, hook, env()));

    test('bad input is refused with a code and the place, before anything changes', () =>
      badInputRefused(s, trixie, hook, env()));
  },
);

async function installedAndAlerting(
  s: Stack,
  trixie: TestbedHost,
  hook: Hook,
  env: Record<string, string>,
): Promise<void> {
  const first = await s.run(['watch', STACK, '--install', '--every', '5s', '--for', '1h'], env);
  assert.equal(first.code, 0, first.err + first.out);
  assert.match(
    first.out,
    new RegExp(
      `^watch ${STACK} \\(every 5 s\\): ${s.host.name} until \\d{4}-.*\\nsee it: ferry watch ${STACK} --status; take it away: ferry watch ${STACK} --remove$`,
      'm',
    ),
  );
  assert.equal(onHost(s.host, `systemctl is-active ferry-watch-${STACK}.timer`).trim(), 'active');
  assert.equal(onHost(s.host, `stat -c '%a %U' ${ETC}/${STACK}.receivers.json`).trim(), '600 root');

  const again = await s.run(['watch', STACK, '--install', '--every', '5s', '--for', '1h', '--json'], env);
  assert.equal(again.code, 0, again.err);
  const summary = JSON.parse(again.out.trim().split('\n').at(-1)!) as { changed: number; ok: number };
  assert.equal(summary.changed, 0, again.out);
  assert.equal(summary.ok, 7, again.out);

  await until(
    'samples taken on the server',
    () =>
      /"samples": ?([2-9]|\d\d)/.test(onHost(s.host, `cat /var/lib/ferry/watch/${STACK}/state.json 2>/dev/null; true`)),
    60_000,
  );
  assert.equal(posted(hook, 'ContainerDown')(), false, 'a running stack fired ContainerDown');
  const web = `label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=web`;
  onHost(s.host, `docker stop $(docker ps -q --filter ${web})`);
  await until(
    'ContainerDown from the server at the webhook',
    posted(hook, 'ContainerDown', 'firing', {
      server: s.host.name,
      stack: STACK,
      subject: 'web',
      source: 'ferry-watch',
    }),
    60_000,
  );
  onHost(s.host, `docker start $(docker ps -aq --filter ${web})`);
  await until('ContainerDown resolved at the webhook', posted(hook, 'ContainerDown', 'resolved'), 60_000);

  const status = await s.run(['watch', STACK, '--status'], env);
  assert.equal(status.code, 1, `exit 1: an alert fired\n${status.err}${status.out}`);
  assert.match(
    status.out,
    new RegExp(`^${s.host.name}: watch ${STACK} \\(${STACK}\\) runs until .*; \\d+ samples, the last `, 'm'),
  );
  assert.match(
    status.out,
    new RegExp(`^  \\S+ critical ContainerDown: ${STACK}/web on ${s.host.name}: .* \\(over \\S+\\)$`, 'm'),
  );
  assert.match(status.out, /^1 alert fired, 0 still firing$/m);
  assert.match(status.out, /^ {2}\S+ receiver bad did not take ContainerDown: answered 404$/m);
  assert.doesNotMatch(status.out, /receiver hook did not take/);

  const texts = [
    first.out,
    first.err,
    again.out,
    again.err,
    status.out,
    status.err,
    onHost(
      s.host,
      `cat ${ETC}/${STACK}.json /etc/systemd/system/ferry-watch-${STACK}.* /var/lib/ferry/watch/${STACK}/*`,
    ),
    onHost(s.host, 'ps -eo args; journalctl -u "ferry-watch-*" --no-pager 2>/dev/null; true'),
    ...stateFiles(s.state),
  ];
  for (const text of texts)
    for (const secret of [CANARY, HOOK_CANARY]) assert.ok(!text.includes(secret), `a secret in: ${text.slice(0, 300)}`);
}

async function peerWatched(s: Stack, trixie: TestbedHost, hook: Hook, env: Record<string, string>): Promise<void> {
  const names = [STACK, trixie.name, '--name', 'peers'];
  const installed = await s.run(['watch', ...names, '--install', '--every', '5s', '--for', '1h'], env);
  assert.equal(installed.code, 0, installed.err + installed.out);
  const peerOf = (h: TestbedHost) => JSON.parse(onHost(h, `jq -c .peer ${ETC}/peers.json`)) as { server: string };
  assert.equal(peerOf(s.host).server, trixie.name);
  assert.equal(peerOf(trixie).server, s.host.name);
  const unreachable = { server: trixie.name, subject: trixie.name, source: 'ferry-watch' };
  // Only host6's connections to host5's SSH port are refused: Ferry and the other suites still get in.
  const rule = `INPUT -s ${s.host.host} -p tcp --dport ${trixie.port} -j REJECT --reject-with tcp-reset`;
  try {
    await until(
      'both watches sampled their peer',
      () =>
        [s.host, trixie].every((h) =>
          /"samples": ?([2-9]|\d\d)/.test(onHost(h, 'cat /var/lib/ferry/watch/peers/state.json 2>/dev/null; true')),
        ),
      60_000,
    );
    assert.equal(posted(hook, 'HostUnreachable')(), false, 'a reachable server fired HostUnreachable');
    onHost(trixie, `iptables -I ${rule}`);
    await until(
      'HostUnreachable of host5 at the webhook',
      posted(hook, 'HostUnreachable', 'firing', unreachable),
      60_000,
    );
    const alert = hook.posts
      .flatMap((p) => p.alerts)
      .find((a) => a.labels.alertname === 'HostUnreachable' && a.status === 'firing')!;
    assert.match(
      alert.annotations.summary,
      new RegExp(
        `^${trixie.name} does not answer on its SSH port ${trixie.host}:${trixie.port}, seen from ${s.host.name}: `,
      ),
    );
  } finally {
    onHost(trixie, `iptables -D ${rule} 2>/dev/null; true`);
  }
  await until(
    'HostUnreachable resolved at the webhook',
    posted(hook, 'HostUnreachable', 'resolved', unreachable),
    60_000,
  );
  const fired = hook.posts.filter(
    (p) => p.status === 'firing' && p.alerts.some((a) => a.labels.alertname === 'HostUnreachable'),
  );
  assert.equal(fired.length, 1, 'fired once, by the one server that watches host5');
  const removed = await s.run(['watch', ...names, '--remove'], env);
  assert.equal(removed.code, 0, removed.err);
}

async function endedAndRemoved(s: Stack, trixie: TestbedHost, hook: Hook, env: Record<string, string>): Promise<void> {
  const names = [STACK, trixie.name];
  const short = await s.run(['watch', ...names, '--install', '--name', 'short', '--every', '5s', '--for', '12s'], env);
  assert.equal(short.code, 0, short.err + short.out);
  for (const h of [s.host, trixie]) {
    await until(
      `the short watch ended on ${h.name}`,
      () => onHost(h, 'systemctl is-active ferry-watch-short.timer || true').trim() !== 'active',
      90_000,
    );
    assert.equal(onHost(h, `test -e ${ETC}/short.receivers.json && echo there || echo gone`).trim(), 'gone');
  }
  const status = await s.run(['watch', ...names, '--status', '--name', 'short', '--json'], env);
  const seen = JSON.parse(status.out) as {
    servers: { server: string; ended?: string; running: boolean; samples: number; failedSamples: string[] }[];
  };
  assert.deepEqual(seen.servers.map((x) => x.server).sort(), [s.host.name, trixie.name].sort(), status.out);
  for (const x of seen.servers) {
    assert.equal(x.running, false, status.out);
    assert.ok(x.ended, status.out);
    assert.ok(x.samples >= 1, status.out);
    assert.deepEqual(x.failedSamples, [], status.out);
  }

  for (const args of [[STACK], [...names, '--name', 'short']]) {
    const removed = await s.run(['watch', ...args, '--remove', '--json'], env);
    assert.equal(removed.code, 0, removed.err);
  }
  for (const h of [s.host, trixie]) {
    assert.equal(onHost(h, `ls /etc/systemd/system/ | grep -c ferry-watch- || true`).trim(), '0');
    assert.equal(onHost(h, `test -e /usr/local/lib/ferry/watch-run && echo there || echo gone`).trim(), 'gone');
  }
  const twice = await s.run(['watch', STACK, '--remove', '--json'], env);
  assert.equal((JSON.parse(twice.out.trim().split('\n').at(-1)!) as { changed: number }).changed, 0, twice.out);
  // What it saw stays: --status still reads it.
  const after = await s.run(['watch', STACK, '--status'], env);
  assert.match(after.out, new RegExp(`^${s.host.name}: watch ${STACK} .* taken away;`, 'm'));
}

async function badInputRefused(s: Stack, trixie: TestbedHost, hook: Hook, env: Record<string, string>): Promise<void> {
  const cases: [string[], number, RegExp][] = [
    [['watch', STACK, '--install', '--status'], 2, /^error usage: --install and --status cannot go together/m],
    [['watch', STACK, '--name', 'x'], 2, /^error usage: --name names a watch installed on the servers/m],
    [['watch', STACK, '--install', '--name', 'a b'], 2, /^error usage: --name a b is not a watch name\n {2}at --name/m],
    [['watch', STACK, '--install', '--every', '1s'], 2, /^error usage: --every 1s must be at least 5s/m],
    [
      ['watch', STACK, '--status', '--name', 'nosuch'],
      1,
      new RegExp(
        `^error watch-not-installed: no watch nosuch on ${s.host.name}\\n {2}at the servers\\n {2}hint: `,
        'm',
      ),
    ],
  ];
  for (const [args, code, expected] of cases) {
    const r = await s.run(args, env);
    assert.equal(r.code, code, r.err);
    assert.match(r.err, expected);
    assert.doesNotMatch(r.err, /\n\s+at .*:\d+:\d+\)?$/m, 'a stack trace');
  }
  const unset = await s.run(['watch', STACK, '--install', '--for', '1m']);
  assert.equal(unset.code, 2, unset.err);
  assert.match(unset.err, /^error monitoring-secret-missing: /m);
  assert.equal(onHost(s.host, `ls ${ETC} 2>/dev/null | wc -l`).trim(), '0', 'something was written');
}
