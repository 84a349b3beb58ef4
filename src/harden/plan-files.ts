/**
 * The configuration files of a hardened server, each a step that writes it whole, has its
 * tool judge it and makes it take effect: Docker's published ports closed, fail2ban, kernel
 * settings, the journal's cap, unattended upgrades, Docker's daemon.json.
 */
import type { Step, StepContext } from '../engine/step.js';
import type { ServerDef } from '../model/fleet.js';
import { cmd, script } from '../shell/command.js';
import type { OpenPorts } from './firewall-rules.js';
import { DOCKER_USER_UNIT, DOCKER_USER_UNIT_PATH, renderDockerUserUnit } from './render/docker-user.js';
import { JAIL_PATH, renderJails } from './render/fail2ban.js';
import {
  JOURNALD_PATH,
  SYSCTL_PATH,
  UPGRADES_PATH,
  mergeDaemonJson,
  renderJournald,
  renderSysctl,
  renderUpgrades,
} from './render/host-files.js';
import { readAccessState } from './steps/access-state.js';
import { configFileStep, type ConfigFileOptions } from './steps/config-file.js';

export const DAEMON_JSON = '/etc/docker/daemon.json';

type FileSpec = Omit<ConfigFileOptions, 'id' | 'host' | 'sudo' | 'dependsOn'>;

export function fileSteps(o: { server: ServerDef; ports: OpenPorts; dependsOn: string[] }): Step[] {
  const { server, ports } = o;
  const h = server.harden!;
  const name = server.name;
  const sudo = server.sudo ?? false;
  const specs: [string, FileSpec][] = [];
  const file = (what: string, spec: FileSpec) => specs.push([what, spec]);
  if (h.firewall)
    file('docker-ports', {
      path: DOCKER_USER_UNIT_PATH,
      content: renderDockerUserUnit(ports.containers),
      title: `published container ports: only ${ports.containers.map((a) => a.port).join(', ') || 'none'} from other hosts`,
      purpose: `A unit that keeps a chain in DOCKER-USER dropping new connections to published container ports that ferry.yml does not open (Docker's DNAT bypasses ufw), rebuilt whenever Docker starts.`,
      activate: script(
        'systemctl daemon-reload && systemctl enable "$1" >/dev/null 2>&1 && if systemctl is-active --quiet docker; then systemctl restart "$1"; fi',
        DOCKER_USER_UNIT,
      ),
      invalidCode: 'ufw-failed',
      failedCode: 'ufw-failed',
      hint: `Check \`systemctl status ${DOCKER_USER_UNIT}\` and \`iptables -S DOCKER-USER\` on ${name}.`,
    });
  if (h.fail2ban) {
    const f2b = h.fail2ban;
    file('fail2ban', {
      path: JAIL_PATH,
      content: async (ctx: StepContext) => {
        const state = await readAccessState(ctx, sudo);
        const seen = await ctx.transport.exec(
          script(
            'test -e /var/log/nginx/error.log && test -e /var/log/nginx/access.log && echo nginx; command -v docker >/dev/null && echo docker; true',
          ),
          { sudo },
        );
        const port = h.ssh?.port ?? state.ports[0] ?? 22;
        return renderJails({
          f2b: { ...f2b, ignore: [...new Set([...f2b.ignore, ...ports.sshProbers])] },
          sshPorts: [port],
          nginx: f2b.nginx ?? /^nginx$/m.test(seen.stdout),
          docker: /^docker$/m.test(seen.stdout),
        });
      },
      title: 'fail2ban jails (sshd on its real port, nginx, bans before Docker)',
      purpose: `fail2ban with the systemd backend: an sshd jail on the port sshd uses, nginx jails when nginx runs, bans dropped in DOCKER-USER too.${ports.sshProbers.length > 0 ? ` The SSH probes of the monitoring and of the fleet's other servers are not counted (ignoreip ${ports.sshProbers.join(' ')}).` : ''}`,
      validate: cmd('fail2ban-client', '--test'),
      activate: script('systemctl enable fail2ban >/dev/null 2>&1; systemctl restart fail2ban'),
      invalidCode: 'fail2ban-config-invalid',
      failedCode: 'fail2ban-failed',
      hint: `Read \`fail2ban-client --test\` and \`journalctl -u fail2ban\` on ${name}.`,
    });
  }
  file('sysctl', {
    path: SYSCTL_PATH,
    content: renderSysctl(h.sysctl),
    title: 'kernel settings (ip_forward kept on for Docker)',
    purpose: 'Kernel settings, applied from this file only (`sysctl -p FILE`), and again at every boot.',
    activate: cmd('sysctl', '-q', '-p', SYSCTL_PATH),
    invalidCode: 'sysctl-failed',
    failedCode: 'sysctl-failed',
    hint: `A key the kernel of ${name} does not know, or a value it refuses: fix harden.sysctl.`,
  });
  if (h.journald)
    file('journald', {
      path: JOURNALD_PATH,
      content: renderJournald(h.journald.maxUseBytes),
      title: 'journal size cap',
      purpose: "A cap on the journal's size on disk.",
      activate: cmd('systemctl', 'restart', 'systemd-journald'),
      invalidCode: 'journald-failed',
      failedCode: 'journald-failed',
      hint: `Read \`journalctl -u systemd-journald\` on ${name}.`,
    });
  if (h.upgrades)
    file('upgrades', {
      path: UPGRADES_PATH,
      content: renderUpgrades(h.upgrades),
      title: `unattended security upgrades${h.upgrades.reboot ? `, reboot at ${h.upgrades.rebootTime}` : ', no reboot'}`,
      purpose:
        'Daily package lists and unattended security upgrades (unattended-upgrades, run by apt-daily-upgrade.timer).',
      validate: script('apt-config dump >/dev/null'),
      invalidCode: 'apt-config-invalid',
      failedCode: 'apt-config-invalid',
      hint: `Read \`apt-config dump\` on ${name}.`,
    });
  if (h.docker) {
    const d = h.docker;
    file('docker-daemon', {
      path: DAEMON_JSON,
      content: async (ctx: StepContext) => {
        const r = await ctx.transport.exec(cmd('cat', DAEMON_JSON), { sudo });
        return mergeDaemonJson(r.code === 0 ? r.stdout : null, d);
      },
      title: `Docker daemon.json: logs ${d.logMaxSize} x ${d.logMaxFiles}${d.liveRestore ? ', live-restore' : ''}`,
      purpose: `Docker's daemon.json with log rotation and live-restore, every other key kept. Docker reloads (live-restore takes effect), then restarts so that new containers get the log settings${d.liveRestore ? '; with live-restore on, running containers keep running' : ' (only when no container runs)'}.`,
      validate: script(
        'if dockerd --help 2>&1 | grep -q -- --validate; then dockerd --validate --config-file "$1" >/dev/null; fi',
        DAEMON_JSON,
      ),
      activate: d.liveRestore
        ? script('command -v dockerd >/dev/null || exit 0; systemctl reload docker && systemctl restart docker')
        : script(
            'command -v dockerd >/dev/null || exit 0; systemctl reload docker; [ -n "$(docker ps -q)" ] || systemctl restart docker',
          ),
      invalidCode: 'docker-config-invalid',
      failedCode: 'docker-restart-failed',
      hint: `Read \`journalctl -u docker\` on ${name}.`,
    });
  }
  return specs.map(([what, spec]) =>
    configFileStep({ id: `harden/${name}/${what}`, host: name, sudo, dependsOn: [...o.dependsOn], ...spec }),
  );
}
