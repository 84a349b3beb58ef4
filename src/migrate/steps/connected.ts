/**
 * The proof that the stack reaches its moved service: from inside every running
 * container of the services that stayed (their own network namespace, as the app's
 * connections leave), a TCP connection to the address and port the service is published
 * on opens. Together with the new release's health and HTTP checks, which passed before,
 * the app is shown connected through the firewall, not merely configured.
 */
import { cmd, render } from '../../shell/command.js';
import type { Step } from '../../engine/step.js';
import { projectContainers } from '../../deploy/containers.js';
import { containerPidCommand } from '../tunnel.js';
import type { Placed } from '../../deploy/split.js';

/** Opens a TCP connection to ADDRESS:PORT inside the network namespace of process PID (3 s at most). */
export const connectCommand = (pid: string, address: string, port: number) =>
  cmd('nsenter', '-t', pid, '-n', 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${address}/${port}`);

/** The step only connects: its check observes nothing. */
export type ConnectedObserved = Record<string, never>;

/** One connection attempt's bound (the `timeout 3` inside it, and the command's own). */
const CONNECT_TIMEOUT_MS = 10_000;

export function connectedStep(o: {
  id: string;
  host: string;
  stack: string;
  project: string;
  placed: Placed;
  services: string[];
  sudo: boolean;
  dependsOn: string[];
}): Step<ConnectedObserved> {
  const { placed: p } = o;
  const where = `${p.address}:${p.port}`;
  return {
    id: o.id,
    host: o.host,
    phase: 'verify',
    title: `${o.services.join(', ') || 'the stack'} on ${o.host} reach ${p.service} at ${where}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Show that every running container of ${o.services.join(', ')} reaches ${p.service} on ${p.server} (${where}) through its firewall.`,
      commands: [
        `${render(containerPidCommand('CONTAINER'))}, then ${render(connectCommand('PID', p.address, p.port))}`,
      ],
      verify: 'Every connection opens (each given 3 s).',
      undo: 'Nothing: it only connects.',
    }),
    async check() {
      return { needed: true, change: { summary: `connect to ${where} from ${o.services.join(', ')}` }, observed: {} };
    },
    async apply() {},
    async verify(ctx) {
      const containers = (await projectContainers(ctx.transport, o.project, o.sudo)).filter(
        (c) => o.services.includes(c.service) && c.status === 'running',
      );
      if (containers.length === 0)
        return { ok: false, message: `no running container of ${o.services.join(', ')} on ${o.host}` };
      const failed: string[] = [];
      for (const c of containers) {
        const pid = (await ctx.transport.exec(containerPidCommand(c.name), { sudo: o.sudo })).stdout.trim();
        const r =
          /^\d+$/.test(pid) && pid !== '0'
            ? await ctx.transport.exec(connectCommand(pid, p.address, p.port), {
                sudo: o.sudo,
                timeoutMs: CONNECT_TIMEOUT_MS,
              })
            : undefined;
        if (!r || r.code !== 0) failed.push(c.name);
      }
      return failed.length === 0
        ? { ok: true }
        : {
            ok: false,
            message: `${failed.join(', ')} cannot open a connection to ${where}: check ${p.server}'s firewall (iptables -S DOCKER-USER) and that ${o.host} reaches it by ${p.allowFrom}`,
          };
    },
    async rollback() {},
  };
}
