/**
 * What a hardened server's access (sshd and ufw) should be, and the refusals of a change
 * that would leave no way in. Pure: from the server's `harden`, how Ferry logs in, and what
 * was read on the server.
 */
import { StepError } from '../engine/errors.js';
import type { FirewallAllow, HardenDef } from '../model/harden.js';
import { renderSshdDropIn } from './render/sshd.js';

/** How Ferry logs in and who it is. */
export interface Login {
  /** The declared user (ferry.yml `user`, else root). */
  user: string;
  /** Public keys of the private keys Ferry logs in with (`type base64` only); empty when only an agent is used. */
  operatorKeys: string[];
}

/** What was read on the server about its access. */
export interface AccessFacts {
  /** The ports sshd listens on now (`sshd -T`). */
  ports: number[];
  /** sshd is started by ssh.socket, whose ListenStream, not Port, decides the port. */
  socketActivated: boolean;
  ufw: { installed: boolean; active: boolean; defaults: string; statusText: string; ferryLines: string[] };
}

export interface AccessPlan {
  port: number;
  /** Ports sshd listens on now that it will not once the change is proven. */
  oldPorts: number[];
  allowUsers: string[];
  /** Who logs in once hardened: the admin, else the declared user. */
  loginUser: string;
  dropIn: string;
  /** The same with the old ports too: what is proven before the old ports close. Both empty: sshd is not managed. */
  transitional: string;
  /** ufw's rules (undefined: ufw is not managed); `transitionalRules` keep the old ports open. */
  rules?: FirewallAllow[];
  transitionalRules?: FirewallAllow[];
}

const sshRule = (port: number): FirewallAllow => ({ port: String(port), proto: 'tcp', from: [], why: 'ssh' });

/** The access wanted; `extra` are the firewall's other rules (ferry.yml's, the proxy's, placed services'). */
export function accessPlan(h: HardenDef, login: Login, facts: AccessFacts, extra: FirewallAllow[]): AccessPlan {
  const ssh = h.ssh;
  const port = ssh?.port ?? facts.ports[0] ?? 22;
  const oldPorts = ssh ? facts.ports.filter((p) => p !== port) : [];
  const loginUser = h.admin?.user ?? login.user;
  const allowUsers = ssh?.allowUsers ?? defaultAllowUsers(h, login);
  const dropIn = ssh ? renderSshdDropIn({ ssh, ports: [port], allowUsers }) : '';
  const transitional = ssh ? renderSshdDropIn({ ssh, ports: [port, ...oldPorts], allowUsers }) : '';
  const plan: AccessPlan = { port, oldPorts, allowUsers, loginUser, dropIn, transitional };
  if (h.firewall) {
    plan.rules = [sshRule(port), ...extra];
    plan.transitionalRules = [sshRule(port), ...oldPorts.map(sshRule), ...extra];
  }
  return plan;
}

function defaultAllowUsers(h: HardenDef, login: Login): string[] {
  const users = h.admin ? [h.admin.user] : [];
  if (login.user !== 'root' || (h.ssh?.rootLogin ?? true)) users.push(login.user);
  return [...new Set(users.length > 0 ? users : [login.user])];
}

/** The keys the admin user gets: the fleet file's, else the operator's. */
export const adminKeys = (h: HardenDef, login: Login): string[] => h.admin?.keys ?? login.operatorKeys;

/** `type base64` of a key line, without its comment. */
export const keyOf = (line: string): string => line.trim().split(/\s+/).slice(0, 2).join(' ');

const place = (server: string) => `servers/${server}/harden`;

/** Why the change must not be made (it would leave no way in), or undefined. */
export function lockoutRefusal(
  server: string,
  h: HardenDef,
  login: Login,
  facts: AccessFacts,
  plan: AccessPlan,
): StepError | undefined {
  const ssh = h.ssh;
  if (!ssh) return undefined;
  if (facts.socketActivated)
    return new StepError(
      'harden-ssh-socket',
      `${server}: sshd is started by ssh.socket, whose ListenStream decides the port, not sshd's Port; Ferry does not change that`,
      `Run sshd as ssh.service (\`systemctl disable --now ssh.socket && systemctl enable --now ssh.service\`), then plan again.`,
    );
  if (!ssh.rootLogin && login.user === 'root' && !h.admin)
    return new StepError(
      'harden-no-way-in',
      `${server}: ${place(server)} turns root login off, Ferry logs in as root, and no admin user is named: nobody could log in`,
      `Add \`admin: { user: NAME }\` under ${place(server)} (Ferry gives it your key and sudo), or keep \`ssh: { root_login: true }\`.`,
    );
  const names = plan.allowUsers.map((u) => u.split('@')[0]);
  if (!names.includes(plan.loginUser))
    return new StepError(
      'harden-no-way-in',
      `${server}: AllowUsers (${plan.allowUsers.join(' ')}) leaves out ${plan.loginUser}, the user Ferry logs in as once hardened`,
      `Add ${plan.loginUser} to ${place(server)}/ssh/allow_users, or leave allow_users out.`,
    );
  if (h.admin) {
    const keys = adminKeys(h, login);
    if (keys.length === 0)
      return new StepError(
        'harden-key-missing',
        `${server}: no public key to give ${h.admin.user}: none is listed and Ferry logs in with no key file it can read (an agent only)`,
        `List your public keys under ${place(server)}/admin/keys.`,
      );
    const own = new Set(login.operatorKeys.map(keyOf));
    if (own.size > 0 && !keys.some((k) => own.has(keyOf(k))))
      return new StepError(
        'harden-key-missing',
        `${server}: ${place(server)}/admin/keys leaves out the key Ferry logs in with (${[...own][0]!.slice(0, 40)}…): once root login is off, Ferry could not come back in`,
        'Add the public key of your `identity_file` (ssh-keygen -y -f KEY) to admin.keys.',
      );
  }
  if (!h.firewall && facts.ufw.active && plan.oldPorts.length > 0 && !ufwAllows(facts.ufw.statusText, plan.port))
    return new StepError(
      'harden-port-blocked',
      `${server}: sshd would move to port ${plan.port}, which ufw (active, and not managed by Ferry here) does not allow`,
      `Allow it first (\`ufw allow ${plan.port}/tcp\`), or let Ferry manage the firewall (leave \`firewall: false\` out).`,
    );
  return undefined;
}

/** Whether `ufw status` shows an ALLOW for `port` (alone, or as port/tcp). */
export function ufwAllows(statusText: string, port: number): boolean {
  return new RegExp(`^${port}(/tcp)?\\s+ALLOW`, 'm').test(statusText);
}
