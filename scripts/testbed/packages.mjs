// Installs the Debian packages the test bed needs on this machine, when they are missing.
import { run, must, log, seconds, TestbedError } from './run.mjs';

/** What up needs: the engine, debootstrap (and its keyring), ssh, ssh-keygen, ssh-keyscan. */
export const MACHINE_PACKAGES = ['docker.io', 'debootstrap', 'debian-archive-keyring', 'openssh-client', 'iptables'];

async function installed(pkg) {
  const r = await run('dpkg-query', ['-W', '-f', '${Status}', pkg]);
  return r.code === 0 && r.stdout.trim() === 'install ok installed';
}

export async function ensurePackages(packages = MACHINE_PACKAGES) {
  const missing = [];
  for (const p of packages) if (!(await installed(p))) missing.push(p);
  if (missing.length === 0) {
    log(`packages: ${packages.join(', ')} already installed`);
    return;
  }
  if (process.getuid?.() !== 0) {
    throw new TestbedError(`packages ${missing.join(', ')} are missing and installing them needs root`);
  }
  const started = Date.now();
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  log(`packages: installing ${missing.join(', ')} (apt-get update first)`);
  await must('apt-get', ['update'], { env, what: 'apt-get update' });
  await must('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
    env,
    what: `apt-get install ${missing.join(' ')}`,
  });
  log(`packages: installed ${missing.join(', ')} (${seconds(Date.now() - started)})`);
}
