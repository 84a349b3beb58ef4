/** What the proxy needs on a host besides its files: nginx running, the ACME webroot, certbot's renewal timer. */
import type { Step, StepContext } from '../engine/step.js';
import { runTool } from '../tools/run.js';
import {
  disableTimerCommand,
  enableTimerCommand,
  existsCommand,
  installNginxCommand,
  mkdirCommand,
  nginxActiveCommand,
  nginxVersionCommand,
  rmdirCommand,
  shown,
  startNginxCommand,
  timerStateCommand,
} from './commands.js';
import { aptFailure, doing, expectProxyOk } from './failures.js';
import { ACME_WEBROOT } from './names.js';
import { inspectedStep } from './step-kit.js';

export interface HostStepOptions {
  id: string;
  host: string;
  sudo: boolean;
  dependsOn: string[];
}

/** How long installing (apt-get update and install) or starting nginx may take. */
export const NGINX_INSTALL_TIMEOUT_MS = 10 * 60_000;

/** What the nginx step's check saw. */
export interface NginxObserved {
  /** `nginx -v` succeeded. */
  installed: boolean;
  /** nginx runs (systemd says active, or without systemd a process named nginx). */
  active: boolean;
}

async function installNginx(ctx: StepContext, o: HostStepOptions): Promise<void> {
  const r = await ctx.transport.exec(installNginxCommand, { sudo: o.sudo, timeoutMs: NGINX_INSTALL_TIMEOUT_MS });
  const e = aptFailure(
    r,
    doing(ctx, o.host, 'installing nginx'),
    'nginx-install-failed',
    `Run \`${shown(installNginxCommand, o.sudo)}\` on ${o.host} to see why; Ferry installs nginx with apt-get (Debian or Ubuntu) only.`,
  );
  if (e) throw e;
}

async function startNginx(ctx: StepContext, o: HostStepOptions): Promise<void> {
  const r = await ctx.transport.exec(startNginxCommand, { sudo: o.sudo, timeoutMs: NGINX_INSTALL_TIMEOUT_MS });
  expectProxyOk('systemctl', r, doing(ctx, o.host, 'starting nginx'), {
    code: 'nginx-start-failed',
    hint: `Run \`${shown(startNginxCommand, o.sudo)}\` on ${o.host} to see why (\`systemctl status nginx\` names the cause).`,
  });
}

/** nginx installed (apt-get when it is missing) and running. Never uninstalled or stopped by a rollback. */
export function nginxStep(o: HostStepOptions): Step<NginxObserved> {
  const sudo = o.sudo;
  return inspectedStep<NginxObserved>({
    ...o,
    title: `nginx installed and running on ${o.host}`,
    doc: {
      purpose: `Make sure nginx is installed and running on ${o.host}: \`nginx -v\` tells whether it is there; when it is not, it is installed with apt-get (Debian, Ubuntu), then started and enabled at boot. Installing and starting are given at most ${NGINX_INSTALL_TIMEOUT_MS / 60_000} minutes each.`,
      commands: [nginxVersionCommand, nginxActiveCommand, installNginxCommand, startNginxCommand].map((c) =>
        shown(c, sudo),
      ),
      verify: '`nginx -v` succeeds and nginx is active.',
      undo: 'Nothing: nginx stays installed and running (other sites may use it).',
    },
    async inspect(ctx) {
      const installed = (await ctx.transport.exec(nginxVersionCommand, { sudo })).code === 0;
      if (!installed)
        return {
          summary: 'install nginx (apt-get install -y nginx) and start it',
          observed: { installed, active: false },
        };
      const active = (await ctx.transport.exec(nginxActiveCommand, { sudo })).code === 0;
      return { summary: active ? undefined : 'start nginx', observed: { installed, active } };
    },
    async apply(ctx, observed) {
      if (!observed.installed) await installNginx(ctx, o);
      await startNginx(ctx, o);
    },
  });
}

/** What the webroot step's check saw. */
export interface WebrootObserved {
  /** The webroot existed before the step's first apply. */
  existed: boolean;
}

