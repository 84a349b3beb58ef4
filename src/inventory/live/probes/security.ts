/** What hardening is about: sshd's effective settings, swap, automatic upgrades, pending security updates, fail2ban's ports, DOCKER-USER. */
import { cmd, pipe } from '../../../shell/command.js';
import type { SecurityFacts } from '../facts.js';
import { sections, type Probe } from '../probe.js';
import { sectioned } from './sectioned.js';

export const securityProbe: Probe = {
  name: 'security',
  root: true,
  command: sectioned({
    sshd: cmd('sshd', '-T'),
    swaps: cmd('cat', '/proc/swaps'),
    uu: cmd('dpkg-query', '-W', '-f', '${Status}\n', 'unattended-upgrades'),
    periodic: cmd('apt-config', 'dump', 'APT::Periodic::Unattended-Upgrade'),
    pending: cmd('apt-get', '-s', '-o', 'Debug::NoLocking=1', 'upgrade'),
    fail2ban: pipe(cmd('fail2ban-client', '-d'), cmd('grep', "'action'")),
    docker_user: cmd('iptables', '-w', '-S', 'DOCKER-USER'),
    ferry_chain: cmd('iptables', '-w', '-S', 'FERRY-HARDEN'),
  }),
  apply(facts, result) {
    facts.security = parseSecurity(sections(result.stdout));
  },
};

export function parseSecurity(s: Map<string, string>): SecurityFacts {
  const out: SecurityFacts = { fail2banPorts: parseFail2banPorts(s.get('fail2ban') ?? ''), dockerUser: [] };
  const sshd = s.get('sshd') ?? '';
  const value = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(sshd)?.[1]?.trim();
  const ports = [...sshd.matchAll(/^port (\d+)$/gm)].map((m) => Number(m[1]));
  if (ports.length > 0)
    out.sshd = {
      ports,
      permitRootLogin: value('permitrootlogin') ?? 'yes',
      passwordLogin: value('passwordauthentication') === 'yes' || value('kbdinteractiveauthentication') === 'yes',
    };
  const swaps = s.get('swaps');
  if (swaps !== undefined)
    out.swapBytes = swaps
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 4)
      .reduce((sum, f) => sum + Number(f[2]) * 1024, 0);
  const uu = s.get('uu') ?? '';
  const periodic = /Unattended-Upgrade "(\d+)"/.exec(s.get('periodic') ?? '')?.[1];
  if (s.has('uu')) out.autoUpgrades = /ok installed/.test(uu) && periodic !== undefined && periodic !== '0';
  const pending = s.get('pending') ?? '';
  if (/^(Inst|Reading|Building|\d+ upgraded)/m.test(pending))
    out.pendingSecurity = pending.split('\n').filter((l) => /^Inst .*security/i.test(l)).length;
  out.dockerUser = [...(s.get('docker_user') ?? '').split('\n'), ...(s.get('ferry_chain') ?? '').split('\n')]
    .map((l) => l.trim())
    .filter((l) => l.startsWith('-A '));
  return out;
}

/** `['multi-set', 'sshd', 'action', 'nftables', [..., ['port', 'ssh'], ...]]` lines: the ports per jail. */
export function parseFail2banPorts(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const line of text.split('\n')) {
    const jail = /^\['multi-set', '([^']+)', 'action'/.exec(line)?.[1];
    const port = /\['port', '([^']*)'\]/.exec(line)?.[1];
    if (!jail || port === undefined) continue;
    out[jail] = [
      ...new Set([
        ...(out[jail] ?? []),
        ...port
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
      ]),
    ];
  }
  return out;
}
