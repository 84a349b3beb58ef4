/**
 * prometheus.yml: node_exporter and cAdvisor on every server, the exporter of each
 * stateful service, the blackbox prober for sites and SSH ports, Alertmanager, and the
 * rule file beside it (alerts.yml). Addresses of the monitoring stack's own services are
 * their Compose service names.
 */
import type { MonitoringDef } from '../../model/monitoring.js';
import { EXPORTER_PORTS, type ExporterKind, type MonitoringTargets } from '../targets.js';
import { renderYaml } from './yaml.js';

export const RULE_FILE = 'alerts.yml';
export const BLACKBOX = 'blackbox:9115';

type StaticConfig = { targets: string[]; labels: Record<string, string> };

export function renderPrometheus(def: MonitoringDef, targets: MonitoringTargets): string {
  const perServer = (port: number): StaticConfig[] =>
    targets.servers.map((s) => ({ targets: [`${s.address}:${port}`], labels: { server: s.name } }));
  const jobs: Record<string, unknown>[] = [
    { job_name: 'prometheus', static_configs: [{ targets: ['localhost:9090'] }] },
    { job_name: 'alertmanager', static_configs: [{ targets: ['alertmanager:9093'] }] },
    { job_name: 'blackbox', static_configs: [{ targets: [BLACKBOX] }] },
    { job_name: 'node', static_configs: perServer(EXPORTER_PORTS.node) },
    ...(def.cadvisor ? [{ job_name: 'cadvisor', static_configs: perServer(EXPORTER_PORTS.cadvisor) }] : []),
    ...(['postgres', 'redis', 'mysql', 'nginx'] as const).flatMap((k) => exporterJob(k, targets)),
    probeJob(
      'ssh',
      'ssh_banner',
      targets.servers.map((s) => ({ targets: [`${s.address}:${s.sshPort}`], labels: { server: s.name } })),
    ),
  ];
  const stacks = [...new Set(targets.probes.map((p) => p.stack))];
  if (stacks.length > 0)
    jobs.push(
      probeJob(
        'blackbox-http',
        'http_2xx',
        stacks.map((stack) => ({
          targets: targets.probes.filter((p) => p.stack === stack).map((p) => p.url),
          labels: { stack },
        })),
      ),
    );
  return renderYaml({
    global: { scrape_interval: def.scrapeInterval, evaluation_interval: def.scrapeInterval },
    rule_files: [RULE_FILE],
    alerting: { alertmanagers: [{ static_configs: [{ targets: ['alertmanager:9093'] }] }] },
    scrape_configs: jobs,
  });
}

function exporterJob(kind: ExporterKind, targets: MonitoringTargets): Record<string, unknown>[] {
  const list = targets.exporters.filter((e) => e.kind === kind);
  if (list.length === 0) return [];
  return [
    {
      job_name: kind,
      static_configs: list.map((e) => ({
        targets: [e.address],
        labels: {
          server: e.server,
          ...(e.stack !== undefined ? { stack: e.stack } : {}),
          ...(e.service !== undefined ? { service: e.service } : {}),
        },
      })),
    },
  ];
}

/** A job whose targets the blackbox exporter probes: the target becomes its `target` parameter and the instance label. */
function probeJob(name: string, module: string, configs: StaticConfig[]): Record<string, unknown> {
  return {
    job_name: name,
    metrics_path: '/probe',
    params: { module: [module] },
    static_configs: configs,
    relabel_configs: [
      { source_labels: ['__address__'], target_label: '__param_target' },
      { source_labels: ['__param_target'], target_label: 'instance' },
      { target_label: '__address__', replacement: BLACKBOX },
    ],
  };
}
