/**
 * The fleet's `MonitoringDef`: `monitoring` of ferry.yml with defaults filled in, secret
 * files resolved relative to ferry.yml, image names joined with their versions.
 */
import { resolve } from 'node:path';
import type { MonitoringDef, MonitoringImages, ReceiverDef, SecretRef, Thresholds } from '../model/monitoring.js';
import type { MonitoringComponent, MonitoringEntry } from './monitoring-schema.js';

export const DEFAULT_THRESHOLDS: Thresholds = {
  cpuPercent: 90,
  cpuFor: '5m',
  memoryPercent: 90,
  diskPercent: 90,
  diskFillHours: 24,
  postgresConnectionsPercent: 80,
  replicationSlotInactiveFor: '30m',
  redisMemoryPercent: 90,
  redisUnsavedHours: 6,
  containerRestarts: 3,
  probeSeconds: 2,
  certificateDays: 14,
  backupMaxAgeHours: 26,
};

/** How often the Watchdog alert is posted to `monitoring.heartbeat.url`. */
export const DEFAULT_HEARTBEAT = '1m';

/**
 * Upstream images and the versions the generated files are written for. redis_exporter's
 * plain tag is built FROM scratch: its alpine tag has the wget the healthcheck runs.
 */
export const DEFAULT_IMAGES: Record<MonitoringComponent, { name: string; version: string }> = {
  prometheus: { name: 'prom/prometheus', version: 'v2.53.3' },
  alertmanager: { name: 'prom/alertmanager', version: 'v0.28.1' },
  grafana: { name: 'grafana/grafana-oss', version: '11.4.0' },
  node_exporter: { name: 'prom/node-exporter', version: 'v1.8.2' },
  cadvisor: { name: 'gcr.io/cadvisor/cadvisor', version: 'v0.49.1' },
  blackbox_exporter: { name: 'prom/blackbox-exporter', version: 'v0.25.0' },
  postgres_exporter: { name: 'quay.io/prometheuscommunity/postgres-exporter', version: 'v0.16.0' },
  redis_exporter: { name: 'oliver006/redis_exporter', version: 'v1.66.0-alpine' },
  mysql_exporter: { name: 'prom/mysqld-exporter', version: 'v0.16.0' },
  nginx_exporter: { name: 'nginx/nginx-prometheus-exporter', version: '1.4.0' },
};

export function monitoringDef(m: MonitoringEntry, baseDir: string): MonitoringDef {
  const t = m.thresholds ?? {};
  const d = DEFAULT_THRESHOLDS;
  return {
    server: m.server,
    receivers: Object.entries(m.receivers ?? {}).map(([name, r]) => receiverDef(name, r, baseDir)),
    thresholds: {
      cpuPercent: t.cpu_percent ?? d.cpuPercent,
      cpuFor: t.cpu_for ?? d.cpuFor,
      memoryPercent: t.memory_percent ?? d.memoryPercent,
      diskPercent: t.disk_percent ?? d.diskPercent,
      diskFillHours: t.disk_fill_hours ?? d.diskFillHours,
      postgresConnectionsPercent: t.postgres_connections_percent ?? d.postgresConnectionsPercent,
      replicationSlotInactiveFor: t.replication_slot_inactive_for ?? d.replicationSlotInactiveFor,
      redisMemoryPercent: t.redis_memory_percent ?? d.redisMemoryPercent,
      redisUnsavedHours: t.redis_unsaved_hours ?? d.redisUnsavedHours,
      containerRestarts: t.container_restarts ?? d.containerRestarts,
      probeSeconds: t.probe_seconds ?? d.probeSeconds,
      certificateDays: t.certificate_days ?? d.certificateDays,
      backupMaxAgeHours: t.backup_max_age_hours ?? d.backupMaxAgeHours,
    },
    scrapeInterval: m.scrape_interval ?? '30s',
    retention: m.retention ?? '15d',
    images: imagesOf(m.images),
    deploy: { images: m.deploy?.images ?? 'pull' },
    grafana:
      m.grafana === false ? false : m.grafana ? { adminPassword: secretRef(m.grafana.admin_password, baseDir) } : {},
    cadvisor: m.cadvisor ?? true,
    ...(m.heartbeat
      ? { heartbeat: { url: secretRef(m.heartbeat.url, baseDir), every: m.heartbeat.every ?? DEFAULT_HEARTBEAT } }
      : {}),
  };
}

function imagesOf(images: MonitoringEntry['images']): MonitoringImages {
  const ref = (c: MonitoringComponent): string => {
    const set = images?.[c];
    return `${set?.name ?? DEFAULT_IMAGES[c].name}:${set?.version ?? DEFAULT_IMAGES[c].version}`;
  };
  return {
    prometheus: ref('prometheus'),
    alertmanager: ref('alertmanager'),
    grafana: ref('grafana'),
    nodeExporter: ref('node_exporter'),
    cadvisor: ref('cadvisor'),
    blackboxExporter: ref('blackbox_exporter'),
    postgresExporter: ref('postgres_exporter'),
    redisExporter: ref('redis_exporter'),
    mysqlExporter: ref('mysql_exporter'),
    nginxExporter: ref('nginx_exporter'),
  };
}

const secretRef = (s: { env: string } | { file: string }, baseDir: string): SecretRef =>
  'env' in s ? { env: s.env } : { file: resolve(baseDir, s.file) };

type ReceiverEntry = NonNullable<MonitoringEntry['receivers']>[string];

function receiverDef(name: string, r: ReceiverEntry, baseDir: string): ReceiverDef {
  const base = { name, severity: r.severity ?? 'warning', sendResolved: r.send_resolved ?? true } as const;
  const ref = (s: { env: string } | { file: string }): SecretRef => secretRef(s, baseDir);
  switch (r.type) {
    case 'webhook':
    case 'discord':
      return { ...base, type: r.type, url: ref(r.url) };
    case 'slack':
      return { ...base, type: 'slack', url: ref(r.url), ...(r.channel !== undefined ? { channel: r.channel } : {}) };
    case 'telegram':
      return { ...base, type: 'telegram', token: ref(r.token), chatId: r.chat_id };
    case 'email':
      return {
        ...base,
        type: 'email',
        to: r.to,
        from: r.from,
        smarthost: r.smarthost,
        ...(r.username !== undefined ? { username: r.username } : {}),
        ...(r.password !== undefined ? { password: ref(r.password) } : {}),
      };
  }
}
