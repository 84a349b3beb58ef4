// npm run testbed:down [-- --images] — removes exactly what testbed:up created: containers
// PREFIXhost* (ferry-tb-host*), the network PREFIXnet, the volumes PREFIXhost*-docker and the run
// files in .testbed/. Built images stay as a cache unless --images is given. The Docker
// engine is left running.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { NETWORK, PREFIX, paths } from './lib.mjs';
import { withLock } from './lock.mjs';
import { main, run, must, log, seconds } from './run.mjs';

const withImages = process.argv.includes('--images');
const HOST = new RegExp(`^${PREFIX}(host\\d+|fresh-[a-z0-9-]+)$`);
const VOLUME = new RegExp(`^${PREFIX}(host\\d+|fresh-[a-z0-9-]+)-docker$`);

const lines = (r) =>
  r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

async function removeDockerThings() {
  const byLabel = lines(await run('docker', ['ps', '-a', '--filter', 'label=ferry-tb=1', '--format', '{{.Names}}']));
  const byName = lines(await run('docker', ['ps', '-a', '--filter', `name=${PREFIX}`, '--format', '{{.Names}}']));
  const containers = [
    ...new Set([...byLabel.filter((n) => n.startsWith(PREFIX)), ...byName.filter((n) => HOST.test(n))]),
  ];
  if (containers.length) {
    await must('docker', ['rm', '-f', '-v', ...containers], { what: 'removing the hosts' });
    log(`down: removed containers ${containers.join(', ')}`);
  }
  if ((await run('docker', ['network', 'inspect', NETWORK])).code === 0) {
    await must('docker', ['network', 'rm', NETWORK], { what: `removing network ${NETWORK}` });
    log(`down: removed network ${NETWORK}`);
  }
  const volumes = lines(await run('docker', ['volume', 'ls', '-q', '--filter', `name=${PREFIX}`])).filter((v) =>
    VOLUME.test(v),
  );
  if (volumes.length) {
    await must('docker', ['volume', 'rm', ...volumes], { what: 'removing the host volumes' });
    log(`down: removed volumes ${volumes.join(', ')}`);
  }
  // Images that a rebuild replaced while a host still ran them (listed by up): no cache.
  if (existsSync(paths.replacedImages)) {
    const ids = [...new Set(readFileSync(paths.replacedImages, 'utf8').split('\n').filter(Boolean))];
    const gone = [];
    for (const id of ids)
      if ((await run('docker', ['rmi', id])).code === 0) gone.push(id.replace(/^sha256:/, '').slice(0, 12));
    rmSync(paths.replacedImages, { force: true });
    if (gone.length) log(`down: removed replaced images ${gone.join(', ')}`);
  }
  if (withImages) {
    const refs = lines(await run('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'])).filter((ref) =>
      ref.startsWith(PREFIX),
    );
    if (refs.length) {
      await must('docker', ['rmi', ...refs], { what: 'removing the images' });
      log(`down: removed images ${refs.join(', ')}`);
    }
  }
}

await main(() =>
  withLock(async () => {
    const started = Date.now();
    const engine = await run('docker', ['version', '--format', '{{.Server.Version}}']);
    if (engine.code === 0) await removeDockerThings();
    else log('down: no Docker engine answers, so there are no hosts to remove');
    const files = ['key', 'knownHosts', 'fleet', 'hostsJson', 'sshConfig'].map((k) => paths[k]);
    files.push(`${paths.key}.pub`, join(paths.dir, 'logs'), join(paths.dir, 'build'), join(paths.dir, 'fresh'));
    if (withImages) files.push(paths.images);
    const removed = files.filter((f) => existsSync(f));
    for (const f of removed) rmSync(f, { recursive: true, force: true });
    if (removed.length)
      log(`down: removed ${removed.map((f) => f.slice(paths.dir.length - '.testbed'.length)).join(', ')}`);
    if (!withImages)
      log('down: kept the built images ferry-tb-* and .testbed/images/ (cache; `-- --images` removes them)');
    if (engine.code === 0) log('down: the Docker engine is left running');
    log(`down in ${seconds(Date.now() - started)}`);
  }),
);
