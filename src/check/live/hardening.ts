/**
 * The hardening audit: one warning per control a server fails (`inventory/live/security.ts`),
 * coded by the control, with what was read and the `harden` key that fixes it.
 */
import { finding, type Finding } from '../../core/finding.js';
import type { HostFacts } from '../../inventory/live/facts.js';
import { jailsOnWrongPort, openPublishedPorts, securityReport, type Control } from '../../inventory/live/security.js';
import type { LiveRule } from './context.js';

type Said = { message: string; hint: string };

const SAY: Record<Control, (server: string, f: HostFacts) => Said> = {
  'ssh-password-login': (server) => ({
    message: `sshd on ${server} accepts passwords`,
    hint: 'Harden the server (harden.ssh: password login is off by default), or set PasswordAuthentication no and KbdInteractiveAuthentication no.',
  }),
  'ssh-root-login': (server, f) => ({
    message: `sshd on ${server} lets root log in (PermitRootLogin ${f.security.sshd?.permitRootLogin ?? '?'})`,
    hint: 'Harden the server with an admin user (harden.admin): root login is then off, after a new session as the admin got in.',
  }),
  'firewall-off': (server, f) => ({
    message: `${server} has no firewall that denies by default: ufw ${!f.ufw.installed ? 'is not installed' : !f.ufw.active ? 'is inactive' : `lets in by default (${f.ufw.defaultIncoming ?? '?'})`}`,
    hint: 'Harden the server (harden.firewall): ufw denies by default and opens the real sshd port, 80/443 for a proxy and the ports you name.',
  }),
  'published-port-open': (server, f) => ({
    message: `published ports on ${server} reach other hosts past the firewall: ${openPublishedPorts(f)
      .map((o) => `${o.port.hostPort}/${o.port.protocol} (${o.container})`)
      .join(', ')}`,
    hint: 'Docker publishes ports before ufw sees them. Harden the server (harden.firewall) to close them in DOCKER-USER unless opened, or bind them to 127.0.0.1.',
  }),
  'no-fail2ban': (server, f) => ({
    message: `${server} has no fail2ban jail for sshd: fail2ban ${!f.fail2ban.installed ? 'is not installed' : !f.fail2ban.running ? 'is not running' : `runs the jails ${f.fail2ban.jails.join(', ') || 'none'}`}`,
    hint: 'Harden the server (harden.fail2ban): an sshd jail with the systemd backend, on the port sshd uses.',
  }),
  'fail2ban-wrong-port': (server, f) => ({
    message: `fail2ban on ${server} bans nobody who reaches sshd: ${jailsOnWrongPort(f)
      .map((j) => `jail ${j.jail} watches port ${j.ports.join(',')}`)
      .join('; ')}, sshd listens on ${f.security.sshd?.ports.join(', ') ?? '?'}`,
    hint: 'Harden the server (harden.fail2ban): its sshd jail bans on the port sshd really uses, read from the server.',
  }),
  'no-swap': (server) => ({
    message: `${server} has no swap: a burst of memory kills a container instead of slowing it`,
    hint: 'Harden the server with harden.swap (a swap file of the size you give).',
  }),
  'no-auto-upgrades': (server) => ({
    message: `${server} does not install security upgrades by itself (unattended-upgrades)`,
    hint: 'Harden the server (harden.upgrades): unattended security upgrades every day, no automatic reboot unless asked.',
  }),
  'pending-security-updates': (server, f) => ({
    message: `${server} has ${f.security.pendingSecurity} security update(s) waiting`,
    hint: 'Install them (apt-get upgrade), or let unattended-upgrades do it (harden.upgrades).',
  }),
};

export const hardeningAudit: LiveRule = (_fleet, factsByServer) => {
  const out: Finding[] = [];
  for (const [server, f] of factsByServer)
    for (const control of securityReport(f).failed) {
      const { message, hint } = SAY[control](server, f);
      out.push(finding(control, 'warning', message, { host: server }, hint, { server }));
    }
  return out;
};
