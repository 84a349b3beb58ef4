/**
 * The change of sshd and ufw, made while the dead man's switch is armed (./switch.ts):
 * sshd's drop-in first with the old ports and the new one (judged by `sshd -t`, then a
 * reload, which keeps open sessions), ufw opening both; a new connection must get in on
 * the new port; only then are the old ports closed, and a new connection must get in
 * again. Any failure puts the previous configuration back at once.
 */
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { render, script, type Command } from '../../shell/command.js';
import { toolTail } from '../../tools/classify.js';
import type { StepErrorCode } from '../../tools/codes.js';
import type { FirewallAllow } from '../../model/harden.js';
import type { AccessPlan } from '../access.js';
import { SSHD_DROP_IN } from '../render/sshd.js';
import { ORIGINAL_TAR, SAVED_TAR, SWITCH_DIR } from '../render/switch.js';
import { addCommand, deleteCommand, ufw, ufwChanges, UFW_LOCK } from '../render/ufw.js';
import { readAccessState } from './access-state.js';
import {
  differences,
  proofFailure,
  reloadSshCommand,
  restoreNowCommand,
  sshdTestCommand,
  viewAccess,
  type AccessOptions,
} from './access-view.js';

export interface AccessObserved {
  plan: AccessPlan;
}

export const ufwDefaultsCommand: Command = script(
  'flock -w 60 "$1" sh -c "ufw default deny incoming >/dev/null && ufw default allow outgoing >/dev/null"',
  UFW_LOCK,
);
export const ufwEnableCommand: Command = ufw('--force', 'enable');
/** A change confirmed earlier, undone from the copy the switch kept of the configuration before it. */
export const restoreBeforeCommand: Command = script(
  '[ -f "$1" ] && cp -p "$1" "$2" && sh "$3"',
  `${SWITCH_DIR}/before.tar`,
  SAVED_TAR,
  `${SWITCH_DIR}/restore.sh`,
);

