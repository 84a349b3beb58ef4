// npm run testbed:up — brings up a fleet of fake VPS hosts on this machine for Ferry's
// end-to-end tests: installs what is missing, starts a Docker engine, builds the images
// that are not cached, starts TESTBED_HOSTS hosts (6: Debian 13, the last one Debian 12) and writes .testbed/ferry.yml,
// hosts.json, known_hosts and ssh_config. TESTBED_LOAD_IMAGES=1 also loads the app images
// into every host's Docker. Running it again reuses what runs.
import { rmSync } from 'node:fs';
import { paths } from './lib.mjs';
import { ensurePackages } from './packages.mjs';
import { ensureEngine } from './engine.mjs';
import { ensureImages, ensureAppTar } from './images.mjs';
import { ensureHosts, hostCount, loadAppImages } from './hosts.mjs';
import { writeFleetFiles } from './fleet.mjs';
import { withLock } from './lock.mjs';
import { main, log, seconds } from './run.mjs';

await main(() =>
  withLock(async () => {
    const started = Date.now();
    const n = hostCount();
    rmSync(paths.hostsJson, { force: true }); // tests see the test bed as up only once this run succeeds
    await ensurePackages();
    await ensureEngine();
    const { hashes } = await ensureImages();
    await ensureAppTar(hashes);
    const hosts = await ensureHosts(n);
    writeFleetFiles(hosts);
    log('wrote .testbed/ferry.yml, hosts.json, known_hosts, ssh_config');
    if (process.env.TESTBED_LOAD_IMAGES === '1') await loadAppImages(hosts, hashes);
    log(`up in ${seconds(Date.now() - started)}: ${hosts.map((h) => `${h.name}=${h.host}`).join(' ')}`);
    log('try: ssh -F .testbed/ssh_config host1   or   node bin/ferry.js inventory -f .testbed/ferry.yml');
  }),
);