/** The directory certbot writes HTTP-01 tokens into and nginx serves them from. */
export function webrootStep(o: HostStepOptions): Step<WebrootObserved> {
  const sudo = o.sudo;
  return inspectedStep<WebrootObserved>({
    ...o,
    title: `ACME webroot ${ACME_WEBROOT}`,
    doc: {
      purpose: `Create ${ACME_WEBROOT}: certbot writes its HTTP-01 tokens under .well-known/acme-challenge/ there and every Ferry site serves them on port 80.`,
      commands: [existsCommand(ACME_WEBROOT), mkdirCommand(ACME_WEBROOT)].map((c) => shown(c, sudo)),
      verify: `${ACME_WEBROOT} exists.`,
      undo: `Remove ${ACME_WEBROOT} if it did not exist before and is still empty: ${shown(rmdirCommand(ACME_WEBROOT), sudo)}`,
    },
    async inspect(ctx) {
      const exists = (await ctx.transport.exec(existsCommand(ACME_WEBROOT), { sudo })).code === 0;
      const prior = (ctx.prior as Partial<WebrootObserved> | undefined)?.existed;
      const observed = { existed: typeof prior === 'boolean' ? prior : exists };
      return { summary: exists ? undefined : `create ${ACME_WEBROOT}`, observed };
    },
    async apply(ctx) {
      await ctx.transport.exec(mkdirCommand(ACME_WEBROOT), { sudo, check: true });
    },
    async rollback(ctx, observed) {
      // rmdir removes only an empty directory, and fails harmlessly when there is none.
      if (!observed.existed) await ctx.transport.exec(rmdirCommand(ACME_WEBROOT), { sudo });
    },
  });
}

/** What the renewal timer step's check saw (before the step's first apply). */
export interface RenewalTimerObserved {
  /** systemd runs the host (else the certbot package's cron job renews). */
  systemd: boolean;
  enabled: boolean;
  active: boolean;
}

function timerState(words: string): RenewalTimerObserved {
  if (words === 'no-systemd') return { systemd: false, enabled: false, active: false };
  const [enabled, active] = words.split(' ');
  return { systemd: true, enabled: enabled === 'enabled', active: active === 'active' };
}

function priorTimer(prior: unknown): RenewalTimerObserved | undefined {
  const p = prior as Partial<RenewalTimerObserved> | undefined;
  return typeof p?.systemd === 'boolean' && typeof p.enabled === 'boolean' && typeof p.active === 'boolean'
    ? { systemd: p.systemd, enabled: p.enabled, active: p.active }
    : undefined;
}

/**
 * certbot.timer enabled and active: it runs `certbot renew` twice a day. Without systemd
 * (a container), the certbot package's cron job renews instead, and nothing is to do.
 */
export function renewalTimerStep(o: HostStepOptions): Step<RenewalTimerObserved> {
  const sudo = o.sudo;
  return inspectedStep<RenewalTimerObserved>({
    ...o,
    title: `certbot.timer enabled and active on ${o.host}`,
    doc: {
      purpose:
        "Make sure certbot.timer is enabled and active: it runs `certbot renew` twice a day, which renews certificates 30 days before they expire and then runs the deploy hook that reloads nginx. On a host without systemd the certbot package's cron job does it instead.",
      commands: [timerStateCommand, enableTimerCommand].map((c) => shown(c, sudo)),
      verify: '`systemctl is-enabled certbot.timer` says enabled and `systemctl is-active certbot.timer` says active.',
      undo: `If the timer was neither enabled nor active before, disable it again: ${shown(disableTimerCommand, sudo)}`,
    },
    async inspect(ctx) {
      const words = (await ctx.transport.exec(timerStateCommand, { sudo })).stdout.trim();
      const summary =
        words === 'enabled active' || words === 'no-systemd'
          ? undefined
          : `enable and start certbot.timer (now: ${words || 'unknown'})`;
      return { summary, observed: priorTimer(ctx.prior) ?? timerState(words) };
    },
    async apply(ctx) {
      await runTool(ctx, 'systemctl', enableTimerCommand, { what: 'enabling certbot.timer', sudo });
    },
    async rollback(ctx, observed) {
      if (observed.systemd && !observed.enabled && !observed.active)
        await runTool(ctx, 'systemctl', disableTimerCommand, { what: 'disabling certbot.timer again', sudo });
    },
  });
}
