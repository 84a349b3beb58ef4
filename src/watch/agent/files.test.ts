import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Secret } from '../../core/secret.js';
import { goldenTests } from '../../render/test-helpers/golden.js';
import type { ReceiverDef } from '../../model/monitoring.js';
import {
  renderWatchConfig,
  renderWatchReceivers,
  renderWatchService,
  renderWatchTimer,
  sameWatch,
  watchFiles,
  watchName,
  watchPeers,
  type WatchInstall,
} from './files.js';
import { renderWatchRunner } from './runner.js';

const W: WatchInstall = {
  name: 'shop',
  target: {
    server: 'web1',
    sudo: false,
    stacks: [
      {
        stack: 'shop',
        project: 'shop',
        services: ['web', 'db'],
        httpChecks: [
          { service: 'web', port: 8000, path: '/health' },
          { service: 'api', port: 9000, path: '/' },
        ],
      },
    ],
  },
  thresholds: { cpuPercent: 90, memoryPercent: 85, diskPercent: 80 },
  everyS: 60,
  forS: 72 * 3600,
};
const STARTED = new Date('2026-12-01T10:00:00.000Z');

goldenTests('watch', [
  { file: 'watch-run', render: renderWatchRunner },
  { file: 'shop.json', render: () => renderWatchConfig(W, STARTED) },
  {
    file: 'shop-with-peer.json',
    render: () => renderWatchConfig({ ...W, peer: { server: 'db1', address: '10.0.0.6', port: 2222 } }, STARTED),
  },
  { file: 'ferry-watch-shop.service', render: () => renderWatchService('shop') },
  { file: 'ferry-watch-shop.timer', render: () => renderWatchTimer('shop', 60) },
]);

test('the runner is valid bash', () => {
  execFileSync('bash', ['-n'], { input: renderWatchRunner() });
});

test('the configuration ends FOR after its start and keeps only the checks of services watched there', () => {
  const c = JSON.parse(renderWatchConfig(W, STARTED)) as {
    until: string;
    until_epoch: number;
    stacks: { http_checks: unknown[] }[];
  };
  assert.equal(c.until, '2026-12-04T10:00:00.000Z');
  assert.equal(c.until_epoch, Date.parse('2026-12-04T10:00:00.000Z') / 1000);
  assert.deepEqual(c.stacks[0]!.http_checks, [{ service: 'web', port: 8000, path: '/health' }]);
});

test('the same watch started at another time is the same watch; another threshold or interval is not', () => {
  const a = renderWatchConfig(W, STARTED);
  assert.equal(sameWatch(renderWatchConfig(W, new Date())), sameWatch(a));
  assert.notEqual(sameWatch(renderWatchConfig({ ...W, everyS: 30 }, STARTED)), sameWatch(a));
  assert.notEqual(
    sameWatch(renderWatchConfig({ ...W, thresholds: { ...W.thresholds, diskPercent: 90 } }, STARTED)),
    sameWatch(a),
  );
  assert.notEqual(sameWatch(renderWatchConfig({ ...W, forS: 3600 }, STARTED)), sameWatch(a));
});

test('a watch is named after what it watches, sorted; none is the fleet', () => {
  assert.equal(watchName([]), 'fleet');
  assert.equal(watchName(['web2', 'shop', 'shop']), 'shop_web2');
  assert.equal(watchName(['a.b']), 'a-b');
});

test('receivers: each with the URL it is posted to; email and receivers without a secret left out', () => {
  const receivers: ReceiverDef[] = [
    { name: 'hook', type: 'webhook', url: { env: 'H' }, severity: 'warning', sendResolved: true },
    { name: 'tg', type: 'telegram', token: { env: 'T' }, chatId: 42, severity: 'critical', sendResolved: false },
    { name: 'mail', type: 'email', to: 'a@b', from: 'c@d', smarthost: 'm:25', severity: 'warning', sendResolved: true },
    { name: 'unset', type: 'discord', url: { env: 'D' }, severity: 'warning', sendResolved: true },
  ];
  const out = JSON.parse(
    renderWatchReceivers(
      receivers,
      new Map([
        ['hook', new Secret('https://hook.test/canary')],
        ['tg', new Secret('1:canary')],
      ]),
    ),
  ) as unknown[];
  assert.deepEqual(out, [
    { name: 'hook', type: 'webhook', url: 'https://hook.test/canary', severity: 'warning', send_resolved: true },
    {
      name: 'tg',
      type: 'telegram',
      url: 'https://api.telegram.org/bot1:canary/sendMessage',
      severity: 'critical',
      send_resolved: false,
      chat_id: 42,
    },
  ]);
});

test('no file but the receivers holds a secret: the receivers are the step’s, as a Secret', () => {
  for (const f of watchFiles(W, STARTED)) {
    assert.equal(typeof f.content, 'string', f.path);
    assert.ok(!String(f.content).includes('canary'));
  }
  assert.deepEqual(
    watchFiles(W, STARTED).map((f) => [f.path, f.mode.toString(8)]),
    [
      ['/usr/local/lib/ferry/watch-run', '755'],
      ['/etc/ferry/watch/shop.json', '644'],
      ['/etc/systemd/system/ferry-watch-shop.service', '644'],
      ['/etc/systemd/system/ferry-watch-shop.timer', '644'],
    ],
  );
});

test('each server of a watch watches the next one by name, in a ring; a lone server none', () => {
  const peerOf = (server: string) => ({ server, address: `addr-${server}`, port: 22 });
  const ring = watchPeers([{ server: 'web2' }, { server: 'db1' }, { server: 'web1' }, { server: 'web1' }], peerOf);
  assert.deepEqual(
    [...ring].map(([from, to]) => `${from}>${to.server}`),
    ['db1>web1', 'web1>web2', 'web2>db1'],
  );
  assert.deepEqual(
    [...watchPeers([{ server: 'a' }, { server: 'b' }], peerOf)].map(([f, t]) => `${f}>${t.server}`),
    ['a>b', 'b>a'],
  );
  assert.equal(watchPeers([{ server: 'web1' }], peerOf).size, 0);
});
