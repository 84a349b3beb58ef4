/** The rendered configurations kept as golden files (test/golden/harden/): unit tests compare, the end-to-end test has the real tools judge them. */
import type { HardenDef } from '../model/harden.js';
import { DEFAULT_SYSCTL } from '../fleet/harden-build.js';
import { renderDockerUserUnit } from './render/docker-user.js';
import { renderJails } from './render/fail2ban.js';
import { mergeDaemonJson, renderJournald, renderSysctl, renderUpgrades } from './render/host-files.js';
import { renderSshdDropIn } from './render/sshd.js';
import { renderRestoreScript, renderSwitchService, renderSwitchTimer } from './render/switch.js';

export const HARDEN: HardenDef = {
  admin: { user: 'ops' },
  ssh: {
    port: 2222,
    rootLogin: false,
    passwordLogin: false,
    maxAuthTries: 3,
    maxSessions: 10,
    loginGraceSeconds: 30,
    clientAliveSeconds: 300,
    clientAliveCountMax: 2,
    forwarding: false,
  },
  firewall: {
    allow: [
      { port: '8080', proto: 'tcp', from: [], why: 'ferry.yml' },
      { port: '9100', proto: 'tcp', from: ['10.0.0.7'], why: 'ferry.yml' },
      { port: '6000:6010', proto: 'udp', from: ['10.0.0.0/24'], why: 'ferry.yml' },
    ],
  },
  fail2ban: { maxRetry: 5, findSeconds: 600, banSeconds: 3600, ignore: ['203.0.113.7'] },
  upgrades: { reboot: false, rebootTime: '04:00' },
  sysctl: { ...DEFAULT_SYSCTL, 'net.core.somaxconn': '1024' },
  journald: { maxUseBytes: 512 * 2 ** 20 },
  docker: { logMaxSize: '10m', logMaxFiles: 3, liveRestore: true },
  timeSync: true,
  switchTimeoutSeconds: 120,
};

export interface GoldenCase {
  file: string;
  /** How the real tool judges it in test/e2e/harden.test.ts. */
  judge: 'sshd' | 'fail2ban' | 'systemd' | 'sysctl' | 'apt' | 'journald' | 'docker' | 'sh';
  /** Where it goes on a server. */
  path: string;
  render: () => string;
}

export const GOLDEN_CASES: GoldenCase[] = [
  {
    file: 'sshd.conf',
    judge: 'sshd',
    path: '/etc/ssh/sshd_config.d/00-ferry-harden.conf',
    render: () => renderSshdDropIn({ ssh: HARDEN.ssh!, ports: [2222], allowUsers: ['ops'] }),
  },
  {
    file: 'sshd-transition.conf',
    judge: 'sshd',
    path: '/etc/ssh/sshd_config.d/00-ferry-harden.conf',
    render: () =>
      renderSshdDropIn({
        ssh: { ...HARDEN.ssh!, rootLogin: true, forwarding: true },
        ports: [2222, 22],
        allowUsers: ['ops', 'deploy@10.0.0.0/8'],
      }),
  },
  {
    file: 'jail.local',
    judge: 'fail2ban',
    path: '/etc/fail2ban/jail.d/ferry-harden.local',
    render: () => renderJails({ f2b: HARDEN.fail2ban!, sshPorts: [2222], nginx: true, docker: true }),
  },
  {
    file: 'jail-plain.local',
    judge: 'fail2ban',
    path: '/etc/fail2ban/jail.d/ferry-harden.local',
    render: () =>
      renderJails({ f2b: { ...HARDEN.fail2ban!, ignore: [] }, sshPorts: [22], nginx: false, docker: false }),
  },
  {
    file: 'ferry-harden-docker.service',
    judge: 'systemd',
    path: '/etc/systemd/system/ferry-harden-docker.service',
    render: () => renderDockerUserUnit(HARDEN.firewall!.allow),
  },
  {
    file: 'ferry-harden-switch.service',
    judge: 'systemd',
    path: '/etc/systemd/system/ferry-harden-switch.service',
    render: renderSwitchService,
  },
  {
    file: 'ferry-harden-switch.timer',
    judge: 'systemd',
    path: '/etc/systemd/system/ferry-harden-switch.timer',
    render: () => renderSwitchTimer(120),
  },
  { file: 'restore.sh', judge: 'sh', path: '/var/lib/ferry/harden/switch/restore.sh', render: renderRestoreScript },
  {
    file: 'sysctl.conf',
    judge: 'sysctl',
    path: '/etc/sysctl.d/90-ferry-harden.conf',
    render: () => renderSysctl(HARDEN.sysctl),
  },
  {
    file: 'journald.conf',
    judge: 'journald',
    path: '/etc/systemd/journald.conf.d/90-ferry-harden.conf',
    render: () => renderJournald(HARDEN.journald!.maxUseBytes),
  },
  {
    file: 'upgrades.conf',
    judge: 'apt',
    path: '/etc/apt/apt.conf.d/21ferry-harden-upgrades',
    render: () => renderUpgrades({ reboot: true, rebootTime: '03:30' }),
  },
  {
    file: 'daemon.json',
    judge: 'docker',
    path: '/etc/docker/daemon.json',
    render: () =>
      mergeDaemonJson(
        '{"registry-mirrors": ["https://mirror.example"], "log-opts": {"labels": "app"}}',
        HARDEN.docker!,
      ),
  },
];
