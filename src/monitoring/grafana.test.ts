/**
 * Grafana has no Debian package to judge its provisioning files, so their structure is
 * checked here: each dashboard is JSON with a unique uid, panels on the 24-column grid
 * without overlap, every query on the provisioned data source, and no variable a
 * dashboard does not define. tools.test.ts has promtool parse every panel's query.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { DATASOURCE_UID, renderDashboards, renderGrafanaDatasource, renderGrafanaProvider } from './render/grafana.js';

interface Panel {
  id: number;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: { uid: string };
  targets: { expr: string; datasource: { uid: string } }[];
}
interface Dashboard {
  uid: string;
  title: string;
  templating: { list: { name: string }[] };
  panels: Panel[];
}

const dashboards = (): [string, Dashboard][] =>
  [...renderDashboards()].map(([name, text]) => [name, JSON.parse(text) as Dashboard]);

test('grafana: a dashboard each for hosts, containers, Postgres, Redis and nginx, with unique uids', () => {
  const list = dashboards();
  assert.deepEqual(
    list.map(([name]) => name),
    ['hosts.json', 'containers.json', 'postgres.json', 'redis.json', 'nginx.json'],
  );
  const uids = list.map(([, d]) => d.uid);
  assert.equal(new Set(uids).size, uids.length);
  for (const [, d] of list) assert.match(d.title, /^Ferry: /);
});

test('grafana: panels lie on the 24-column grid without overlapping, with unique ids', () => {
  for (const [name, d] of dashboards()) {
    assert.ok(d.panels.length > 0, name);
    assert.equal(new Set(d.panels.map((p) => p.id)).size, d.panels.length, name);
    const cells = new Set<string>();
    for (const p of d.panels) {
      const g = p.gridPos;
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0, `${name}: ${p.title}`);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `${name}: ${p.title} overlaps`);
          cells.add(`${x},${y}`);
        }
    }
  }
});

test('grafana: every query uses the provisioned data source and only variables its dashboard defines', () => {
  for (const [name, d] of dashboards()) {
    const defined = new Set(['__rate_interval', ...d.templating.list.map((v) => v.name)]);
    for (const p of d.panels) {
      assert.equal(p.datasource.uid, DATASOURCE_UID, `${name}: ${p.title}`);
      assert.equal(p.targets.length, 1);
      for (const t of p.targets) {
        assert.equal(t.datasource.uid, DATASOURCE_UID);
        for (const [, v] of t.expr.matchAll(/\$(\w+)/g)) assert.ok(defined.has(v!), `${name}: ${p.title} uses $${v}`);
      }
    }
  }
});

test('grafana: the data source is the Prometheus of the stack, and the provider reads the dashboards', () => {
  const ds = parse(renderGrafanaDatasource()) as { datasources: Record<string, unknown>[] };
  assert.deepEqual(
    ds.datasources.map((d) => [d['uid'], d['type'], d['url']]),
    [[DATASOURCE_UID, 'prometheus', 'http://prometheus:9090']],
  );
  const pr = parse(renderGrafanaProvider()) as { providers: { type: string; options: { path: string } }[] };
  assert.deepEqual(
    pr.providers.map((p) => [p.type, p.options.path]),
    [['file', '/var/lib/grafana/dashboards']],
  );
});
