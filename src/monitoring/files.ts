/**
 * Every file of the monitoring configuration, by its path under one directory: the
 * monitoring server's (Prometheus, Alertmanager, blackbox, Grafana), the container
 * health script and units every server gets, and nginx's status page where it proxies. And the receivers' secret files, by where
 * Alertmanager reads them and where Ferry takes them from (never their values).
 */
import type { MonitoringDef, SecretRef } from '../model/monitoring.js';
import { receiverSecretFile, renderExportersCompose, renderMonitoringCompose } from './render/compose.js';
import { renderHealthScript, renderHealthService, renderHealthTimer } from './render/health.js';
import { monitoringFiles } from './render/index.js';
import { renderNginxStatus } from './render/nginx-status.js';
import { receiverSecretRef } from './secrets.js';
import type { MonitoringTargets } from './targets.js';
import { alertmanagerReceivers } from './render/alertmanager.js';

export function allMonitoringFiles(def: MonitoringDef, targets: MonitoringTargets): Map<string, string> {
  const config = monitoringFiles(def, targets);
  const withSecrets = secretPlaces(def).map((p) => p.receiver);
  return new Map([
    ['compose.yml', renderMonitoringCompose(def, [...config.keys()], withSecrets)],
    ...config,
    ...targets.servers.map((s): [string, string] => [
      `servers/${s.name}/compose.yml`,
      renderExportersCompose(def, s, targets.exporters),
    ]),
    ['servers/container-health', renderHealthScript()],
    ['servers/ferry-container-health.service', renderHealthService()],
    ['servers/ferry-container-health.timer', renderHealthTimer()],
    // Where Ferry's nginx proxies: its status page for the nginx exporter (sites-enabled/).
    ...(targets.exporters.some((e) => e.kind === 'nginx' && e.stack === undefined)
      ? [['servers/ferry-status.conf', renderNginxStatus()] as [string, string]]
      : []),
  ]);
}

export interface SecretPlace {
  receiver: string;
  /** Where it is written, relative to compose.yml (Compose mounts it into Alertmanager as a secret). */
  path: string;
  from: SecretRef;
}

export function secretPlaces(def: MonitoringDef): SecretPlace[] {
  return alertmanagerReceivers(def).flatMap((r) => {
    const from = receiverSecretRef(r);
    return from ? [{ receiver: r.name, path: receiverSecretFile(r.name), from }] : [];
  });
}
