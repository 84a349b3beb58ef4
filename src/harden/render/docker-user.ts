/**
 * Docker's bypass of the firewall, closed, pure. Docker publishes a port by DNAT in
 * PREROUTING, so the packets to a container cross FORWARD, never INPUT where ufw filters:
 * `ufw deny` does not stop them. DOCKER-USER is the chain Docker leaves to its users,
 * ahead of its own. A chain of Ferry's, jumped to from there, drops every new connection
 * that Docker's DNAT sent to a container, unless it came from a container (a Docker bridge)
 * or its port is one the fleet file opens (from anywhere, or from the addresses named).
 * A systemd unit builds the chain whenever Docker (re)starts, as after a reboot.
 */
import type { FirewallAllow } from '../../model/harden.js';
import { dockerBoundUnit } from '../../render/docker-unit.js';

export const CHAIN = 'FERRY-HARDEN';
export const DOCKER_USER_UNIT = 'ferry-harden-docker.service';
export const DOCKER_USER_UNIT_PATH = `/etc/systemd/system/${DOCKER_USER_UNIT}`;
const IPT = '/usr/sbin/iptables -w';

/** The rules of the chain, in order, as `iptables -S CHAIN` prints them. */
export function chainRules(allow: FirewallAllow[]): string[] {
  const opened = allow.flatMap((a) => {
    const sources = a.from.length === 0 ? [undefined] : a.from;
    return sources.map(
      (s) =>
        `-A ${CHAIN} ${s ? `-s ${s.includes('/') ? s : `${s}/32`} ` : ''}-p ${a.proto} -m conntrack --ctorigdstport ${a.port} --ctdir ORIGINAL -j RETURN`,
    );
  });
  return [
    `-A ${CHAIN} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`,
    `-A ${CHAIN} -i docker0 -j RETURN`,
    `-A ${CHAIN} -i br-+ -j RETURN`,
    ...opened,
    `-A ${CHAIN} -m conntrack --ctstate DNAT --ctdir ORIGINAL -j DROP`,
  ];
}

export function renderDockerUserUnit(allow: FirewallAllow[]): string {
  return dockerBoundUnit({
    comment: 'Written by Ferry (harden): published container ports answer only where ferry.yml opens them.',
    description: 'Ferry: close Docker published ports that ferry.yml does not open',
    service: [
      `ExecStart=-${IPT} -N ${CHAIN}`,
      `ExecStart=${IPT} -F ${CHAIN}`,
      ...chainRules(allow).map((r) => `ExecStart=${IPT} ${r}`),
      `ExecStart=/bin/sh -c '${IPT} -C DOCKER-USER -j ${CHAIN} 2>/dev/null || ${IPT} -I DOCKER-USER -j ${CHAIN}'`,
      `ExecStop=-${IPT} -D DOCKER-USER -j ${CHAIN}`,
      `ExecStop=-${IPT} -F ${CHAIN}`,
      `ExecStop=-${IPT} -X ${CHAIN}`,
    ],
  });
}
