/**
 * A systemd timer enabled and started, after the steps that wrote its units: systemd
 * reloaded first when a unit changed on disk (`NeedDaemonReload`). Rollback disables a
 * timer that was not enabled before; its files go back with their own steps.
 */
import type { Phase, Step, StepContext } from '../../engine/step.js';
import { render, script, type Command } from '../../shell/command.js';
import { runOwn } from './failure.js';

/** `enabled active no`: is-enabled, is-active, and whether systemd must reload a changed unit. */
export const timerStateCommand = (timer: string): Command =>
  script(
    'echo "$(systemctl is-enabled "$1" 2>/dev/null || echo disabled) $(systemctl is-active "$1" 2>/dev/null || echo inactive) $(systemctl show -p NeedDaemonReload --value "$1" 2>/dev/null || echo no)"',
    timer,
  );
export const startTimerCommand = (timer: string): Command =>
  script('systemctl daemon-reload && systemctl enable "$1" && systemctl restart "$1"', timer);
export const stopTimerCommand = (timer: string): Command => script('systemctl disable --now "$1"', timer);

interface TimerObserved {
  /** Enabled before this step first ran: rollback leaves it so. */
  wasEnabled: boolean;
}

export interface TimerStepOptions {
  id: string;
  server: string;
  sudo: boolean;
  dependsOn: string[];
  /** The timer's unit name (`NAME.timer`). */
  timer: string;
  /** What it runs and how often, for the plan's documentation. */
  purpose: string;
  phase?: Phase;
}

export function timerStep(o: TimerStepOptions): Step<TimerObserved> {
  const { sudo, timer } = o;
  const read = async (ctx: StepContext) => {
    const [enabled = '', active = '', reload = ''] = (
      await ctx.transport.exec(timerStateCommand(timer), { sudo })
    ).stdout
      .trim()
      .split(/\s+/);
    return { enabled, active, reload };
  };
  const differs = (s: { enabled: string; active: string; reload: string }) => [
    ...(s.enabled !== 'enabled' ? [`${timer}: enable`] : []),
    ...(s.active !== 'active' ? [`${timer}: start`] : []),
    ...(s.reload === 'yes' ? [`${timer}: reload its changed units`] : []),
  ];
  const run = (ctx: StepContext, c: Command, what: string) =>
    runOwn(ctx, c, {
      sudo,
      what,
      code: 'systemctl-failed',
      hint: `Check \`systemctl status ${timer}\` on ${o.server}.`,
    });
  return {
    id: o.id,
    host: o.server,
    phase: o.phase ?? 'deploy',
    title: `enable ${timer}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: o.purpose,
      commands: [render(timerStateCommand(timer)), render(startTimerCommand(timer))],
      verify: render(timerStateCommand(timer)),
      undo: `Disable ${timer} if it was not enabled before.`,
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
      await run(ctx, startTimerCommand(timer), `starting ${timer}`);
    },
    async verify(ctx) {
      const d = differs(await read(ctx));
      return d.length === 0 ? { ok: true } : { ok: false, message: d.join('; ') };
    },
    async rollback(ctx, observed) {
      if (!observed.wasEnabled) await run(ctx, stopTimerCommand(timer), `stopping ${timer}`);
    },
  };
}
