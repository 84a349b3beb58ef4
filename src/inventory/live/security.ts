/**
 * How hardened a server is, from its live facts, pure: each control passes, fails, or is
 * unknown (not read); the score is the share of the known controls that pass, out of 100.
 * `ferry inventory --live` shows it, `ferry check --live` reports each failing control.
 */
import { isAllInterfaces } from '../../check/addresses.js';
import type { HARDENING_AUDIT_CODES } from '../../core/codes.js';
import type { HostFacts, PublishedPort } from './facts.js';

/** Each control is named by the code `ferry check --live` reports when it fails. */
export type Control = (typeof HARDENING_AUDIT_CODES)[number];

export interface SecurityReport {
  /** 0 to 100; undefined when no control could be read. */
  score?: number;
  passed: Control[];
  failed: Control[];
}

/** `ssh` in a jail's port list is sshd's well-known port. */
const portNumber = (p: string): number | undefined => (p === 'ssh' ? 22 : /^\d+$/.test(p) ? Number(p) : undefined);

/** The sshd jails whose ports are none of those sshd listens on. */
export function jailsOnWrongPort(f: HostFacts): { jail: string; ports: string[] }[] {
  const sshd = f.security.sshd?.ports ?? [];
  if (sshd.length === 0) return [];
  return Object.entries(f.security.fail2banPorts)
    .filter(([jail]) => /ssh/.test(jail))
    .filter(([, ports]) => !ports.some((p) => sshd.includes(portNumber(p) ?? -1)))
    .map(([jail, ports]) => ({ jail, ports }));
}

/** Published ports (on every interface) that a host elsewhere reaches, past ufw: DOCKER-USER does not drop them. */
export function openPublishedPorts(f: HostFacts): { container: string; port: PublishedPort }[] {
  const rules = f.security.dockerUser;
  const dropsAll = rules.some((r) => /--ctstate DNAT\b/.test(r) && /-j DROP$/.test(r) && !/--ctorigdstport/.test(r));
  const mentions = (port: number, re: RegExp) =>
    rules.some((r) => new RegExp(`--ctorigdstport ${port}(\\s|$)`).test(r) && re.test(r));
  const ufwAllows = (port: number) =>
    f.ufw.active &&
    f.ufw.rules.some((r) => r.action.startsWith('ALLOW') && new RegExp(`(^|[,:])${port}([,:/ ]|$)`).test(r.to));
  const out: { container: string; port: PublishedPort }[] = [];
  for (const c of f.containers) {
    if (c.state !== 'running') continue;
    for (const p of c.ports) {
      if (!isAllInterfaces(p.hostIp) || out.some((o) => o.port.hostPort === p.hostPort)) continue;
      const opened = mentions(p.hostPort, /-j RETURN$/) || ufwAllows(p.hostPort);
      const dropped = mentions(p.hostPort, /-j DROP$/) || dropsAll;
      if (!opened && !dropped) out.push({ container: c.name, port: p });
    }
  }
  return out;
}

/** The controls, judged only when the security probe read the server (its facts, not defaults, are there). */
export function securityReport(f: HostFacts): SecurityReport {
  const s = f.security;
  if (s.sshd === undefined && s.swapBytes === undefined) return { passed: [], failed: [] };
  const checks: [Control, boolean | undefined][] = [
    ['ssh-password-login', s.sshd ? !s.sshd.passwordLogin : undefined],
    ['ssh-root-login', s.sshd ? s.sshd.permitRootLogin === 'no' : undefined],
    ['firewall-off', f.ufw.installed ? f.ufw.active && f.ufw.defaultIncoming === 'deny' : false],
    ['published-port-open', f.docker.installed ? openPublishedPorts(f).length === 0 : undefined],
    ['no-fail2ban', f.fail2ban.running && f.fail2ban.jails.some((j) => /ssh/.test(j))],
    ['fail2ban-wrong-port', s.sshd && f.fail2ban.running ? jailsOnWrongPort(f).length === 0 : undefined],
    ['no-swap', s.swapBytes === undefined ? undefined : s.swapBytes > 0],
    ['no-auto-upgrades', s.autoUpgrades],
    ['pending-security-updates', s.pendingSecurity === undefined ? undefined : s.pendingSecurity === 0],
  ];
  const passed = checks.filter(([, ok]) => ok === true).map(([c]) => c);
  const failed = checks.filter(([, ok]) => ok === false).map(([c]) => c);
  const known = passed.length + failed.length;
  return known === 0 ? { passed, failed } : { score: Math.round((100 * passed.length) / known), passed, failed };
}
