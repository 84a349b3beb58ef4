// Builds the test bed's images when missing, cached by a hash of their inputs (the files in
// images/NAME/, the parent's hash, and for the base the apt mirror and settings), and saves
// the app images into .testbed/images/ferry-tb-apps.tar for hosts that have no registry.
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths } from './lib.mjs';
import { debianMirror } from './mirror.mjs';
import { run, must, log, seconds, lastLines, indent, TestbedError } from './run.mjs';

const HERE = fileURLToPath(new URL('./images/', import.meta.url));
export const INPUTS_LABEL = 'ferry-tb.inputs';
const LOGS = join(paths.dir, 'logs');

/** ferry-tb-COMPONENT: ferry-tb-monitoring whose ENTRYPOINT is `entry`, with its data directory `data` if any. */
function monitoringImage(component, entry, data) {
  return {
    name: `ferry-tb-${component}`,
    dir: 'monitoring-component',
    parent: 'ferry-tb-monitoring',
    args: data ? { ENTRY: entry, DATA: data } : { ENTRY: entry },
    tagged: true,
  };
}

/**
 * Every image, parents first. `app` images go into the tar that hosts load; they and the
 * `tagged` ones (ferry-tb-nginx, the monitoring ones: Ferry pushes them in the tests that
 * use them) are tagged :APP_TAG besides :latest. The monitoring images stand in for
 * the upstream ones (prom/prometheus, ...; the test bed has no registry): Ferry pushes
 * them to hosts itself, so they are not in the tar. Hosts boot Debian 13 (Docker 26,
 * Compose v2 as the `docker compose` plugin), as servers of 2026 do; one host boots
 * Debian 12 (Compose v1), so that both flavours keep working. In Debian 13 the docker CLI
 * is a package of its own (only recommended by docker.io).
 */
export const IMAGES = [
  { name: 'ferry-tb-base', dir: 'base', suite: 'bookworm' },
  { name: 'ferry-tb-base-trixie', dir: 'base', suite: 'trixie' },
  { name: 'ferry-tb-host', dir: 'host', parent: 'ferry-tb-base-trixie', args: { PACKAGES: 'docker-cli' } },
  { name: 'ferry-tb-host-bookworm', dir: 'host', parent: 'ferry-tb-base' },
  { name: 'ferry-tb-host-harden', dir: 'host-harden', parent: 'ferry-tb-host' },
  { name: 'ferry-tb-app', dir: 'app', parent: 'ferry-tb-base', app: true },
  { name: 'ferry-tb-worker', dir: 'worker', parent: 'ferry-tb-app', app: true },
  { name: 'ferry-tb-postgres', dir: 'postgres', parent: 'ferry-tb-base', app: true },
  { name: 'ferry-tb-redis', dir: 'redis', parent: 'ferry-tb-base', app: true },
  { name: 'ferry-tb-mariadb', dir: 'mariadb', parent: 'ferry-tb-base', app: true },
  { name: 'ferry-tb-nginx', dir: 'nginx', parent: 'ferry-tb-base', tagged: true },
  { name: 'ferry-tb-monitoring', dir: 'monitoring', parent: 'ferry-tb-base-trixie' },
  monitoringImage('prometheus', '/usr/bin/prometheus', '/prometheus'),
  monitoringImage('alertmanager', '/usr/bin/prometheus-alertmanager', '/alertmanager'),
  monitoringImage('node-exporter', '/usr/bin/prometheus-node-exporter'),
  monitoringImage('blackbox-exporter', '/usr/bin/prometheus-blackbox-exporter'),
  monitoringImage('postgres-exporter', '/usr/bin/prometheus-postgres-exporter'),
  monitoringImage('redis-exporter', '/usr/bin/prometheus-redis-exporter'),
  monitoringImage('nginx-exporter', '/usr/bin/prometheus-nginx-exporter'),
  monitoringImage('mysqld-exporter', '/usr/bin/prometheus-mysqld-exporter'),
];

