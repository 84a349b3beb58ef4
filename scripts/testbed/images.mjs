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

/** Every image, parents first. `app` images go into the tar that hosts load. */
export const IMAGES = [
  { name: 'ferry-tb-base', dir: 'base' },
  { name: 'ferry-tb-host', dir: 'host', parent: 'ferry-tb-base' },
  { name: 'ferry-tb-app', dir: 'app', parent: 'ferry-tb-base', app: true },
  { name: 'ferry-tb-worker', dir: 'worker', parent: 'ferry-tb-app', app: true },
  { name: 'ferry-tb-postgres', dir: 'postgres', parent: 'ferry-tb-base', app: true },
  { name: 'ferry-tb-redis', dir: 'redis', parent: 'ferry-tb-base', app: true },
];
export const HOST_IMAGE = 'ferry-tb-host:latest';
/** App images are tagged :1 as well, so that stacks can name a fixed tag. */
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

async function buildOne(image, hash, base) {
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
    const work = join(paths.dir, 'build', 'base');
    mkdirSync(join(paths.dir, 'build'), { recursive: true });
    const sourcesFile = join(paths.dir, 'build', 'sources.list');
    const aptFile = join(paths.dir, 'build', 'apt.conf');
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
    rmSync(join(paths.dir, 'build'), { recursive: true, force: true });
  } else {
    const tags = image.app ? ['-t', ref, '-t', `${image.name}:${APP_TAG}`] : ['-t', ref];
    r = await run(
      'docker',
      [
        'build',
        '--build-arg',
        `BASE=${image.parent}:latest`,
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

/** Builds what is missing or out of date; returns { hashes, built: [names] }. */
export async function ensureImages() {
  const mirror = debianMirror();
  const base = { ...mirror, aptConf: await aptConf() };
  const hashes = {};
  for (const image of IMAGES) {
    const extra =
      image.dir === 'base' ? `${base.suite}\0${base.mirror}\0${base.sourcesList}\0${base.aptConf}` : undefined;
    hashes[image.name] = inputsHash(image, image.parent && hashes[image.parent], extra);
  }
  const built = [];
  const build = async (name) => {
    const image = IMAGES.find((i) => i.name === name);
    if ((await buildOne(image, hashes[name], base)).built) built.push(name);
  };
  await build('ferry-tb-base');
  // Two lanes on two cores: the host image, and the app images one after another.
  const appLane = async () => {
    for (const i of IMAGES.filter((x) => x.app)) await build(i.name);
  };
  await Promise.all([build('ferry-tb-host'), appLane()]);
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
