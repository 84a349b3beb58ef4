/**
 * The dead man's switch around a change of sshd or the firewall, as two steps: `arm`
 * saves the configuration and starts a timer on the server that puts it back; `confirm`
 * proves with a new connection that the changed server still lets the operator in, and
 * only then stops the timer. Between them runs the change (./access.ts). If Ferry dies or
 * the network drops in between, the timer fires and the server restores itself.
 */
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { cmd, render, script, type Command } from '../../shell/command.js';
import {
  GUARDED_FILES,
  ORIGINAL_TAR,
  RESTORED_MARK,
  RESTORE_SCRIPT,
  SAVED_TAR,
  SWITCH_DIR,
  SWITCH_SERVICE_PATH,
  SWITCH_TIMER_PATH,
  SWITCH_UNIT,
  UFW_WAS,
  renderRestoreScript,
  renderSwitchService,
  renderSwitchTimer,
} from '../render/switch.js';
import { proofFailure, restoreNowCommand, viewAccess, type AccessOptions } from './access-view.js';

/** The configuration saved (once: a switch already armed keeps what it saved), and ufw's state. */
export const saveCommand: Command = script(
  [
    'set -e',
    'dir=$1 saved=$2 was=$3 original=$4; shift 4',
    'mkdir -p -m 700 "$dir"',
    'files=; for f in "$@"; do [ -e "$f" ] && files="$files ${f#/}"; done',
    'tar -cpf "$saved.new" -C / -T /dev/null $files',
    'mv "$saved.new" "$saved"',
    'if ufw status 2>/dev/null | grep -q "^Status: active"; then echo active; else echo inactive; fi > "$was"',
    '[ -e "$original" ] || cp -p "$saved" "$original"',
  ].join('\n'),
  SWITCH_DIR,
  SAVED_TAR,
  UFW_WAS,
  ORIGINAL_TAR,
  ...GUARDED_FILES,
);
export const startTimerCommand: Command = script(
  'rm -f "$2"; systemctl daemon-reload && systemctl enable "$1.timer" 2>/dev/null && systemctl restart "$1.timer"',
  SWITCH_UNIT,
  RESTORED_MARK,
);
export const disarmCommand: Command = script(
  'systemctl disable --now "$1.timer" 2>/dev/null; mv -f "$2" "$3"',
  SWITCH_UNIT,
  SAVED_TAR,
  `${SWITCH_DIR}/before.tar`,
);
export const armedCommand: Command = script(
  'systemctl is-active --quiet "$1.timer" && [ -f "$2" ]',
  SWITCH_UNIT,
  SAVED_TAR,
);

export function armStep(o: AccessOptions): Step<{ armed: boolean }> {
  const { sudo } = o;
  const t = o.harden.switchTimeoutSeconds;
  const run = async (ctx: StepContext, c: Command, what: string) => {
    const r = await ctx.transport.exec(c, { sudo });
    if (r.code !== 0)
      throw new StepError(
        'harden-switch-failed',
        `${o.server}: ${what} failed (exit ${r.code}): ${ctx.redactor.redact(r.stderr.trim().split('\n').slice(-3).join(' '))}`,
        `The dead man's switch needs systemd and tar on ${o.server}; nothing of sshd or the firewall was changed.`,
      );
  };
  return {
    id: o.ids.arm,
    host: o.server,
    phase: 'prepare',
    title: `arm the dead man's switch (${t} s) before sshd and the firewall change`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Save sshd's drop-in and ufw's configuration in ${SAVED_TAR} and start a timer (${SWITCH_UNIT}.timer, ${t} s) whose service runs ${RESTORE_SCRIPT}: it puts them back and reloads sshd and ufw unless Ferry confirms the change first. The units are on disk: the switch outlives Ferry, the network, and a reboot.`,
      commands: [
        render(saveCommand),
        `cat > ${SWITCH_TIMER_PATH}`,
        `cat > ${SWITCH_SERVICE_PATH}`,
        render(startTimerCommand),
      ],
      verify: render(armedCommand),
      undo: render(restoreNowCommand),
    }),
    async check(ctx) {
      const v = await viewAccess(ctx, o);
      const observed = { armed: v.state.armed };
      if (v.differences.length === 0 || v.state.armed) return { needed: false, observed };
      return { needed: true, change: { summary: `timer of ${t} s, for: ${v.differences.join(', ')}` }, observed };
    },
    async apply(ctx) {
      await run(ctx, saveCommand, 'saving the configuration');
      await ctx.transport.upload(RESTORE_SCRIPT, renderRestoreScript(), { mode: 0o700, sudo });
      await ctx.transport.upload(SWITCH_SERVICE_PATH, renderSwitchService(), { mode: 0o644, sudo });
      await ctx.transport.upload(SWITCH_TIMER_PATH, renderSwitchTimer(t), { mode: 0o644, sudo });
      await run(ctx, startTimerCommand, 'starting the timer');
    },
    async verify(ctx) {
      const r = await ctx.transport.exec(armedCommand, { sudo });
      return r.code === 0 ? { ok: true } : { ok: false, message: `${SWITCH_UNIT}.timer is not running` };
    },
    async rollback(ctx) {
      await ctx.transport.exec(restoreNowCommand, { sudo });
    },
  };
}

export function confirmStep(o: AccessOptions): Step<{ port: number; user: string }> {
  const { sudo } = o;
  return {
    id: o.ids.confirm,
    host: o.server,
    phase: 'prepare',
    title: 'prove a new SSH session gets in, then disarm the switch',
    dependsOn: [o.ids.change],
    doc: () => ({
      purpose: `Open a new SSH connection with the new settings (sshd's port, the admin user, keys only) and run \`sudo -n true\`; only if it gets in, stop the switch's timer. If it does not, put the previous configuration back at once.`,
      commands: [render(disarmCommand)],
      verify: `${render(cmd('systemctl', 'is-active', `${SWITCH_UNIT}.timer`))} says inactive`,
      undo: 'Nothing: a change that was confirmed is undone by the change step.',
    }),
    async check(ctx) {
      const v = await viewAccess(ctx, o);
      const observed = { port: v.plan.port, user: v.plan.loginUser };
      if (v.differences.length === 0 && !v.state.armed) return { needed: false, observed };
      return {
        needed: true,
        change: { summary: `new session as ${v.plan.loginUser} on port ${v.plan.port}, then disarm` },
        observed,
      };
    },
    async apply(ctx) {
      const v = await viewAccess(ctx, o);
      const failed = await proofFailure(o, v.plan);
      if (failed) {
        await ctx.transport.exec(restoreNowCommand, { sudo });
        throw new StepError(
          'harden-proof-failed',
          `${o.server}: a new SSH session as ${v.plan.loginUser} on port ${v.plan.port} did not get in (${failed}); the previous sshd and firewall configuration was put back`,
          `Read the error above; \`ferry runs show\` has the whole run. Fix ${`servers/${o.server}/harden`} and apply again.`,
        );
      }
      await ctx.transport.exec(disarmCommand, { sudo });
    },
    async verify(ctx) {
      const r = await ctx.transport.exec(armedCommand, { sudo });
      return r.code !== 0 ? { ok: true } : { ok: false, message: `${SWITCH_UNIT}.timer still runs` };
    },
    async rollback() {
      // The change step undoes the change; a stopped timer needs no undoing.
    },
  };
}
