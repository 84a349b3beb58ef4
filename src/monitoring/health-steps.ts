/**
 * The container health script and its timer on a server (render/health.ts), deployed
 * with the server's exporters: the three files written (only those that differ), then the
 * timer enabled and started, systemd reloaded first when a unit changed. Rollback
 * disables a timer that was not enabled before; the files go back with their own steps.
 */
import { fileStep } from '../engine/steps/file.js';
import type { Step, StepContext } from '../engine/step.js';
import { runOwn } from '../deploy/steps/failure.js';
import { render, script, type Command } from '../shell/command.js';
import { HEALTH_SCRIPT, renderHealthScript, renderHealthService, renderHealthTimer } from './render/health.js';

export const HEALTH_TIMER = 'ferry-container-health.timer';
const UNIT_DIR = '/etc/systemd/system';

/** `enabled active no`: is-enabled, is-active, and whether systemd must reload a changed unit. */
export const timerStateCommand: Command = script(
  'echo "$(systemctl is-enabled "$1" 2>/dev/null || echo disabled) $(systemctl is-active "$1" 2>/dev/null || echo inactive) $(systemctl show -p NeedDaemonReload --value "$1" 2>/dev/null || echo no)"',
  HEALTH_TIMER,
);
export const startTimerCommand: Command = script(
  'systemctl daemon-reload && systemctl enable "$1" && systemctl restart "$1"',
  HEALTH_TIMER,
);
export const stopTimerCommand: Command = script('systemctl disable --now "$1"', HEALTH_TIMER);

interface TimerObserved {
  /** Enabled before this step first ran: rollback leaves it so. */
  wasEnabled: boolean;
}

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
  return [...files, timerStep({ ...o, id: id('enable'), dependsOn: files.map((f) => f.id) })];
}

function timerStep(o: { id: string; server: string; sudo: boolean; dependsOn: string[] }): Step<TimerObserved> {
  const { sudo } = o;
  const read = async (ctx: StepContext) => {
    const [enabled = '', active = '', reload = ''] = (await ctx.transport.exec(timerStateCommand, { sudo })).stdout
      .trim()
      .split(/\s+/);
    return { enabled, active, reload };
  };
  const differs = (s: { enabled: string; active: string; reload: string }) => [
    ...(s.enabled !== 'enabled' ? [`${HEALTH_TIMER}: enable`] : []),
    ...(s.active !== 'active' ? [`${HEALTH_TIMER}: start`] : []),
    ...(s.reload === 'yes' ? [`${HEALTH_TIMER}: reload its changed units`] : []),
  ];
  const run = (ctx: StepContext, c: Command, what: string) =>
    runOwn(ctx, c, {
      sudo,
      what,
      code: 'systemctl-failed',
      hint: `Check \`systemctl status ${HEALTH_TIMER}\` on ${o.server}.`,
    });
  return {
    id: o.id,
    host: o.server,
    phase: 'deploy',
    title: `enable ${HEALTH_TIMER}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Run ${HEALTH_SCRIPT} every 30 s, writing each container's health for node_exporter's textfile collector (ContainerUnhealthy).`,
      commands: [render(timerStateCommand), render(startTimerCommand)],
      verify: render(timerStateCommand),
      undo: `Disable ${HEALTH_TIMER} if it was not enabled before.`,
    }),
    async check(ctx) {
      const now = await read(ctx);
      const observed = (ctx.prior as TimerObserved | undefined) ?? { wasEnabled: now.enabled === 'enabled' };
      const d = differs(now);
      return d.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: d.join('; ') }, observed };
    },
    async apply(ctx) {
      await run(ctx, startTimerCommand, `starting ${HEALTH_TIMER}`);
    },
    async verify(ctx) {
      const d = differs(await read(ctx));
      return d.length === 0 ? { ok: true } : { ok: false, message: d.join('; ') };
    },
    async rollback(ctx, observed) {
      if (!observed.wasEnabled) await run(ctx, stopTimerCommand, `stopping ${HEALTH_TIMER}`);
    },
  };
}