/** The operating systems a host can boot, by the image it runs. */
export const HOST_IMAGES = {
  'debian-13': 'ferry-tb-host:latest',
  'debian-12': 'ferry-tb-host-bookworm:latest',
};
/** What fresh hosts boot (scripts/testbed/fresh.mjs): Debian 13 with what hardening installs. */
export const FRESH_IMAGE = 'ferry-tb-host-harden:latest';
/** App and `tagged` images are tagged :1 as well, so that stacks and fleet files can name a fixed tag. */
export const APP_TAG = '1';

function filesOf(dir) {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesOf(join(dir, e.name)).map((f) => join(e.name, f)) : [e.name]))
    .sort();
}

function inputsHash(image, parentHash, extra) {
  const h = createHash('sha256');
  h.update(`${image.name}\0${parentHash ?? ''}\0${extra ?? ''}\0`);
  const dir = join(HERE, image.dir);
  for (const f of filesOf(dir))
    h.update(`${f}\0`)
      .update(readFileSync(join(dir, f)))
      .update('\0');
  return h.digest('hex').slice(0, 24);
}

/** The apt settings of this machine that the images need too (snapshot mirrors: no expiry). */
async function aptConf() {
  const r = await run('apt-config', ['dump']);
  return (
    r.stdout
      .split('\n')
      .filter((l) => /^Acquire::(Check-Valid-Until|Check-Date) /.test(l))
      .join('\n') + '\n'
  );
}

async function currentImage(ref) {
  const r = await run('docker', [
    'image',
    'inspect',
    '--format',
    `{{.Id}} {{index .Config.Labels "${INPUTS_LABEL}"}}`,
    ref,
  ]);
  if (r.code !== 0) return undefined;
  const [id, inputs] = r.stdout.trim().split(' ');
  return { id, inputs };
}

async function buildOne(image, hash, bases) {
  const ref = `${image.name}:latest`;
  const old = await currentImage(ref);
  if (old?.inputs === hash) return { built: false };
  mkdirSync(LOGS, { recursive: true });
  const logFile = join(LOGS, `build-${image.name}.log`);
  const logTo = createWriteStream(logFile);
  const started = Date.now();
  log(`images: building ${image.name} (inputs ${hash}), log in .testbed/logs/build-${image.name}.log`);
  let r;
  if (image.dir === 'base') {
    const base = bases[image.suite];
    const work = join(paths.dir, 'build', image.name);
    mkdirSync(join(paths.dir, 'build'), { recursive: true });
    const sourcesFile = join(paths.dir, 'build', `${image.name}.sources.list`);
    const aptFile = join(paths.dir, 'build', `${image.name}.apt.conf`);
    writeFileSync(sourcesFile, base.sourcesList);
    writeFileSync(aptFile, base.aptConf);
    r = await run(
      'bash',
      [
        join(HERE, 'base', 'rootfs.sh'),
        work,
        ref,
        base.suite,
        base.mirror,
        sourcesFile,
        aptFile,
        `${INPUTS_LABEL}=${hash}`,
      ],
      { logTo },
    );
    for (const f of [sourcesFile, aptFile]) rmSync(f, { force: true });
  } else {
    const tags = image.app || image.tagged ? ['-t', ref, '-t', `${image.name}:${APP_TAG}`] : ['-t', ref];
    r = await run(
      'docker',
      [
        'build',
        '--build-arg',
        `BASE=${image.parent}:latest`,
        ...Object.entries(image.args ?? {}).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
        '--label',
        `${INPUTS_LABEL}=${hash}`,
        ...tags,
        join(HERE, image.dir),
      ],
      { env: { DOCKER_BUILDKIT: '0' }, logTo },
    );
  }
  await new Promise((res) => logTo.end(res));
  if (r.code !== 0) {
    throw new TestbedError(
      `building ${image.name} failed (exit ${r.code}); last lines of .testbed/logs/build-${image.name}.log:\n` +
        indent(lastLines(readFileSync(logFile, 'utf8').trim(), 15)),
    );
  }
  // The image this one replaces goes now, or at `down` when a running host still uses it.
  if (old && old.id !== (await currentImage(ref))?.id && (await run('docker', ['rmi', old.id])).code !== 0) {
    mkdirSync(paths.images, { recursive: true });
    appendFileSync(paths.replacedImages, `${old.id}\n`);
  }
  log(`images: built ${image.name} (${seconds(Date.now() - started)})`);
  return { built: true };
}

