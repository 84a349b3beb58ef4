/** `monitoring` of ferry.yml: the model with defaults, and errors that name the key and say what to write. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFleetFile } from './load.js';
import { DEFAULT_THRESHOLDS } from './monitoring-build.js';

const HEAD = ['servers:', '  app: { host: 203.0.113.10 }', '  mon: { host: 203.0.113.11 }', 'stacks: {}'];

function load(lines: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-monitoring-fleet-'));
  writeFileSync(join(dir, 'ferry.yml'), [...HEAD, 'monitoring:', ...lines.map((l) => `  ${l}`), ''].join('\n'));
  return { dir, ...loadFleetFile('ferry.yml', { cwd: dir }) };
}

test('monitoring: defaults filled in, secrets kept as where to read them, images pinned or mirrored', () => {
  const r = load([
    'server: mon',
    'receivers:',
    '  ops: { type: slack, url: { env: SLACK_URL }, channel: "#ops" }',
    '  pager: { type: telegram, token: { file: secrets/bot }, chat_id: -100123, severity: critical, send_resolved: false }',
    'thresholds: { cpu_percent: 80, disk_fill_hours: 12 }',
    'images: { grafana: { version: 11.3.1 }, prometheus: { name: mirror.example.com/prometheus } }',
  ]);
  assert.deepEqual(r.findings, []);
  const m = r.fleet!.monitoring!;
  assert.equal(m.server, 'mon');
  assert.deepEqual(m.receivers, [
    { name: 'ops', severity: 'warning', sendResolved: true, type: 'slack', url: { env: 'SLACK_URL' }, channel: '#ops' },
    {
      name: 'pager',
      severity: 'critical',
      sendResolved: false,
      type: 'telegram',
      token: { file: join(r.dir, 'secrets/bot') },
      chatId: -100123,
    },
  ]);
  assert.deepEqual(m.thresholds, { ...DEFAULT_THRESHOLDS, cpuPercent: 80, diskFillHours: 12 });
  assert.equal(m.images.grafana, 'grafana/grafana-oss:11.3.1');
  assert.equal(m.images.prometheus, 'mirror.example.com/prometheus:v2.53.3');
  assert.equal(m.images.alertmanager, 'prom/alertmanager:v0.28.1');
  assert.equal(m.scrapeInterval, '30s');
});

test('monitoring: a secret written in ferry.yml is refused at its key, with what to write instead', () => {
  const r = load(['server: mon', 'receivers:', '  ops: { type: webhook, url: "https://hooks.example.com/T0/abc" }']);
  assert.equal(r.fleet, undefined);
  assert.deepEqual(
    r.findings.map((f) => [f.code, f.where.path]),
    [['schema', 'monitoring/receivers/ops/url']],
  );
  assert.match(r.findings[0]!.message, /must be \{ env: NAME \} or \{ file: PATH \}/);
  assert.match(r.findings[0]!.message, /got a value not shown here \(a secret\)$/);
  assert.deepEqual(r.secrets, ['https://hooks.example.com/T0/abc'], 'known to the redactor');
});

test('monitoring: an unknown receiver type, a threshold out of range, a bad image tag, an unknown server', () => {
  const r = load([
    'server: mon2',
    'receivers:',
    '  ops: { type: pagerduty, url: { env: X } }',
    'thresholds: { memory_percent: 150 }',
    'images: { cadvisor: { version: "v0.49 beta" } }',
  ]);
  assert.deepEqual(
    r.findings.map((f) => [f.code, f.where.path]),
    [
      ['unknown-reference', 'monitoring/server'],
      ['schema', 'monitoring/receivers/ops/type'],
      ['schema', 'monitoring/thresholds/memory_percent'],
      ['schema', 'monitoring/images/cadvisor/version'],
    ],
  );
});

test("monitoring: the heartbeat, its URL a secret read from where ferry.yml says; a literal URL refused unshown; ferry- names are Ferry's", () => {
  const ok = load(['server: mon', 'heartbeat: { url: { env: BEAT_URL } }']);
  assert.deepEqual(ok.findings, []);
  assert.deepEqual(ok.fleet!.monitoring!.heartbeat, { url: { env: 'BEAT_URL' }, every: '1m' });
  assert.equal(load(['server: mon']).fleet!.monitoring!.heartbeat, undefined);
  const literal = load(['server: mon', 'heartbeat: { url: "https://hc.example/ping/abc-secret", every: 30s }']);
  assert.deepEqual(
    literal.findings.map((f) => [f.code, f.where.path]),
    [['schema', 'monitoring/heartbeat/url']],
  );
  assert.doesNotMatch(literal.findings[0]!.message, /abc-secret/);
  assert.deepEqual(literal.secrets, ['https://hc.example/ping/abc-secret'], 'known to the redactor');
  const often = load(['server: mon', 'heartbeat: { url: { env: X }, every: 5s }']);
  assert.deepEqual(
    often.findings.map((f) => [f.code, f.where.path]),
    [['schema', 'monitoring/heartbeat/every']],
  );
  assert.match(often.findings[0]!.message, /must be 10s or more/);
  const bad = load([
    'server: mon',
    'heartbeat: { url: { env: X }, every: often }',
    'receivers: { ferry-heartbeat: { type: webhook, url: { env: Y } } }',
  ]);
  assert.deepEqual(
    bad.findings.map((f) => [f.code, f.where.path]),
    [
      ['schema', 'monitoring/heartbeat/every'],
      ['schema', 'monitoring/receivers/ferry-heartbeat'],
    ],
  );
});

test('services.NAME.nginx_status: the page an nginx exporter reads, its path by default /stub_status; a port without a server is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-nginx-status-'));
  const write = (services: string) =>
    writeFileSync(
      join(dir, 'ferry.yml'),
      [
        'servers:',
        '  app: { host: 203.0.113.10 }',
        'stacks:',
        '  blog:',
        '    server: app',
        '    compose: compose.yml',
        `    services: ${services}`,
        '',
      ].join('\n'),
    );
  write('{ front: { nginx_status: { port: 8081 } }, edge: { nginx_status: { port: 80, path: /basic_status } } }');
  const ok = loadFleetFile('ferry.yml', { cwd: dir });
  assert.deepEqual(ok.findings, []);
  const blog = ok.fleet!.stacks.blog!;
  assert.deepEqual(blog.nginxStatus, {
    front: { port: 8081, path: '/stub_status' },
    edge: { port: 80, path: '/basic_status' },
  });
  assert.equal(blog.placement, undefined, 'nothing is placed');
  write('{ db: { port: 5433 } }');
  const bad = loadFleetFile('ferry.yml', { cwd: dir });
  assert.equal(bad.fleet, undefined);
  assert.deepEqual(
    bad.findings.map((f) => [f.code, f.where.path]),
    [['schema', 'stacks/blog/services/db/port']],
  );
  assert.match(bad.findings[0]!.message, /set `server` with it/);
  write('{ front: { nginx_status: { port: 8081, path: "no-slash" } } }');
  const path = loadFleetFile('ferry.yml', { cwd: dir });
  assert.deepEqual(
    path.findings.map((f) => [f.code, f.where.path]),
    [['schema', 'stacks/blog/services/front/nginx_status/path']],
  );
});
