/** Every file of the monitoring stack's configuration, by its path in the stack's directory. */
import type { MonitoringDef } from '../../model/monitoring.js';
import { fleetRuleGroups } from '../rules.js';
import type { MonitoringTargets } from '../targets.js';
import { renderAlertmanager } from './alertmanager.js';
import { renderBlackbox } from './blackbox.js';
import { renderDashboards, renderGrafanaDatasource, renderGrafanaProvider } from './grafana.js';
import { RULE_FILE, renderPrometheus } from './prometheus.js';
import { renderRules } from './rules.js';

export function monitoringFiles(def: MonitoringDef, targets: MonitoringTargets): Map<string, string> {
  return new Map([
    ['prometheus/prometheus.yml', renderPrometheus(def, targets)],
    [`prometheus/${RULE_FILE}`, renderRules(fleetRuleGroups(def.thresholds, targets))],
    ['alertmanager/alertmanager.yml', renderAlertmanager(def)],
    ['blackbox/blackbox.yml', renderBlackbox()],
    ...(def.grafana === false ? [] : grafanaFiles()),
  ]);
}

function grafanaFiles(): [string, string][] {
  return [
    ['grafana/provisioning/datasources/prometheus.yml', renderGrafanaDatasource()],
    ['grafana/provisioning/dashboards/ferry.yml', renderGrafanaProvider()],
    ...[...renderDashboards()].map(([name, text]): [string, string] => [`grafana/dashboards/${name}`, text]),
  ];
}
