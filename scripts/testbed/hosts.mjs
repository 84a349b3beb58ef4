// Starts (or reuses) the fake VPS hosts: containers of ferry-tb-host booting systemd, each
// with its own inner Docker engine on a volume, on the network ferry-tb-net.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { LABEL, NETWORK, PREFIX, paths } from './lib.mjs';
import { HOST_IMAGES, INPUTS_LABEL, appImageRefs } from './images.mjs';
import { run, must, log, seconds, waitFor, indent, TestbedError } from './run.mjs';

export const DEPLOY_USER = 'deploy';
const UNITS = ['ssh', 'docker', 'nginx'];
const FRESH = 'a test may have changed the host: `npm run testbed:down && npm run testbed:up` gives fresh ones';

/** What TESTBED.md found to boot systemd in a container here (--privileged fails). */
export function hostRunArgs(i, os) {
  return containerRunArgs(`${PREFIX}host${i}`, HOST_IMAGES[os]);
}

/** `docker run` arguments of a host container named `name` booting `image`. */
export function containerRunArgs(name, image) {
  return [
    'run',
    '-d',
    '--name',
    name,
    '--hostname',
    name,
    '--label',
    LABEL,
    '--network',
    NETWORK,
    '--cap-add',
    'ALL',
    '--cap-drop',
    'SYS_RESOURCE',
    '--security-opt',
    'seccomp=unconfined',
    '--security-opt',
    'apparmor=unconfined',
    '--security-opt',
    'systempaths=unconfined',
    '-v',
    '/sys/fs/cgroup:/sys/fs/cgroup:rw',
    '--tmpfs',
    '/run',
    '--tmpfs',
    '/run/lock',
    '-v',
    `${name}-docker:/var/lib/docker`,
    image,
  ];
}

export async function ensureNetwork() {
  if ((await run('docker', ['network', 'inspect', NETWORK])).code === 0) return;
  await must('docker', ['network', 'create', '--label', LABEL, NETWORK], { what: `creating network ${NETWORK}` });
  log(`hosts: created network ${NETWORK}`);
}

async function ensureKey() {
  if (existsSync(paths.key) && existsSync(`${paths.key}.pub`)) return false;
  await must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ferry-testbed', '-f', paths.key], {
    what: 'ssh-keygen',
  });
  return true;
}

async function containerState(name) {
  const r = await run('docker', ['inspect', '--format', '{{.State.Running}}', name]);
  return r.code !== 0 ? 'missing' : r.stdout.trim() === 'true' ? 'running' : 'stopped';
}

async function startHost(i, os) {
  const name = `${PREFIX}host${i}`;
  const state = await containerState(name);
  if (state === 'running') {
    const [mine, latest] = await Promise.all([
      run('docker', ['inspect', '--format', '{{.Image}}', name]),
      run('docker', ['image', 'inspect', '--format', '{{.Id}}', HOST_IMAGES[os]]),
    ]);
    const stale = mine.stdout.trim() !== latest.stdout.trim();
    return {
      name,
      did: stale ? 'reused (it runs an older host image: `npm run testbed:down` then up to renew it)' : 'reused',
    };
  }
  if (state === 'stopped') {
    await must('docker', ['start', name], { what: `docker start ${name}` });
    return { name, did: 'started again' };
  }
  await must('docker', ['volume', 'create', '--label', LABEL, `${name}-docker`], {
    what: `creating volume ${name}-docker`,
  });
  await must('docker', hostRunArgs(i, os), { what: `docker run ${name}` });
  return { name, did: 'created' };
}

export async function hostIp(name) {
  const r = await must('docker', [
    'inspect',
    '--format',
    `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`,
    name,
  ]);
  const ip = r.stdout.trim();
  if (!ip) throw new TestbedError(`${name} has no address on ${NETWORK}`);
  return ip;
}

export async function waitForUnits(name) {
  let last = '';
  const ok = await waitFor(
    async () => {
      const r = await run('docker', ['exec', name, 'systemctl', 'is-active', ...UNITS]);
      last = r.stdout.trim();
      return r.code === 0;
    },
    { timeoutMs: 180_000, intervalMs: 1000 },
  );
  if (!ok) {
    const states = last
      .split('\n')
      .map((s, k) => `${UNITS[k] ?? '?'}: ${s}`)
      .join(', ');
    const journal = await run('docker', [
      'exec',
      name,
      'journalctl',
      '-b',
      '-n',
      '15',
      '--no-pager',
      ...UNITS.flatMap((u) => ['-u', u]),
    ]);
    throw new TestbedError(
      `${name}: systemd units not active after 180 s (${states || 'no answer from systemctl'})` +
        (journal.stdout.trim() ? `\n  journal:\n${indent(journal.stdout.trim())}` : ''),
      `docker exec -it ${name} systemctl status ${UNITS.join(' ')}; ${FRESH}`,
    );
  }
}

/** Puts the run's public key in authorized_keys of root and deploy (replacing what was there). */
export async function installKey(name, pub) {
  const script = [
    'set -e',
    'install -d -m 700 /root/.ssh',
    'cat > /root/.ssh/authorized_keys',
    'chmod 600 /root/.ssh/authorized_keys',
    `install -d -m 700 -o ${DEPLOY_USER} -g ${DEPLOY_USER} /home/${DEPLOY_USER}/.ssh`,
    `install -m 600 -o ${DEPLOY_USER} -g ${DEPLOY_USER} /root/.ssh/authorized_keys /home/${DEPLOY_USER}/.ssh/authorized_keys`,
  ].join('\n');
  await must('docker', ['exec', '-i', name, 'sh', '-c', script], { input: pub, what: `installing the key on ${name}` });
}

