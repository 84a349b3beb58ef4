// Fresh hosts for tests that change a host for good (hardening: sshd, the firewall): one
// container of its own per destructive case, named PREFIXfresh-NAME, booting Debian 13 with
// what hardening installs (FRESH_IMAGE), with the run's key, its own known_hosts in
// .testbed/fresh/NAME/, on the test bed's network.
// Other suites never meet it. `node scripts/testbed/fresh.mjs up NAME` and
// `node scripts/testbed/fresh.mjs down NAME` do the same by hand; `testbed:down` removes all.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LABEL, PREFIX, paths } from './lib.mjs';
import { FRESH_IMAGE, HOST_IMAGES } from './images.mjs';
import { containerRunArgs, ensureNetwork, hostIp, installKey, scanHostKey, waitForUnits } from './hosts.mjs';
import { main, must, run, log, seconds, TestbedError } from './run.mjs';

export const FRESH = `${PREFIX}fresh-`;

/**
 * Creates (or recreates) fresh host NAME; returns it as testbedHosts() returns hosts. `os`
 * `debian-12` boots the test bed's Debian 12 host (Compose v1) instead.
 */
export async function createFreshHost(name, os = 'debian-13') {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    throw new TestbedError(`a fresh host's name is lower-case letters, digits and dashes, not "${name}"`);
  const started = Date.now();
  const container = `${FRESH}${name}`;
  await removeFreshHost(name);
  await ensureNetwork();
  const pub = readFileSync(`${paths.key}.pub`, 'utf8');
  await must('docker', ['volume', 'create', '--label', LABEL, `${container}-docker`], {
    what: `creating volume ${container}-docker`,
  });
  const image = os === 'debian-13' ? FRESH_IMAGE : HOST_IMAGES[os];
  if (!image) throw new TestbedError(`a fresh host boots debian-13 or debian-12, not "${os}"`);
  await must('docker', containerRunArgs(container, image), { what: `docker run ${container}` });
  await installKey(container, pub);
  await waitForUnits(container);
  const ip = await hostIp(container);
  const dir = join(paths.dir, 'fresh', name);
  mkdirSync(dir, { recursive: true });
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, `${await scanHostKey(container, ip)}\n`);
  log(`fresh: ${container} at ${ip} in ${seconds(Date.now() - started)}`);
  return {
    name,
    host: ip,
    user: 'root',
    port: 22,
    container,
    os,
    identityFile: paths.key,
    knownHostsFile,
  };
}

/** Removes fresh host NAME (container, volume, files), if there. */
export async function removeFreshHost(name) {
  const container = `${FRESH}${name}`;
  await run('docker', ['rm', '-f', '-v', container]);
  await run('docker', ['volume', 'rm', `${container}-docker`]);
  rmSync(join(paths.dir, 'fresh', name), { recursive: true, force: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main(async () => {
    const [what, name] = process.argv.slice(2);
    if (what === 'up') console.log(JSON.stringify(await createFreshHost(name), null, 2));
    else if (what === 'down') await removeFreshHost(name);
    else throw new TestbedError('usage: node scripts/testbed/fresh.mjs up NAME | down NAME');
  });
}
