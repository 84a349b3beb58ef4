/**
 * The container health script and its timer on a server (render/health.ts), deployed
 * with the server's exporters: the three files written (only those that differ), then the
 * timer enabled and started (deploy/steps/timer.ts).
 */
import { fileStep } from '../engine/steps/file.js';
import type { Step } from '../engine/step.js';
import { timerStep } from '../deploy/steps/timer.js';
import { HEALTH_SCRIPT, renderHealthScript, renderHealthService, renderHealthTimer } from './render/health.js';

export const HEALTH_TIMER = 'ferry-container-health.timer';
const UNIT_DIR = '/etc/systemd/system';

export function healthSteps(o: { stack: string; server: string; sudo: boolean; dependsOn: string[] }): Step[] {
  const id = (s: string) => `${o.stack}/health/${s}`;
  const file = (name: string, path: string, content: string, mode: number) =>
    fileStep({
      id: id(name),
      host: o.server,
      path,
      content,
      mode,
      sudo: o.sudo,
      phase: 'deploy',
      dependsOn: o.dependsOn,
    });
  const files = [
    file('script', HEALTH_SCRIPT, renderHealthScript(), 0o755),
    file('service', `${UNIT_DIR}/ferry-container-health.service`, renderHealthService(), 0o644),
    file('timer', `${UNIT_DIR}/${HEALTH_TIMER}`, renderHealthTimer(), 0o644),
  ];
  return [
    ...files,
    timerStep({
      ...o,
      id: id('enable'),
      dependsOn: files.map((f) => f.id),
      timer: HEALTH_TIMER,
      purpose: `Run ${HEALTH_SCRIPT} every 30 s, writing each container's health for node_exporter's textfile collector (ContainerUnhealthy).`,
    }),
  ];
}