export function accessStep(o: AccessOptions): Step<AccessObserved> {
  const { sudo } = o;
  /** Puts the previous configuration back, then throws `code`. */
  const undo = async (ctx: StepContext, code: StepErrorCode, what: string, r?: { stdout: string; stderr: string }) => {
    await ctx.transport.exec(restoreNowCommand, { sudo });
    const tail = r
      ? toolTail([r.stderr, r.stdout].filter((x) => x.trim() !== '').join('\n'), (x) => ctx.redactor.redact(x))
      : '';
    return new StepError(
      code,
      `${o.server}: ${what}; the previous sshd and firewall configuration was put back${tail ? `:\n${tail}` : ''}`,
      `Fix servers/${o.server}/harden in ferry.yml, then apply again; \`ferry runs show\` has the whole run.`,
    );
  };
  const must = async (ctx: StepContext, c: Command, code: StepErrorCode, what: string) => {
    const r = await ctx.transport.exec(c, { sudo });
    if (r.code !== 0) throw await undo(ctx, code, what, r);
  };
  const sshd = async (ctx: StepContext, content: string) => {
    if (content === '') return;
    await ctx.transport.upload(SSHD_DROP_IN, content, { mode: 0o644, sudo });
    await must(ctx, sshdTestCommand, 'sshd-config-invalid', `sshd -t refused the new ${SSHD_DROP_IN}`);
    await must(ctx, reloadSshCommand, 'sshd-reload-failed', 'sshd did not reload');
  };
  const ufw = async (ctx: StepContext, rules: FirewallAllow[] | undefined) => {
    if (!rules) return;
    const state = await readAccessState(ctx, sudo);
    await must(ctx, ufwDefaultsCommand, 'ufw-failed', 'ufw default deny incoming');
    const { add, remove } = ufwChanges(state.ufw.ferryLines, rules);
    for (const a of add) await must(ctx, addCommand(a), 'ufw-failed', `ufw allow ${a.port}/${a.proto}`);
    for (const a of remove) await must(ctx, deleteCommand(a), 'ufw-failed', `ufw delete allow ${a.port}/${a.proto}`);
    if (!state.ufw.active) await must(ctx, ufwEnableCommand, 'ufw-failed', 'ufw enable');
  };
  const prove = async (ctx: StepContext, plan: AccessPlan, stage: string) => {
    const failed = await proofFailure(o, plan);
    if (failed)
      throw await undo(
        ctx,
        'harden-proof-failed',
        `${stage}: a new SSH session as ${plan.loginUser} on port ${plan.port} did not get in (${failed})`,
      );
  };
  return {
    id: o.ids.change,
    host: o.server,
    phase: 'prepare',
    title: 'sshd and firewall (under the switch)',
    dependsOn: [o.ids.arm],
    holdsRollback: false,
    doc: () => accessDoc(),
    async check(ctx) {
      const v = await viewAccess(ctx, o);
      const observed: AccessObserved = { plan: v.plan };
      if (v.differences.length === 0) return { needed: false, observed };
      return { needed: true, change: { summary: v.differences.join('; ') }, observed };
    },
    async apply(ctx, { plan }) {
      if ((await ctx.transport.exec(script('[ -f "$1" ]', SAVED_TAR), { sudo })).code !== 0)
        throw new StepError(
          'harden-not-armed',
          `${o.server}: the dead man's switch is not armed, so sshd and the firewall are left as they are`,
          'Apply again: the plan arms the switch before this step.',
        );
      await sshd(ctx, plan.transitional);
      await ufw(ctx, plan.transitionalRules);
      await prove(ctx, plan, 'with the new settings beside the old port');
      if (plan.oldPorts.length === 0) return;
      await sshd(ctx, plan.dropIn);
      await ufw(ctx, plan.rules);
      const ports = (await readAccessState(ctx, sudo)).ports;
      if (ports.join(',') !== String(plan.port))
        throw await undo(
          ctx,
          'harden-port-pinned',
          `sshd still listens on ${ports.join(', ')}: a Port line outside Ferry's drop-in (in /etc/ssh/sshd_config) keeps the old port`,
        );
      await prove(ctx, plan, 'with the old port closed');
    },
    async verify(ctx, { plan }) {
      const left = differences(await readAccessState(ctx, sudo), plan);
      if (left.length > 0) return { ok: false, message: `still differs: ${left.join('; ')}` };
      const failed = await proofFailure(o, plan);
      return failed ? { ok: false, message: `a new session does not get in: ${failed}` } : { ok: true };
    },
    async rollback(ctx, { plan }) {
      const state = await readAccessState(ctx, sudo);
      // Armed: the change is not confirmed, and the switch holds what was before it.
      if (state.armed) await ctx.transport.exec(restoreNowCommand, { sudo });
      // Confirmed and in place: the confirmation kept what was before it as before.tar.
      else if (differences(state, plan).length === 0) await ctx.transport.exec(restoreBeforeCommand, { sudo });
    },
  };
}

function accessDoc() {
  return {
    purpose: `With the switch armed: write ${SSHD_DROP_IN} listening on the old and the new port, judge it with \`sshd -t\`, reload sshd (open sessions stay), set ufw (deny incoming, allow the sshd ports and the opened ones, enable); prove that a new SSH session gets in on the new port as the new user; then close the old port the same way and prove it again. Any failure puts the previous configuration back at once.`,
    commands: [render(sshdTestCommand), render(reloadSshCommand), render(ufwDefaultsCommand), render(ufwEnableCommand)],
    verify:
      'sshd -T shows the new port only, the drop-in has the new content, ufw is active with the wanted rules, and a new session gets in.',
    undo: `Put back the configuration saved before the change (${SAVED_TAR}, or ${SWITCH_DIR}/before.tar once confirmed; ${ORIGINAL_TAR} holds the one before Ferry's first change) and reload sshd and ufw.`,
  };
}
