/** The rendered monitoring files kept as golden files (test/golden/monitoring/): unit tests compare, tools.test.ts has Prometheus' own tools judge them. */
import { renderNginxStatus } from './render/nginx-status.js';
import type { GoldenCase } from '../render/test-helpers/golden.js';
import { renderAlertmanager } from './render/alertmanager.js';
import { renderBlackbox } from './render/blackbox.js';
import { allMonitoringFiles } from './files.js';
import { renderExportersCompose } from './render/compose.js';
import { renderDashboards, renderGrafanaDatasource, renderGrafanaProvider } from './render/grafana.js';
import { renderHealthScript, renderHealthService, renderHealthTimer } from './render/health.js';
import { renderPrometheus } from './render/prometheus.js';
import { renderRuleTests } from './render/rule-tests.js';
import { renderRules } from './render/rules.js';
import { allRuleGroups } from './rules.js';
import { monitoringTargets } from './targets.js';
import { monitoringFleet } from './test-helpers/fleet.js';

export function goldenCases(): GoldenCase[] {
  const { loaded } = monitoringFleet();
  const def = loaded.fleet.monitoring!;
  const targets = monitoringTargets(loaded);
  // Every rule, whatever the fixture has: promtool proves each one.
  const groups = allRuleGroups(def.thresholds);
  return [
    { file: 'prometheus.yml', render: () => renderPrometheus(def, targets) },
    { file: 'alerts.yml', render: () => renderRules(groups) },
    { file: 'alerts.test.yml', render: () => renderRuleTests(groups) },
    { file: 'alertmanager.yml', render: () => renderAlertmanager(def) },
    { file: 'blackbox.yml', render: () => renderBlackbox() },
    { file: 'compose.yml', render: () => allMonitoringFiles(def, targets).get('compose.yml')! },
    {
      file: 'exporters-compose.yml',
      render: () => renderExportersCompose(def, targets.servers[0]!, targets.exporters),
    },
    {
      // The other server: a Postgres installed on it, and a stack's placed there.
      file: 'exporters-compose-db.yml',
      render: () => renderExportersCompose(def, targets.servers[1]!, targets.exporters),
    },
    { file: 'container-health.sh', render: () => renderHealthScript() },
    { file: 'nginx-status.conf', render: () => renderNginxStatus() },
    { file: 'ferry-container-health.service', render: () => renderHealthService() },
    { file: 'ferry-container-health.timer', render: () => renderHealthTimer() },
    { file: 'grafana-datasource.yml', render: () => renderGrafanaDatasource() },
    { file: 'grafana-dashboards.yml', render: () => renderGrafanaProvider() },
    ...[...renderDashboards()].map(([name, text]) => ({ file: `dashboard-${name}`, render: () => text })),
  ];
}
