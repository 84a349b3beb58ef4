/** `ferry monitoring render`: the files it writes (the golden ones), what it says of secrets, and its refusals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ferry } from '../../test/cli/run.js';
import { monitoringFleet } from '../monitoring/test-helpers/fleet.js';
import { monitoringTargets } from '../monitoring/targets.js';
import { renderRules } from '../monitoring/render/rules.js';
import { fleetRuleGroups } from '../monitoring/rules.js';

const golden = (f: string) => readFileSync(new URL(`../../test/golden/monitoring/${f}`, import.meta.url), 'utf8');

test('monitoring render: writes every file, names the secret files and their sources, warns of unprobed checks', async () => {
  const { dir } = monitoringFleet();
  const t = await ferry(['monitoring', 'render', '--out', 'out'], { cwd: dir, env: { FERRY_TEST_SLACK_URL: 'x' } });
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /^wrote 18 files under out:\n/);
  assert.match(t.out, /^ {2}prometheus\/prometheus\.yml$/m);
  assert.match(t.out, /^ {2}alertmanager\/secrets\/chat {2}from \$FERRY_TEST_SLACK_URL \(receiver chat\)$/m);
  assert.match(t.out, /secrets\/discord {2}from .*secrets\/discord-url \(receiver discord\)/);
  assert.match(
    t.out,
    /^ {2}alertmanager\/secrets\/ferry-heartbeat {2}from \$FERRY_TEST_HEARTBEAT_URL \(the heartbeat URL\)$/m,
  );
  assert.match(t.out, /^ {2}grafana\/admin-password {2}Grafana's admin password: write one yourself/m);
  assert.equal(
    t.err,
    [
      'warning: http check blog/mysql:3306/ is not probed: no route of the proxy covers it and the port is not published',
      'warning: blog/assets is not watched: an nginx container whose stub_status page Ferry does not know: turn it on in its configuration and name it in stacks/blog/services/assets/nginx_status',
      '',
    ].join('\n'),
  );
  // The fleet's rules: the groups of what it watches (the golden alerts.yml has every rule).
  const { loaded } = monitoringFleet();
  const targets = monitoringTargets(loaded);
  assert.equal(
    readFileSync(join(dir, 'out', 'prometheus/alerts.yml'), 'utf8'),
    renderRules(fleetRuleGroups(loaded.fleet.monitoring!.thresholds, targets)),
  );
  for (const [rel, g] of [
    ['prometheus/prometheus.yml', 'prometheus.yml'],
    ['alertmanager/alertmanager.yml', 'alertmanager.yml'],
    ['blackbox/blackbox.yml', 'blackbox.yml'],
    ['grafana/dashboards/hosts.json', 'dashboard-hosts.json'],
    ['servers/container-health', 'container-health.sh'],
    ['servers/ferry-status.conf', 'nginx-status.conf'],
    ['compose.yml', 'compose.yml'],
    ['servers/app/compose.yml', 'exporters-compose.yml'],
  ])
    assert.equal(readFileSync(join(dir, 'out', rel!), 'utf8'), golden(g!), rel);
});

test('monitoring render --json: the files, the secret places and the unprobed checks', async () => {
  const { dir } = monitoringFleet();
  const t = await ferry(['monitoring', 'render', '--out', 'out', '--json'], { cwd: dir });
  assert.equal(t.code, 0, t.err);
  const doc = JSON.parse(t.out) as {
    files: string[];
    secrets: { receiver: string }[];
    unprobed: unknown[];
    unwatched: unknown[];
  };
  assert.equal(doc.files.length, 18);
  assert.deepEqual(
    doc.secrets.map((s) => s.receiver),
    ['hooks', 'chat', 'discord', 'phone', 'mail', 'ferry-heartbeat'],
  );
  assert.equal(doc.unprobed.length, 1);
  assert.equal(doc.unwatched.length, 1);
});

test('monitoring render: a fleet without `monitoring` is a usage error', async () => {
  const { dir } = monitoringFleet();
  const text = readFileSync(join(dir, 'ferry.yml'), 'utf8');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'ferry.yml'), text.slice(0, text.indexOf('monitoring:')));
  const t = await ferry(['monitoring', 'render', '--out', 'out'], { cwd: dir });
  assert.equal(t.code, 2);
  assert.match(t.err, /error usage: the fleet file has no `monitoring` key/);
});
