/**
 * The sshd drop-in, pure. It is named 00-… so that it comes first among the drop-ins:
 * sshd keeps the first value it reads of each keyword, and drop-ins are read (in name
 * order) where sshd_config includes them, at its top on Debian and Ubuntu. A cloud
 * image's `50-cloud-init.conf` that turns passwords back on loses to it.
 */
import type { SshHardening } from '../../model/harden.js';

export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/00-ferry-harden.conf';

export interface SshdInput {
  ssh: SshHardening;
  /** Ports to listen on: the new one, and during a change of port the old one as well. */
  ports: number[];
  allowUsers: string[];
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

export function renderSshdDropIn({ ssh, ports, allowUsers }: SshdInput): string {
  const lines = [
    '# Written by Ferry (harden). Do not edit: `ferry apply` rewrites it; see docs/harden.md to undo.',
    ...ports.map((p) => `Port ${p}`),
    `PermitRootLogin ${ssh.rootLogin ? 'prohibit-password' : 'no'}`,
    `PasswordAuthentication ${yesNo(ssh.passwordLogin)}`,
    `KbdInteractiveAuthentication ${yesNo(ssh.passwordLogin)}`,
    'PermitEmptyPasswords no',
    'PubkeyAuthentication yes',
    'HostbasedAuthentication no',
    'IgnoreRhosts yes',
    `AllowUsers ${allowUsers.join(' ')}`,
    `MaxAuthTries ${ssh.maxAuthTries}`,
    `MaxSessions ${ssh.maxSessions}`,
    `LoginGraceTime ${ssh.loginGraceSeconds}`,
    `ClientAliveInterval ${ssh.clientAliveSeconds}`,
    `ClientAliveCountMax ${ssh.clientAliveCountMax}`,
    `AllowTcpForwarding ${yesNo(ssh.forwarding)}`,
    `AllowAgentForwarding ${yesNo(ssh.forwarding)}`,
    `AllowStreamLocalForwarding ${yesNo(ssh.forwarding)}`,
    `X11Forwarding ${yesNo(ssh.forwarding)}`,
    'PermitTunnel no',
    'PermitUserEnvironment no',
    'StrictModes yes',
    'UseDNS no',
    'LogLevel VERBOSE',
    '',
  ];
  return lines.join('\n');
}
