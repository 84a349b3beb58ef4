// What tests need from the test bed: where its files are, and its hosts once it is up.
// `npm run testbed:up` writes .testbed/hosts.json; `npm run testbed:down` removes it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIR = join(ROOT, '.testbed');
/**
 * Names of this test bed's hosts, network and volumes: `TESTBED_PREFIX` (default `ferry-tb-`)
 * lets a second test bed run beside the first (images are shared, built once).
 */
export const PREFIX = process.env.TESTBED_PREFIX ?? 'ferry-tb-';
if (!/^[a-z][a-z0-9-]*-$/.test(PREFIX))
  throw new Error(`TESTBED_PREFIX must be lower-case letters, digits and dashes, ending in a dash, not "${PREFIX}"`);
export const NETWORK = `${PREFIX}net`;
export const LABEL = 'ferry-tb=1';

export const paths = {
  dir: DIR,
  key: join(DIR, 'id_ed25519'),
  knownHosts: join(DIR, 'known_hosts'),
  fleet: join(DIR, 'ferry.yml'),
  hostsJson: join(DIR, 'hosts.json'),
  sshConfig: join(DIR, 'ssh_config'),
  images: join(DIR, 'images'),
  appsTar: join(DIR, 'images', 'ferry-tb-apps.tar'),
  replacedImages: join(DIR, 'images', 'replaced-ids'),
  dockerdLog: join(DIR, 'dockerd.log'),
  lock: join(DIR, 'lock'),
};

/** Whether `npm run testbed:up` has written .testbed/hosts.json. */
export function testbedIsUp() {
  return existsSync(paths.hostsJson);
}

/** The whole of .testbed/hosts.json: hosts, key, known_hosts, fleet file, app images. */
export function testbedInfo() {
  if (!testbedIsUp()) {
    throw new Error(`the test bed is not up (no ${paths.hostsJson}): run \`npm run testbed:up\` first`);
  }
  return JSON.parse(readFileSync(paths.hostsJson, 'utf8'));
}

/**
 * The test bed's hosts: [{ name, host, user, port, container, os, identityFile, knownHostsFile }],
 * all of them or those of one `os` ('debian-13', 'debian-12'). Throws a clear error when the
 * test bed is not up.
 */
export function testbedHosts(os) {
  const info = testbedInfo();
  return info.hosts
    .filter((h) => os === undefined || h.os === os)
    .map((h) => ({ ...h, identityFile: info.identityFile, knownHostsFile: info.knownHostsFile }));
}

/** Ferry's SSH target for a test bed host (src/transport/ssh/target.ts), with the run's key and known_hosts. */
export function sshTarget(host) {
  return {
    name: host.name,
    host: host.host,
    port: host.port,
    user: host.user,
    identityFiles: [host.identityFile],
    knownHostsFiles: [host.knownHostsFile],
  };
}

/** ssh arguments that reach a test bed host as `user` (default: the host's user, root). */
export function sshArgs(host, user = host.user) {
  return [
    '-i',
    host.identityFile,
    '-o',
    `UserKnownHostsFile=${host.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(host.port),
    `${user}@${host.host}`,
  ];
}
