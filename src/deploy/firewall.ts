/**
 * The firewall in front of a placed service: its port is published on the server's
 * private address only, and only the stack's server may connect to it.
 *
 * Docker publishes ports by DNAT, so packets to a container never cross the INPUT chain
 * that ufw filters: a ufw rule alone does not restrict a published port. The rule that
 * does is in DOCKER-USER, the chain Docker keeps for its users ahead of its own: drop
 * TCP whose original destination was ADDRESS:PORT unless it comes from the stack's
 * server. Only packets of the original direction: the chain sees the container's
 * replies too, which come from the container's address. A systemd unit puts it back whenever Docker (re)starts, as after a reboot.
 * When ufw is installed, the same allowance is added there too, so that `ufw status`
 * tells the truth about who may connect.
 *
 * Pure: the rule, the unit's text and the ufw command.
 */
import { cmd, type Command } from '../shell/command.js';
import { dockerBoundUnit } from '../render/docker-unit.js';
import { ufw } from '../harden/render/ufw.js';

/** A port only one address may reach: a placed service, or an exporter open to the monitoring server. */
export interface Guard {
  /** Names the rule, its unit and its ufw comment, with the stack. */
  service: string;
  /** The address the port listens or is published on. */
  address: string;
  port: number;
  /** The only address let in. */
  allowFrom: string;
  /** Listens on the host's own network (the INPUT chain) rather than published by Docker (DOCKER-USER). */
  onHost?: boolean;
  /** Containers of this server (on its Docker bridges) are let in too: the monitoring server's own Prometheus. */
  localBridges?: boolean;
}

export const unitName = (stack: string, service: string): string =>
  `ferry-firewall-${stack}-${service.replace(/[^A-Za-z0-9_-]/g, '_')}.service`;
export const unitPath = (stack: string, service: string): string => `/etc/systemd/system/${unitName(stack, service)}`;
const comment = (stack: string, service: string): string => `ferry-${stack}-${service}`;

/** The drop rule (in DOCKER-USER, or INPUT for a port on the host's network), for -I, -C and -D. */
export function dropRule(stack: string, p: Guard): string[] {
  return [
    p.onHost ? 'INPUT' : 'DOCKER-USER',
    '-p',
    'tcp',
    '-m',
    'conntrack',
    '--ctorigdst',
    p.address,
    '--ctorigdstport',
    String(p.port),
    '--ctdir',
    'ORIGINAL',
    '!',
    '-s',
    p.allowFrom,
    ...(p.localBridges ? ['!', '-i', 'br-+'] : []),
    '-m',
    'comment',
    '--comment',
    comment(stack, p.service),
    '-j',
    'DROP',
  ];
}

export const ruleCommand = (stack: string, p: Guard, op: '-I' | '-C' | '-D'): Command =>
  cmd('iptables', '-w', op, ...dropRule(stack, p));

export function unitText(stack: string, p: Guard): string {
  const rule = dropRule(stack, p).join(' ');
  return dockerBoundUnit({
    comment: `Written by Ferry: only ${p.allowFrom}${p.localBridges ? " and this server's containers" : ''} reach${p.localBridges ? '' : 'es'} ${stack}/${p.service} here.`,
    description: `Ferry: only ${p.allowFrom} reaches ${stack}/${p.service} on ${p.address}:${p.port}`,
    service: [
      `ExecStartPre=-iptables -w -D ${rule}`,
      `ExecStart=iptables -w -I ${rule}`,
      `ExecStop=-iptables -w -D ${rule}`,
    ],
  });
}

/**
 * Docker's default address pools. A container that connects to a port its own server
 * publishes is not DNATed like the rest (Docker returns bridge traffic from its DNAT
 * chain): it reaches docker-proxy through INPUT, where ufw, which denies what it does not
 * allow, must let these in. That is how the monitoring server's Prometheus reaches its own
 * exporters, on the host's network or published alike.
 */
export const DOCKER_POOLS = ['172.16.0.0/12', '192.168.0.0/16'];

/** Who ufw lets in: the one address, and with `localBridges` the server's own containers. */
export const ufwSources = (p: Guard): string[] => [p.allowFrom, ...(p.localBridges ? DOCKER_POOLS : [])];

/** `ufw allow proto tcp from SOURCE to ADDRESS port PORT`, or its `delete`. */
export function ufwCommand(stack: string, p: Guard, from: string, del = false): Command {
  return ufw(
    ...(del ? ['delete'] : []),
    'allow',
    'proto',
    'tcp',
    'from',
    from,
    'to',
    p.address,
    'port',
    String(p.port),
    'comment',
    `ferry ${stack}/${p.service}`,
  );
}

/** The line `ufw show added` prints for the rule from `from`. */
export const ufwAddedLine = (stack: string, p: Guard, from: string): string =>
  `ufw allow from ${from} to ${p.address} port ${p.port} proto tcp comment 'ferry ${stack}/${p.service}'`;
