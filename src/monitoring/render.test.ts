/**
 * The monitoring renderers against the golden files in test/golden/monitoring/, byte for
 * byte (`UPDATE_GOLDEN=1` rewrites them; review the diff), what the fleet gives them to
 * watch, and the promise about secrets: alertmanager.yml names files, never a value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FerryError } from '../core/errors.js';
import { DEFAULT_THRESHOLDS } from '../fleet/monitoring-build.js';
import { goldenTests } from '../render/test-helpers/golden.js';
import { monitoringFiles } from './render/index.js';
import { expandAnnotation } from './rule.js';
import { secretPath } from './render/alertmanager.js';
import { renderRuleTests } from './render/rule-tests.js';
import { allRuleGroups, fleetRuleGroups } from './rules.js';
import { receiverSecretFiles } from './secrets.js';
import { monitoringTargets } from './targets.js';
import { goldenCases } from './test-cases.js';
import { monitoringFleet } from './test-helpers/fleet.js';

goldenTests('monitoring', goldenCases());

test('targets: every server, the exporter of each stateful service where it runs, a probe of each domain and reachable check', () => {
  const t = monitoringTargets(monitoringFleet().loaded);
  assert.deepEqual(t.servers, [
    { name: 'app', address: '10.0.0.5', sshPort: 22 },
    { name: 'db', address: '10.0.0.6', sshPort: 2222 },
  ]);
  assert.deepEqual(
    t.exporters.map((e) => [e.kind, e.address, e.stack ?? '-', e.service ?? '-']),
    [
      ['postgres', '10.0.0.6:9187', '-', '-'], // installed on db: its port first
      ['postgres', '10.0.0.6:9188', 'shop', 'postgres'], // placed on db
      ['redis', '10.0.0.5:9121', 'shop', 'redis'],
      ['nginx', '10.0.0.5:9114', 'blog', 'front'], // its stub_status named in ferry.yml
      ['mysql', '10.0.0.5:9104', 'blog', 'mysql'],
      ['postgres', '10.0.0.5:9187', 'blog', 'search'],
      ['nginx', '10.0.0.5:9113', '-', '-'], // Ferry's nginx in front of shop: its port first
    ],
  );
  // What Ferry deploys no exporter for is not scraped: it would only fire ExporterDown.
  assert.deepEqual(
    t.unwatched.map((u) => [u.kind, u.server, u.stack ?? '-', u.service ?? '-', u.why.split(':')[0]]),
    [['nginx', 'app', 'blog', 'assets', 'an nginx container whose stub_status page Ferry does not know']],
  );
  assert.deepEqual(
    t.probes.map((p) => p.url),
    [
      'https://shop.example.com/',
      'https://www.shop.example.com/',
      'https://shop.example.com/api/health', // routed by the proxy
      'http://10.0.0.5:8080/healthz', // on the published port
    ],
  );
  assert.deepEqual(t.unprobed, [{ stack: 'blog', service: 'mysql', port: 3306, path: '/' }]);
});

test('rules: the fixture fleet gets every group; a fleet without services or backups gets hosts, containers and the heartbeat only', () => {
  const { loaded } = monitoringFleet();
  const targets = monitoringTargets(loaded);
  const names = (gs: { name: string }[]) => gs.map((g) => g.name);
  assert.deepEqual(names(fleetRuleGroups(DEFAULT_THRESHOLDS, targets)), names(allRuleGroups(DEFAULT_THRESHOLDS)));
  assert.deepEqual(targets.backedUp, ['shop']);
  const bare = { ...targets, exporters: [], probes: [], backedUp: [] };
  assert.deepEqual(names(fleetRuleGroups(DEFAULT_THRESHOLDS, bare)), [
    'ferry-hosts',
    'ferry-containers',
    'ferry-heartbeat',
  ]);
});

test('rule tests: every rule has a case where it fires and one where it stays silent', () => {
  const doc = parse(renderRuleTests(allRuleGroups(DEFAULT_THRESHOLDS))) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const cases = doc.tests.flatMap((t) => t.alert_rule_test);
  const alerts = allRuleGroups(DEFAULT_THRESHOLDS).flatMap((g) => g.rules.map((r) => r.alert));
  assert.equal(new Set(alerts).size, alerts.length, 'alert names are unique');
  for (const a of alerts) {
    assert.ok(
      cases.some((c) => c.alertname === a && c.exp_alerts.length > 0),
      `${a} has a firing case`,
    );
    assert.ok(
      cases.some((c) => c.alertname === a && c.exp_alerts.length === 0),
      `${a} has a silent case`,
    );
  }
  // And the golden rule tests, which promtool runs, cover the same rules.
  const golden = readFileSync(new URL('../../test/golden/monitoring/alerts.test.yml', import.meta.url), 'utf8');
  for (const a of alerts) assert.match(golden, new RegExp(`alertname: ${a}\\n`), a);
});

const CANARY = {
  FERRY_TEST_WEBHOOK_URL: 'https://hooks.example.com/canary-webhook-0c1d',
  FERRY_TEST_SLACK_URL: 'https://hooks.slack.example/canary-slack-7e2f',
  FERRY_TEST_TELEGRAM_TOKEN: '123456:canary-telegram-9a8b',
  FERRY_TEST_SMTP_PASSWORD: 'canary-smtp-5d6e',
};

test('secrets: every receiver secret goes to a file of its own; no rendered file holds one', () => {
  const { loaded } = monitoringFleet('https://discord.example/canary-discord-3c4d');
  const def = loaded.fleet.monitoring!;
  const files = receiverSecretFiles(def.receivers, {
    env: CANARY,
    readFile: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
  });
  assert.deepEqual(
    files.map((f) => [f.rel, f.content.reveal()]),
    [
      ['secrets/hooks', CANARY.FERRY_TEST_WEBHOOK_URL],
      ['secrets/chat', CANARY.FERRY_TEST_SLACK_URL],
      ['secrets/discord', 'https://discord.example/canary-discord-3c4d'],
      ['secrets/phone', CANARY.FERRY_TEST_TELEGRAM_TOKEN],
      ['secrets/mail', CANARY.FERRY_TEST_SMTP_PASSWORD],
    ],
  );
  const shown = [
    ...monitoringFiles(def, monitoringTargets(loaded)).values(),
    JSON.stringify(files),
    inspect(files, { depth: 5 }),
    JSON.stringify(def),
  ].join('\n');
  assert.doesNotMatch(shown, /canary/);
  const am = monitoringFiles(def, monitoringTargets(loaded)).get('alertmanager/alertmanager.yml')!;
  for (const r of def.receivers) assert.ok(am.includes(secretPath(r.name)), r.name);
});

test('secrets: an unset variable or an unreadable file is monitoring-secret-missing, naming where and no value', () => {
  const { loaded } = monitoringFleet();
  const def = loaded.fleet.monitoring!;
  const readFile = () => undefined;
  assert.throws(
    () => receiverSecretFiles(def.receivers, { env: { ...CANARY, FERRY_TEST_SLACK_URL: '' }, readFile }),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === 'monitoring-secret-missing' &&
      e.place === 'monitoring/receivers/chat' &&
      /environment variable FERRY_TEST_SLACK_URL is not set or empty/.test(e.message) &&
      !/canary/.test(e.message),
  );
  assert.throws(
    () => receiverSecretFiles(def.receivers, { env: CANARY, readFile }),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === 'monitoring-secret-missing' &&
      e.message.includes(join('secrets', 'discord-url')),
  );
});

test('docs/monitoring.md lists every rule with its default expression, severity and for', () => {
  const doc = readFileSync(new URL('../../docs/monitoring.md', import.meta.url), 'utf8');
  for (const r of allRuleGroups(DEFAULT_THRESHOLDS).flatMap((g) => g.rules)) {
    const row = `| \`${r.alert}\` | ${r.severity} | ${r.for} | \`${r.expr.replace(/\|/g, '\\|')}\` |`;
    assert.ok(doc.includes(row), `docs/monitoring.md lacks the row ${row}`);
  }
});

test('targets: nginx_status on an image of ones own (built on nginx) gets an exporter; on a service the stack lacks, unknown-service at its key', () => {
  const { loaded } = monitoringFleet();
  const shop = loaded.stacks.find((s) => s.def.name === 'shop')!;
  shop.def.nginxStatus = { web: { port: 8080, path: '/status' } };
  const web = monitoringTargets(loaded).exporters.find((e) => e.stack === 'shop' && e.service === 'web');
  assert.deepEqual(web && [web.kind, web.address, web.nginx], [
    'nginx',
    '10.0.0.5:9114',
    { network: 'shop_default', url: 'http://web:8080/status' },
  ]);
  shop.def.nginxStatus = { wbe: { port: 8080, path: '/status' } };
  assert.throws(
    () => monitoringTargets(loaded),
    (e: FerryError) =>
      e.code === 'unknown-service' &&
      e.message === 'stacks/shop/services names wbe, which is not a service of the stack; did you mean "web"?' &&
      e.place === 'stacks/shop/services/wbe/nginx_status',
  );
});

test('annotations: a label filled in, and an `if` on a label chosen as Prometheus does (a Postgres installed on a server has no stack)', () => {
  const text =
    'Postgres {{ if $labels.stack }}{{ $labels.stack }}/{{ $labels.service }}{{ else }}installed{{ end }} on {{ $labels.server }}';
  assert.equal(expandAnnotation(text, { stack: 'shop', service: 'db', server: 'a' }), 'Postgres shop/db on a');
  assert.equal(expandAnnotation(text, { server: 'a' }), 'Postgres installed on a');
});
