// Writes what tests and people use to reach the hosts: .testbed/ferry.yml (a Ferry fleet
// file), .testbed/hosts.json (read by lib.mjs) and .testbed/ssh_config (`ssh -F`).
import { writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { paths } from './lib.mjs';
import { DEPLOY_USER } from './hosts.mjs';
import { appImageRefs } from './images.mjs';

/** The hosts share this machine: each reports its memory and cores, as `free` inside does. */
export function fleetYaml(hosts) {
  const memory = `${Math.floor(totalmem() / 2 ** 20)}MiB`;
  const cpus = availableParallelism();
  const servers = hosts
    .map((h) => `  ${h.name}: { host: ${h.host}, user: ${h.user}, port: ${h.port}, memory: ${memory}, cpus: ${cpus} }`)
    .join('\n');
  return [
    "# The test bed's hosts, written by `npm run testbed:up` (removed by `npm run testbed:down`).",
    '# SSH: key .testbed/id_ed25519, host keys in .testbed/known_hosts.',
    'servers:',
    servers,
    'stacks: {}',
    '',
  ].join('\n');
}

export function sshConfig(hosts) {
  return hosts
    .map((h) =>
      [
        `Host ${h.name} ${h.container}`,
        `  HostName ${h.host}`,
        `  User ${h.user}`,
        `  Port ${h.port}`,
        `  IdentityFile ${paths.key}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${paths.knownHosts}`,
        '  StrictHostKeyChecking yes',
        '',
      ].join('\n'),
    )
    .join('\n');
}

export function writeFleetFiles(hosts) {
  writeFileSync(paths.fleet, fleetYaml(hosts));
  writeFileSync(paths.sshConfig, sshConfig(hosts));
  const info = {
    hosts,
    deployUser: DEPLOY_USER,
    identityFile: paths.key,
    knownHostsFile: paths.knownHosts,
    sshConfig: paths.sshConfig,
    fleetFile: paths.fleet,
    appImages: { tar: paths.appsTar, images: appImageRefs() },
  };
  writeFileSync(paths.hostsJson, JSON.stringify(info, null, 2) + '\n');
}
