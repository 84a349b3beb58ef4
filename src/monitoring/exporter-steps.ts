/**
 * What a server's exporters stack adds to its deploy: a firewall step per exporter port
 * (only the monitoring server gets in; monitoring/firewall.ts), ahead of the exporters'
 * start, and the container health timer after it. The up step starts after the server's
 * other stacks too, because the exporters join their networks.
 */
import { withPlace, type Step } from '../engine/step.js';
import type { LoadedFleet } from '../model/loaded.js';
import type { ServerDef } from '../model/fleet.js';
import { firewallStep } from '../deploy/steps/firewall.js';
import { exporterGuards } from './firewall.js';
import { healthSteps } from './health-steps.js';

export function exporterStackSteps(o: {
  loaded: LoadedFleet;
  stack: string;
  server: ServerDef;
  steps: Step[];
  /** The up steps of the server's other stacks in the plan. */
  after: string[];
}): Step[] {
  const { stack, server } = o;
  const sudo = server.sudo ?? false;
  const firewall = exporterGuards(o.loaded, server.name).map((g) =>
    firewallStep({
      id: `${stack}/firewall/${g.service}`,
      host: server.name,
      stack,
      placed: g,
      who: 'the monitoring server',
      phase: 'deploy',
      sudo,
      dependsOn: [`${stack}/engine`],
    }),
  );
  const upId = `${stack}/up`;
  const steps = o.steps.map((s) =>
    s.id === upId ? withPlace(s, { dependsOn: [...s.dependsOn, ...o.after, ...firewall.map((f) => f.id)] }) : s,
  );
  const at = steps.findIndex((s) => s.id === upId);
  return [
    ...steps.slice(0, at),
    ...firewall,
    ...steps.slice(at),
    ...healthSteps({ stack, server: server.name, sudo, dependsOn: [upId] }),
  ];
}
