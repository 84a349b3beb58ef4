/**
 * Grafana provisioned from files: the Prometheus data source, a dashboard provider and
 * one dashboard JSON per subject (dashboards.ts). Grafana has no Debian package, so no
 * tool of its own judges these: the tests check their structure, and promtool parses
 * every panel's query.
 */
import { DASHBOARDS, type DashboardSpec } from './dashboards.js';
import { renderYaml } from './yaml.js';

export const DATASOURCE_UID = 'ferry-prometheus';
/** Where the provider reads dashboards inside the Grafana container. */
export const DASHBOARDS_DIR = '/var/lib/grafana/dashboards';
const DATASOURCE = { type: 'prometheus', uid: DATASOURCE_UID };

export function renderGrafanaDatasource(): string {
  return renderYaml({
    apiVersion: 1,
    datasources: [
      {
        name: 'Prometheus',
        uid: DATASOURCE_UID,
        type: 'prometheus',
        access: 'proxy',
        url: 'http://prometheus:9090',
        isDefault: true,
        editable: false,
      },
    ],
  });
}

export function renderGrafanaProvider(): string {
  return renderYaml({
    apiVersion: 1,
    providers: [
      {
        name: 'ferry',
        folder: 'Ferry',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        options: { path: DASHBOARDS_DIR },
      },
    ],
  });
}

/** Each dashboard's file name and JSON text. */
export function renderDashboards(): Map<string, string> {
  return new Map(
    DASHBOARDS.map((d) => [`${d.uid.replace(/^ferry-/, '')}.json`, `${JSON.stringify(dashboard(d), null, 2)}\n`]),
  );
}

/** Panels two to a row, 12 columns wide and 8 high each. */
function dashboard(d: DashboardSpec): Record<string, unknown> {
  return {
    uid: d.uid,
    title: d.title,
    tags: ['ferry'],
    editable: false,
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    timezone: 'browser',
    templating: {
      list: [
        {
          name: d.variable.name,
          label: d.variable.name,
          type: 'query',
          datasource: DATASOURCE,
          query: { query: d.variable.query, refId: 'variable' },
          definition: d.variable.query,
          refresh: 2,
          includeAll: true,
          multi: true,
          allValue: '.*',
          current: { text: 'All', value: '$__all' },
        },
      ],
    },
    panels: d.panels.map((p, i) => ({
      id: i + 1,
      type: p.type ?? 'timeseries',
      title: p.title,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      datasource: DATASOURCE,
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      targets: [{ refId: 'A', datasource: DATASOURCE, expr: p.expr, legendFormat: p.legend }],
    })),
  };
}
