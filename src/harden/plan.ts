/**
 * The steps that harden one server (`harden` in ferry.yml), in order: packages, the admin
 * user, sshd and ufw under the dead man's switch (arm, change, confirm), Docker's published
 * ports closed, fail2ban, kernel settings, the journal's cap, unattended upgrades, Docker's
 * daemon.json, swap, time. Each is checked, applied, verified and undone like any step.
 */
import type { Step } from '../engine/step.js';
import type { ServerDef } from '../model/fleet.js';
import type { LoadedFleet } from '../model/loaded.js';
import { adminKeys, type Login } from './access.js';
import { openPorts } from './firewall-rules.js';
import type { Prover } from './prove.js';
import { fileSteps } from './plan-files.js';
import { accessStep } from './steps/access.js';
import { adminStep } from './steps/admin.js';
import { packagesStep } from './steps/packages.js';
import { swapStep } from './steps/swap.js';
import { armStep, confirmStep } from './steps/switch.js';
import { timeStep } from './steps/time.js';

export interface HardenInput {
  loaded: LoadedFleet;
  server: ServerDef;
  login: Login;
  prove: Prover;
}

export const hardenId = (server: string, what: string): string => `harden/${server}/${what}`;

/** The packages a server's `harden` uses. */
function packagesOf(s: ServerDef): string[] {
  const h = s.harden!;
  return [
    ...(h.firewall ? ['ufw', 'iptables'] : []),
    ...(h.fail2ban ? ['fail2ban', 'python3-systemd'] : []),
    ...(h.upgrades ? ['unattended-upgrades'] : []),
    ...(h.timeSync ? ['systemd-timesyncd'] : []),
  ];
}

export function hardenSteps(input: HardenInput): Step[] {
  const { server, login } = input;
  const h = server.harden!;
  const name = server.name;
  const sudo = server.sudo ?? false;
  const id = (what: string) => hardenId(name, what);
  const packages = packagesOf(server);
  const steps: Step[] = [];
  const base: string[] = [];
  if (packages.length > 0) {
    steps.push(packagesStep({ id: id('packages'), server: name, packages, sudo }));
    base.push(id('packages'));
  }
  if (h.admin) {
    steps.push(
      adminStep({
        id: id('admin'),
        server: name,
        user: h.admin.user,
        keys: adminKeys(h, login),
        sudo,
        dependsOn: [...base],
      }),
    );
    base.push(id('admin'));
  }
  const ports = openPorts(input.loaded, server);
  let access = base;
  if (h.ssh || h.firewall) {
    const ids = { arm: id('switch-arm'), change: id('access'), confirm: id('switch-confirm') };
    const o = {
      server: name,
      harden: h,
      login,
      extraRules: ports.host,
      sudo,
      prove: input.prove,
      ids,
      dependsOn: [...base],
    };
    steps.push(armStep(o), accessStep(o), confirmStep(o));
    access = [ids.confirm];
  }
  steps.push(...fileSteps({ server, ports, dependsOn: access }));
  if (h.swapBytes !== undefined)
    steps.push(swapStep({ id: id('swap'), server: name, bytes: h.swapBytes, sudo, dependsOn: [...base] }));
  if (h.timeSync || h.timezone !== undefined)
    steps.push(
      timeStep({
        id: id('time'),
        server: name,
        sync: h.timeSync,
        sudo,
        dependsOn: [...base],
        ...(h.timezone ? { zone: h.timezone } : {}),
      }),
    );
  return steps;
}
