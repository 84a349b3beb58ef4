/**
 * Prometheus' own tools judge every generated file: `promtool check config` and `check
 * rules`, `promtool test rules` (every rule fires on its bad series and stays silent on
 * its good ones), `amtool check-config`, and the blackbox exporter's `--config.check`.
 * They run on the golden files (render.test.ts holds those equal to what Ferry renders)
 * and on the rules with default thresholds. amtool must be Alertmanager 0.26 or later
 * (the `*_file` receiver keys): .ci/run brings Debian 13's with scripts/monitoring-tools.mjs.
 * Without the tools the tests are skipped, except under CI, where that is a failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_THRESHOLDS } from '../fleet/monitoring-build.js';
import { renderAlertmanager } from './render/alertmanager.js';
import { HEALTH_SCRIPT, renderHealthScript, renderHealthService, renderHealthTimer } from './render/health.js';
import { renderRuleTests } from './render/rule-tests.js';
import { renderRules } from './render/rules.js';
import { allRuleGroups } from './rules.js';
import type { MonitoringDef } from '../model/monitoring.js';
import { monitoringFleet } from './test-helpers/fleet.js';
import { panelQueriesAsRules } from './test-helpers/panels.js';

const GOLDEN = fileURLToPath(new URL('../../test/golden/monitoring/', import.meta.url));
const AMTOOL_CACHE = '/var/cache/ferry/monitoring-tools/root/usr/bin/amtool';

function runs(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** A tool's path, or a reason to skip; under CI a missing tool fails instead. */
function tool(name: string, candidates: string[], versionOk: (v: string) => boolean = () => true): string | undefined {
  for (const c of candidates) {
    const v = runs(c, ['--version']);
    if (v.ok && versionOk(v.out)) return c;
  }
  if (process.env.CI) assert.fail(`${name} is missing (tried ${candidates.join(', ')}); .ci/run installs it`);
  return undefined;
}

const promtool = tool('promtool', ['promtool']);
const amtool = tool(
  'amtool 0.26 or later',
  [process.env.FERRY_AMTOOL, existsSync(AMTOOL_CACHE) ? AMTOOL_CACHE : undefined, 'amtool'].filter(
    (x): x is string => x !== undefined,
  ),
  (v) => {
    const m = /version (\d+)\.(\d+)/.exec(v);
    return m !== null && (Number(m[1]) > 0 || Number(m[2]) >= 26);
  },
);
/** Optional even under CI: the machine's own systemd package brings it (the harden end-to-end test verifies units on the test bed). */
const systemdAnalyze = runs('systemd-analyze', ['--version']).ok ? 'systemd-analyze' : undefined;
const blackbox = tool('the blackbox exporter', ['prometheus-blackbox-exporter', 'blackbox_exporter']);

function judged(cmd: string | undefined, args: string[], expect: RegExp): void {
  assert.ok(cmd);
  const r = runs(cmd, args);
  assert.ok(r.ok, r.out);
  assert.match(r.out, expect);
}

test('promtool check config: prometheus.yml and the rule file it names', { skip: !promtool }, () => {
  judged(promtool, ['check', 'config', join(GOLDEN, 'prometheus.yml')], /is valid prometheus config file/);
});

test('promtool check rules: the fleet rules', { skip: !promtool }, () => {
  judged(promtool, ['check', 'rules', join(GOLDEN, 'alerts.yml')], /SUCCESS: 27 rules found/);
});

test(
  'promtool test rules: each rule fires on its bad series and stays silent on its good ones',
  { skip: !promtool },
  () => {
    judged(promtool, ['test', 'rules', join(GOLDEN, 'alerts.test.yml')], /SUCCESS/);
  },
);

