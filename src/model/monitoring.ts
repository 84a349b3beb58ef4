/** `monitoring` of the fleet file, defaults filled in (src/fleet/monitoring-build.ts). */

/** Where a secret is read from on the machine running Ferry; the value itself is never in the model. */
export type SecretRef = { env: string } | { file: string };

export type Severity = 'warning' | 'critical';

interface ReceiverBase {
  name: string;
  /** The least severe alerts sent: `warning` gets all, `critical` only critical ones. */
  severity: Severity;
  sendResolved: boolean;
}

export type ReceiverDef = ReceiverBase &
  (
    | { type: 'webhook'; url: SecretRef }
    | { type: 'slack'; url: SecretRef; channel?: string }
    | { type: 'discord'; url: SecretRef }
    | { type: 'telegram'; token: SecretRef; chatId: number }
    | { type: 'email'; to: string; from: string; smarthost: string; username?: string; password?: SecretRef }
  );

export interface Thresholds {
  cpuPercent: number;
  /** A PromQL duration (`5m`). */
  cpuFor: string;
  memoryPercent: number;
  diskPercent: number;
  diskFillHours: number;
  postgresConnectionsPercent: number;
  replicationSlotInactiveFor: string;
  redisMemoryPercent: number;
  redisUnsavedHours: number;
  containerRestarts: number;
  probeSeconds: number;
  certificateDays: number;
  /** The last good backup of a stack older than this fires BackupTooOld. */
  backupMaxAgeHours: number;
}

/** `name:version` of every component. */
export interface MonitoringImages {
  prometheus: string;
  alertmanager: string;
  grafana: string;
  nodeExporter: string;
  cadvisor: string;
  blackboxExporter: string;
  postgresExporter: string;
  redisExporter: string;
  mysqlExporter: string;
  nginxExporter: string;
}

export interface MonitoringDef {
  /** The server that runs Prometheus, Alertmanager, Grafana and the blackbox prober. */
  server: string;
  receivers: ReceiverDef[];
  thresholds: Thresholds;
  /** PromQL durations. */
  scrapeInterval: string;
  retention: string;
  images: MonitoringImages;
  /** How `ferry apply` deploys it. */
  deploy: { images: 'push' | 'pull' };
  /** false: no Grafana; otherwise where its admin password is read from (undefined: not said). */
  grafana: false | { adminPassword?: SecretRef };
  /** cAdvisor on every server. */
  cadvisor: boolean;
  /**
   * A dead man's switch: the always-firing Watchdog alert posted to this URL every `every`
   * (a PromQL duration), so that a service there notices when monitoring itself stops.
   */
  heartbeat?: { url: SecretRef; every: string };
}
