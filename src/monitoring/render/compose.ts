/**
 * The Compose projects of monitoring: `ferry-monitoring` on the monitoring server
 * (Prometheus, Alertmanager, the blackbox prober, Grafana; their web ports on 127.0.0.1
 * only, reached through an SSH tunnel) and `ferry-exporters` on every server
 * (node_exporter on the host network, cAdvisor), beside the files the other renderers
 * write. The exporters of stateful services need their database's credentials and are
 * not here yet (docs/monitoring.md).
 */
import type { MonitoringDef } from '../../model/monitoring.js';
import { EXPORTER_PORTS, type ServerTarget } from '../targets.js';
import { TEXTFILE_DIR } from './health.js';
import { renderYaml } from './yaml.js';

const always = { restart: 'unless-stopped' };
const health = (url: string) => ({
  test: ['CMD', 'wget', '-q', '-O', '/dev/null', url],
  interval: '30s',
  timeout: '5s',
  retries: 3,
});

export function renderMonitoringCompose(def: MonitoringDef): string {
  return renderYaml({
    name: 'ferry-monitoring',
    services: {
      prometheus: {
        image: def.images.prometheus,
        command: [
          '--config.file=/etc/prometheus/prometheus.yml',
          '--storage.tsdb.path=/prometheus',
          `--storage.tsdb.retention.time=${def.retention}`,
        ],
        volumes: ['./prometheus:/etc/prometheus:ro', 'prometheus-data:/prometheus'],
        ports: ['127.0.0.1:9090:9090'],
        mem_limit: '1g',
        healthcheck: health('http://127.0.0.1:9090/-/healthy'),
        ...always,
      },
      alertmanager: {
        image: def.images.alertmanager,
        command: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
        volumes: ['./alertmanager:/etc/alertmanager:ro', 'alertmanager-data:/alertmanager'],
        ports: ['127.0.0.1:9093:9093'],
        mem_limit: '256m',
        healthcheck: health('http://127.0.0.1:9093/-/healthy'),
        ...always,
      },
      blackbox: {
        image: def.images.blackboxExporter,
        command: ['--config.file=/etc/blackbox/blackbox.yml'],
        volumes: ['./blackbox:/etc/blackbox:ro'],
        mem_limit: '128m',
        healthcheck: health('http://127.0.0.1:9115/-/healthy'),
        ...always,
      },
      grafana: {
        image: def.images.grafana,
        environment: {
          GF_SECURITY_ADMIN_PASSWORD__FILE: '/run/secrets/grafana-admin-password',
          GF_USERS_ALLOW_SIGN_UP: 'false',
        },
        secrets: ['grafana-admin-password'],
        volumes: [
          './grafana/provisioning:/etc/grafana/provisioning:ro',
          './grafana/dashboards:/var/lib/grafana/dashboards:ro',
          'grafana-data:/var/lib/grafana',
        ],
        ports: ['127.0.0.1:3000:3000'],
        mem_limit: '512m',
        healthcheck: health('http://127.0.0.1:3000/api/health'),
        ...always,
      },
    },
    secrets: { 'grafana-admin-password': { file: './grafana/admin-password' } },
    volumes: { 'prometheus-data': {}, 'alertmanager-data': {}, 'grafana-data': {} },
  });
}

/** node_exporter on the host network (the host's own network figures), listening on the server's address only; cAdvisor published there. */
export function renderExportersCompose(def: MonitoringDef, server: ServerTarget): string {
  return renderYaml({
    name: 'ferry-exporters',
    services: {
      'node-exporter': {
        image: def.images.nodeExporter,
        command: [
          '--path.rootfs=/host',
          `--collector.textfile.directory=/host${TEXTFILE_DIR}`,
          `--web.listen-address=${server.address}:${EXPORTER_PORTS.node}`,
        ],
        network_mode: 'host',
        pid: 'host',
        volumes: ['/:/host:ro,rslave'],
        mem_limit: '128m',
        ...always,
      },
      cadvisor: {
        image: def.images.cadvisor,
        command: [`--port=${EXPORTER_PORTS.cadvisor}`, '--docker_only=true', '--housekeeping_interval=30s'],
        privileged: true,
        devices: ['/dev/kmsg'],
        volumes: ['/:/rootfs:ro', '/var/run:/var/run:ro', '/sys:/sys:ro', '/var/lib/docker/:/var/lib/docker:ro'],
        ports: [`${server.address}:${EXPORTER_PORTS.cadvisor}:${EXPORTER_PORTS.cadvisor}`],
        mem_limit: '256m',
        healthcheck: health(`http://127.0.0.1:${EXPORTER_PORTS.cadvisor}/healthz`),
        ...always,
      },
    },
  });
}