test('promtool: the rules with default thresholds pass their own tests too', { skip: !promtool }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-rules-'));
  const groups = allRuleGroups(DEFAULT_THRESHOLDS);
  writeFileSync(join(dir, 'alerts.yml'), renderRules(groups));
  writeFileSync(join(dir, 'alerts.test.yml'), renderRuleTests(groups));
  judged(promtool, ['check', 'rules', join(dir, 'alerts.yml')], /SUCCESS/);
  judged(promtool, ['test', 'rules', join(dir, 'alerts.test.yml')], /SUCCESS/);
});

test(
  'amtool check-config: alertmanager.yml with every kind of receiver and the heartbeat, and with none',
  { skip: !amtool },
  () => {
    judged(amtool, ['check-config', join(GOLDEN, 'alertmanager.yml')], /SUCCESS[\s\S]*7 receivers/);
    const { heartbeat: _, ...withoutHeartbeat } = monitoringFleet().loaded.fleet.monitoring!;
    const def: MonitoringDef = { ...withoutHeartbeat, receivers: [] };
    const file = join(mkdtempSync(join(tmpdir(), 'ferry-am-')), 'alertmanager.yml');
    writeFileSync(file, renderAlertmanager(def));
    judged(amtool, ['check-config', file], /SUCCESS[\s\S]*1 receivers/);
  },
);

test('blackbox exporter --config.check: blackbox.yml', { skip: !blackbox }, () => {
  judged(blackbox, ['--config.check', `--config.file=${join(GOLDEN, 'blackbox.yml')}`], /Config file is ok/);
});

test('promtool check rules: every Grafana panel query parses', { skip: !promtool }, () => {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-panels-')), 'panels.yml');
  const { count, text } = panelQueriesAsRules();
  writeFileSync(file, text);
  judged(promtool, ['check', 'rules', file], new RegExp(`SUCCESS: ${count} rules found`));
});

test(
  'the container health script: sh parses it, and promtool checks the metrics it writes',
  { skip: !promtool },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-health-'));
    // A docker that lists three containers as `docker ps --format '{{.Names}} {{.Status}}'` does.
    const fakeDocker = join(dir, 'docker');
    writeFileSync(
      fakeDocker,
      "#!/bin/sh\nprintf 'shop-web-1 Up 2 minutes (unhealthy)\\nshop-api-1 Up 5 hours (healthy)\\nshop-redis-1 Up 5 hours\\n'\n",
      { mode: 0o755 },
    );
    const textfile = join(dir, 'textfile');
    const script = join(dir, 'container-health');
    writeFileSync(script, renderHealthScript().replace(/^dir=.*$/m, `dir=${textfile}`), { mode: 0o755 });
    judged('sh', ['-n', script], /^$/);
    const r = spawnSync(script, [], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
    assert.equal(r.status, 0, r.stderr);
    const written = readFileSync(join(textfile, 'containers.prom'), 'utf8');
    assert.match(written, /^ferry_container_unhealthy\{name="shop-web-1"\} 1$/m);
    assert.match(written, /^ferry_container_unhealthy\{name="shop-api-1"\} 0$/m);
    assert.match(written, /^ferry_container_unhealthy\{name="shop-redis-1"\} 0$/m);
    const check = spawnSync(promtool!, ['check', 'metrics'], { input: written, encoding: 'utf8' });
    assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
  },
);

test('systemd-analyze verify: the container health service and timer', { skip: !systemdAnalyze }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-units-'));
  // The script's own path is on the servers; here the unit runs a copy in the temporary directory.
  const script = join(dir, 'container-health');
  writeFileSync(script, renderHealthScript(), { mode: 0o755 });
  writeFileSync(join(dir, 'ferry-container-health.service'), renderHealthService().replace(HEALTH_SCRIPT, script));
  writeFileSync(join(dir, 'ferry-container-health.timer'), renderHealthTimer());
  const r = spawnSync(
    systemdAnalyze!,
    ['verify', join(dir, 'ferry-container-health.service'), join(dir, 'ferry-container-health.timer')],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.equal(r.stderr.trim(), '');
});
