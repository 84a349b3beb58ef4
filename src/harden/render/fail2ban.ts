/**
 * fail2ban's jails, pure: the systemd backend (Debian 12 has no /var/log/auth.log), an
 * sshd jail on the ports sshd really uses, nginx jails when nginx runs, and every ban
 * also dropped in DOCKER-USER, so that a banned address reaches no published container
 * port either. A `.local` file in jail.d, read after Debian's defaults-debian.conf.
 */
import type { Fail2banHardening } from '../../model/harden.js';

export const JAIL_PATH = '/etc/fail2ban/jail.d/ferry-harden.local';

export interface JailInput {
  f2b: Fail2banHardening;
  sshPorts: number[];
  nginx: boolean;
  docker: boolean;
}

const NGINX_JAILS: [string, string][] = [
  ['nginx-http-auth', '/var/log/nginx/error.log'],
  ['nginx-limit-req', '/var/log/nginx/error.log'],
  ['nginx-botsearch', '/var/log/nginx/access.log'],
];

export function renderJails({ f2b, sshPorts, nginx, docker }: JailInput): string {
  const action = docker
    ? ['action = %(action_)s', '         iptables-allports[name=%(__name__)s-docker, chain=DOCKER-USER, protocol=all]']
    : [];
  const lines = [
    '# Written by Ferry (harden). Do not edit: `ferry apply` rewrites it; see docs/harden.md.',
    '[DEFAULT]',
    'backend = systemd',
    `bantime = ${f2b.banSeconds}`,
    `findtime = ${f2b.findSeconds}`,
    `maxretry = ${f2b.maxRetry}`,
    `ignoreip = ${['127.0.0.1/8', '::1', ...f2b.ignore].join(' ')}`,
    ...action,
    '',
    '[sshd]',
    'enabled = true',
    'mode = aggressive',
    `port = ${sshPorts.join(',')}`,
    '',
  ];
  if (nginx)
    for (const [jail, log] of NGINX_JAILS)
      lines.push(`[${jail}]`, 'enabled = true', 'port = http,https', 'backend = auto', `logpath = ${log}`, '');
  return lines.join('\n');
}