export async function scanHostKey(name, ip) {
  const line = await waitFor(
    async () => {
      const r = await run('ssh-keyscan', ['-T', '3', '-t', 'ed25519', ip]);
      return r.stdout.split('\n').find((l) => l.startsWith(`${ip} ssh-ed25519 `));
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
  if (!line) throw new TestbedError(`${name}: sshd did not answer on ${ip}:22 within 60 s`, FRESH);
  return line;
}

async function checkLogin(name, ip, user, command) {
  const args = [
    '-i',
    paths.key,
    '-o',
    `UserKnownHostsFile=${paths.knownHosts}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    `${user}@${ip}`,
    command,
  ];
  await must('ssh', args, { what: `ssh ${user}@${ip} (${name}) ${command}`, hint: FRESH });
}

function wholeNumber(name, fallback, min, max) {
  const raw = process.env[name] ?? String(fallback);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new TestbedError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return n;
}

export function hostCount() {
  return wholeNumber('TESTBED_HOSTS', 6, 1, 50);
}

/**
 * The operating system of host `i` of `n`: Debian 13 (Compose v2), but for the last
 * TESTBED_DEBIAN12 hosts (1 unless set), Debian 12 (Compose v1).
 */
export function hostOs(i, n) {
  const old = Math.min(wholeNumber('TESTBED_DEBIAN12', 1, 0, 50), n);
  return i > n - old ? 'debian-12' : 'debian-13';
}

/** Hosts of an earlier up beyond TESTBED_HOSTS: kept, and named. */
async function extraHosts(n) {
  const r = await run('docker', ['ps', '-a', '--filter', `label=${LABEL}`, '--format', '{{.Names}}']);
  return r.stdout
    .split('\n')
    .filter((x) => new RegExp(`^${PREFIX}host(\\d+)$`).test(x) && Number(x.slice(`${PREFIX}host`.length)) > n);
}

/** Starts N hosts, installs the key, waits for systemd and sshd; returns [{ name, host, ... }]. */
export async function ensureHosts(n) {
  await ensureNetwork();
  if (await ensureKey()) log('hosts: generated a new key pair .testbed/id_ed25519');
  const pub = readFileSync(`${paths.key}.pub`, 'utf8');
  const started = Date.now();
  const ids = Array.from({ length: n }, (_, k) => k + 1);
  const containers = [];
  for (const i of ids) containers.push(await startHost(i, hostOs(i, n))); // one by one: host1 gets the first address
  const hosts = await Promise.all(
    ids.map(async (i, k) => {
      const { name, did } = containers[k];
      await installKey(name, pub);
      await waitForUnits(name);
      const ip = await hostIp(name);
      return { i, name, did, ip, hostKey: await scanHostKey(name, ip) };
    }),
  );
  writeFileSync(paths.knownHosts, hosts.map((h) => h.hostKey).join('\n') + '\n');
  await Promise.all(
    hosts.flatMap((h) => [
      checkLogin(h.name, h.ip, 'root', 'true'),
      checkLogin(h.name, h.ip, DEPLOY_USER, 'sudo -n true'),
    ]),
  );
  for (const h of hosts)
    log(
      `hosts: ${h.name} (${hostOs(h.i, n)}) ${h.did}, ${h.ip}: ${UNITS.join(', ')} active, ssh as root and ${DEPLOY_USER} works`,
    );
  log(`hosts: ${n} ready (${seconds(Date.now() - started)})`);
  const extra = await extraHosts(n);
  if (extra.length)
    log(
      `hosts: kept ${extra.join(', ')} from an earlier up (beyond TESTBED_HOSTS=${n}); \`npm run testbed:down\` removes them`,
    );
  return hosts.map((h) => ({
    name: `host${h.i}`,
    host: h.ip,
    user: 'root',
    port: 22,
    container: h.name,
    os: hostOs(h.i, n),
  }));
}

/** Whether a host's inner engine has every app image, built from the same inputs. */
async function hasAppImages(container, hashes) {
  const refs = appImageRefs();
  const r = await run('docker', [
    'exec',
    container,
    'docker',
    'image',
    'inspect',
    '--format',
    `{{index .Config.Labels "${INPUTS_LABEL}"}}`,
    ...refs,
  ]);
  const want = refs.map((ref) => hashes[ref.split(':')[0]]);
  return r.code === 0 && r.stdout.trim().split('\n').join() === want.join();
}

/** docker load of the app images tar into each host's inner engine, where not there yet. */
export async function loadAppImages(hosts, hashes) {
  const started = Date.now();
  const todo = [];
  for (const h of hosts) if (!(await hasAppImages(h.container, hashes))) todo.push(h.container);
  await Promise.all(
    todo.map((c) =>
      must('docker', ['exec', '-i', c, 'docker', 'load'], { inputFile: paths.appsTar, what: `docker load on ${c}` }),
    ),
  );
  const had = hosts.map((h) => h.container).filter((c) => !todo.includes(c));
  if (todo.length) log(`hosts: loaded the app images into ${todo.join(', ')} (${seconds(Date.now() - started)})`);
  if (had.length) log(`hosts: ${had.join(', ')} had the app images already`);
}
