/** What the three access steps (arm, change, confirm) share: the options, and the server's access against the plan. */
import type { StepContext } from '../../engine/step.js';
import type { FirewallAllow, HardenDef } from '../../model/harden.js';
import { cmd, script, type Command } from '../../shell/command.js';
import { accessPlan, lockoutRefusal, type AccessPlan, type Login } from '../access.js';
import type { Prover } from '../prove.js';
import { RESTORE_SCRIPT, SWITCH_UNIT } from '../render/switch.js';
import { ufwChanges } from '../render/ufw.js';
import { sha256 } from './config-file.js';
import { readAccessState, WANTED_DEFAULTS, type AccessState } from './access-state.js';

export interface AccessOptions {
  server: string;
  harden: HardenDef;
  login: Login;
  /** ufw's rules besides sshd's: ferry.yml's, the proxy's, placed services'. */
  extraRules: FirewallAllow[];
  sudo: boolean;
  prove: Prover;
  ids: { arm: string; change: string; confirm: string };
  dependsOn: string[];
}

export interface AccessView {
  state: AccessState;
  plan: AccessPlan;
  /** What differs from the plan; empty when the access is as it should be. */
  differences: string[];
}

export function differences(state: AccessState, plan: AccessPlan): string[] {
  const out: string[] = [];
  if (plan.dropIn !== '') {
    if (state.dropInHash !== sha256(plan.dropIn)) out.push(state.dropInHash ? 'sshd drop-in' : 'sshd drop-in: create');
    if (state.ports.join(',') !== String(plan.port))
      out.push(`sshd ports ${state.ports.join(',') || '?'} -> ${plan.port}`);
  }
  if (plan.rules) {
    if (!state.ufw.installed) out.push('ufw: not installed');
    else {
      if (!state.ufw.active) out.push('ufw: enable');
      if (!WANTED_DEFAULTS.test(state.ufw.defaults)) out.push('ufw: default deny incoming');
      const c = ufwChanges(state.ufw.ferryLines, plan.rules);
      if (c.add.length > 0) out.push(`ufw: allow ${c.add.map((a) => `${a.port}/${a.proto}`).join(' ')}`);
      if (c.remove.length > 0) out.push(`ufw: delete ${c.remove.map((a) => `${a.port}/${a.proto}`).join(' ')}`);
    }
  }
  return out;
}

/** Reads the server and plans; throws the refusal of a change that would leave no way in. */
export async function viewAccess(ctx: StepContext, o: AccessOptions): Promise<AccessView> {
  const state = await readAccessState(ctx, o.sudo);
  const plan = accessPlan(o.harden, o.login, state, o.extraRules);
  const refusal = lockoutRefusal(o.server, o.harden, o.login, state, plan);
  if (refusal) throw refusal;
  return { state, plan, differences: differences(state, plan) };
}

/** Runs the switch's restore at once and stops its timer. */
export const restoreNowCommand: Command = script(
  'sh "$1"; systemctl stop "$2.timer" 2>/dev/null; true',
  RESTORE_SCRIPT,
  SWITCH_UNIT,
);
export const reloadSshCommand: Command = cmd('systemctl', 'reload', 'ssh');
export const sshdTestCommand: Command = cmd('sshd', '-t');

/** A proof of the new access, as the message of an error when it failed. */
export async function proofFailure(o: AccessOptions, plan: AccessPlan): Promise<string | undefined> {
  const r = await o.prove(o.server, { port: plan.port, user: plan.loginUser });
  return r.ok ? undefined : r.message;
}
