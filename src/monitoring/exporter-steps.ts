/**
 * What a server's exporters stack adds to its deploy: a firewall step per exporter port
 * (only the monitoring server gets in; monitoring/firewall.ts) and the login of the
 * exporter of a Postgres on the host ahead of the exporters' start, nginx's status page
 * where Ferry's nginx proxies, and the container health timer after the start. The up step waits for the server's other stacks too, because the
 * exporters join their networks.
 */
import { PHASES, withPlace, type Phase, type Step } from '../engine/step.js';
import type { LoadedFleet } from '../model/loaded.js';
import type { ServerDef } from '../model/fleet.js';
import { firewallStep } from '../deploy/steps/firewall.js';
import { exporterGuards } from './firewall.js';
import { healthSteps } from './health-steps.js';
import { hostPostgresMonitorStep } from './host-postgres-step.js';
import { nginxFileStep } from '../proxy/nginx-file.js';
import { NGINX_STATUS_LISTEN, NGINX_STATUS_PATH, renderNginxStatus } from './render/nginx-status.js';
import { monitoringTargets } from './targets.js';

export function exporterStackSteps(o: {
  loaded: LoadedFleet;
  stack: string;
  server: ServerDef;
  steps: Step[];
  /** The steps of the server's other stacks in the plan. */
  after: Step[];
}): Step[] {
  const { stack, server } = o;
  const sudo = server.sudo ?? false;
  const upTo = (phase: Phase) =>
    o.after.filter((s) => PHASES.indexOf(s.phase) <= PHASES.indexOf(phase)).map((s) => s.id);
  const proxied = monitoringTargets(o.loaded).exporters.some(
    (e) => e.server === server.name && e.kind === 'nginx' && e.stack === undefined,
  );
  // Ferry's nginx shows its counters to the exporter once the stacks' proxy steps have run
  // (the exporter, started before, reads them from its next scrape on).
  const status = proxied
    ? [
        nginxFileStep({
          id: `${stack}/nginx-status`,
          host: server.name,
          path: NGINX_STATUS_PATH,
          content: renderNginxStatus(),
          sudo,
          dependsOn: [`${stack}/engine`, ...upTo('proxy')],
          title: `nginx status page for the exporter on ${NGINX_STATUS_LISTEN}`,
          purpose: `Write ${NGINX_STATUS_PATH}: nginx's stub_status on ${NGINX_STATUS_LISTEN} (loopback only), read by the nginx exporter`,
        }),
      ]
    : [];
  // One after the other: each runs ufw, which loses a rule when two change it at once.
  const firewall: Step[] = [];
  for (const g of exporterGuards(o.loaded, server.name))
    firewall.push(
      firewallStep({
        id: `${stack}/firewall/${g.service}`,
        host: server.name,
        stack,
        placed: g,
        who: 'the monitoring server',
        phase: 'deploy',
        sudo,
        dependsOn: [`${stack}/engine`, ...firewall.slice(-1).map((f) => f.id)],
      }),
    );
  // The exporter of a Postgres on the host logs in with what this step makes.
  const login = server.postgres
    ? [
        hostPostgresMonitorStep({
          id: `${stack}/host-postgres-login`,
          host: server.name,
          pg: server.postgres,
          sudo,
          dependsOn: [`${stack}/engine`, ...upTo('deploy')],
        }),
      ]
    : [];
  const upId = `${stack}/up`;
  const steps = o.steps.map((s) =>
    s.id === upId
      ? withPlace(s, {
          dependsOn: [...s.dependsOn, ...upTo('deploy'), ...firewall.map((f) => f.id), ...login.map((l) => l.id)],
        })
      : s,
  );
  const at = steps.findIndex((s) => s.id === upId);
  return [
    ...steps.slice(0, at),
    ...firewall,
    ...login,
    ...status,
    ...steps.slice(at),
    ...healthSteps({ stack, server: server.name, sudo, dependsOn: [upId] }),
  ];
}
