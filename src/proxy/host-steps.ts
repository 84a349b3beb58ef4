/** What the proxy needs on a host besides its files: nginx running, the ACME webroot, certbot's renewal timer. */
import { StepError } from '../engine/errors.js';
import type { Step } from '../engine/step.js';
import { stderrTail } from '../transport/ssh/errors.js';
import {
  disableTimerCommand,
  enableTimerCommand,
  existsCommand,
  installNginxCommand,
  mkdirCommand,
  nginxActiveCommand,
  nginxVersionCommand,
  rmdirCommand,
  startNginxCommand,
  timerStateCommand,
} from './commands.js';
import { ACME_WEBROOT } from './names.js';
import { shown } from './nginx-file.js';
import { inspectedStep } from './step-kit.js';

export interface HostStepOptions {
  id: string;
  host: string;
  sudo: boolean;
  dependsOn: string[];
}

/** nginx installed (apt-get when it is missing) and running. Never uninstalled or stopped by a rollback. */
export function nginxStep(o: HostStepOptions): Step {
  let missing = false;
  return inspectedStep({
    ...o,
    title: `nginx installed and running on ${o.host}`,
    doc: {
      purpose: `Make sure nginx is installed and running on ${o.host}: \`nginx -v\` tells whether it is there; when it is not, it is installed with apt-get (Debian, Ubuntu), then started and enabled at boot.`,
      commands: [nginxVersionCommand, nginxActiveCommand, installNginxCommand, startNginxCommand].map((c) =>
        shown(c, o.sudo),
      ),
      verify: '`nginx -v` succeeds and nginx is active.',
      undo: 'Nothing: nginx stays installed and running (other sites may use it).',
    },
    async inspect(ctx) {
      missing = (await ctx.transport.exec(nginxVersionCommand, { sudo: o.sudo })).code !== 0;
      if (missing) return 'install nginx (apt-get install -y nginx) and start it';
      return (await ctx.transport.exec(nginxActiveCommand, { sudo: o.sudo })).code === 0 ? undefined : 'start nginx';
    },
    async apply(ctx) {
      for (const [c, what] of [
        ...(missing ? [[installNginxCommand, 'install'] as const] : []),
        [startNginxCommand, 'start'] as const,
      ]) {
        const r = await ctx.transport.exec(c, { sudo: o.sudo, timeoutMs: 10 * 60_000 });
        if (r.code !== 0) {
          throw new StepError(
            `nginx-${what}-failed`,
            ctx.redactor.redact(`${o.host}: could not ${what} nginx: ${stderrTail(r.stderr || r.stdout, 5)}`),
            `Run \`${shown(c, o.sudo)}\` on ${o.host} to see why; Ferry installs nginx with apt-get (Debian or Ubuntu) only.`,
          );
        }
      }
    },
  });
}

/** The directory certbot writes HTTP-01 tokens into and nginx serves them from. */
export function webrootStep(o: HostStepOptions): Step {
  let created = false;
  return inspectedStep({
    ...o,
    title: `ACME webroot ${ACME_WEBROOT}`,
    doc: {
      purpose: `Create ${ACME_WEBROOT}: certbot writes its HTTP-01 tokens under .well-known/acme-challenge/ there and every Ferry site serves them on port 80.`,
      commands: [existsCommand(ACME_WEBROOT), mkdirCommand(ACME_WEBROOT)].map((c) => shown(c, o.sudo)),
      verify: `${ACME_WEBROOT} exists.`,
      undo: `Remove ${ACME_WEBROOT} if it was created and is still empty: ${shown(rmdirCommand(ACME_WEBROOT), o.sudo)}`,
    },
    async inspect(ctx, stage) {
      const missing = (await ctx.transport.exec(existsCommand(ACME_WEBROOT), { sudo: o.sudo })).code !== 0;
      if (stage === 'check') created = false;
      return missing ? `create ${ACME_WEBROOT}` : undefined;
    },
    async apply(ctx) {
      await ctx.transport.exec(mkdirCommand(ACME_WEBROOT), { sudo: o.sudo, check: true });
      created = true;
    },
    async rollback(ctx) {
      if (created) await ctx.transport.exec(rmdirCommand(ACME_WEBROOT), { sudo: o.sudo });
    },
  });
}

/**
 * certbot.timer enabled and active: it runs `certbot renew` twice a day. Without systemd
 * (a container), the certbot package's cron job renews instead, and nothing is to do.
 */
export function renewalTimerStep(o: HostStepOptions): Step {
  let before = '';
  return inspectedStep({
    ...o,
    title: `certbot.timer enabled and active on ${o.host}`,
    doc: {
      purpose:
        "Make sure certbot.timer is enabled and active: it runs `certbot renew` twice a day, which renews certificates 30 days before they expire and then runs the deploy hook that reloads nginx. On a host without systemd the certbot package's cron job does it instead.",
      commands: [timerStateCommand, enableTimerCommand].map((c) => shown(c, o.sudo)),
      verify: '`systemctl is-enabled certbot.timer` says enabled and `systemctl is-active certbot.timer` says active.',
      undo: `If the timer was neither enabled nor active before, disable it again: ${shown(disableTimerCommand, o.sudo)}`,
    },
    async inspect(ctx, stage) {
      const state = (await ctx.transport.exec(timerStateCommand, { sudo: o.sudo })).stdout.trim();
      if (stage === 'check') before = state;
      return state === 'enabled active' || state === 'no-systemd'
        ? undefined
        : `enable and start certbot.timer (now: ${state || 'unknown'})`;
    },
    async apply(ctx) {
      await ctx.transport.exec(enableTimerCommand, { sudo: o.sudo, check: true });
    },
    async rollback(ctx) {
      const [enabled, active] = before.split(' ');
      if (before !== 'no-systemd' && enabled !== 'enabled' && active !== 'active')
        await ctx.transport.exec(disableTimerCommand, { sudo: o.sudo, check: true });
    },
  });
}