/** What an image's hash covers besides its files: a base's suite, mirror and apt settings; the build arguments. */
function extraInputs(image, bases) {
  if (image.dir === 'base') {
    const b = bases[image.suite];
    return `${b.suite}\0${b.mirror}\0${b.sourcesList}\0${b.aptConf}`;
  }
  return image.args ? JSON.stringify(image.args) : undefined;
}

/** Builds what is missing or out of date; returns { hashes, built: [names] }. */
export async function ensureImages() {
  const aptConfig = await aptConf();
  const bases = Object.fromEntries(
    [...new Set(IMAGES.filter((i) => i.suite).map((i) => i.suite))].map((suite) => [
      suite,
      { ...debianMirror(suite), aptConf: aptConfig },
    ]),
  );
  const hashes = {};
  for (const image of IMAGES)
    hashes[image.name] = inputsHash(image, image.parent && hashes[image.parent], extraInputs(image, bases));
  const built = [];
  const build = async (name) => {
    const image = IMAGES.find((i) => i.name === name);
    if ((await buildOne(image, hashes[name], bases)).built) built.push(name);
  };
  // Two lanes on two cores: the bases and host images; the app images one after another,
  // then (the shorter lane) the monitoring images once ferry-tb-base-trixie is there.
  await build('ferry-tb-base');
  const trixie = build('ferry-tb-base-trixie');
  const hostLane = async () => {
    await trixie;
    await build('ferry-tb-host');
    await build('ferry-tb-host-bookworm');
    await build('ferry-tb-host-harden');
  };
  const appLane = async () => {
    // The app images, and those Ferry pushes itself in the tests (tagged, not in the tar).
    for (const i of IMAGES.filter((x) => (x.app || x.tagged) && !x.dir.startsWith('monitoring'))) await build(i.name);
    await trixie;
    for (const i of IMAGES.filter((x) => x.dir.startsWith('monitoring'))) await build(i.name);
  };
  await Promise.all([hostLane(), appLane()]);
  const cached = IMAGES.map((i) => i.name).filter((n) => !built.includes(n));
  if (cached.length) log(`images: cached ${cached.join(', ')}`);
  return { hashes, built };
}

/** App image references saved in the tar. */
export function appImageRefs() {
  return IMAGES.filter((i) => i.app).flatMap((i) => [`${i.name}:latest`, `${i.name}:${APP_TAG}`]);
}

/** Saves the app images into .testbed/images/ferry-tb-apps.tar unless it is up to date. */
export async function ensureAppTar(hashes) {
  const want =
    IMAGES.filter((i) => i.app)
      .map((i) => `${i.name}=${hashes[i.name]}`)
      .join('\n') + '\n';
  const stamp = `${paths.appsTar}.inputs`;
  if (existsSync(paths.appsTar) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) {
    log('images: .testbed/images/ferry-tb-apps.tar is up to date');
    return;
  }
  const started = Date.now();
  mkdirSync(paths.images, { recursive: true });
  const tmp = `${paths.appsTar}.tmp`;
  await must('docker', ['save', '-o', tmp, ...appImageRefs()], { what: 'docker save of the app images' });
  renameSync(tmp, paths.appsTar);
  writeFileSync(stamp, want);
  log(
    `images: saved ${appImageRefs().join(' ')} to .testbed/images/ferry-tb-apps.tar (${seconds(Date.now() - started)})`,
  );
}
