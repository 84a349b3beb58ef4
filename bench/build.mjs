// Building a service's image: `ferry apply` with `deploy.build: server` (the context, what
// .dockerignore leaves, streamed to `docker build -` on the server) against what users do
// without a registry, in the same run, on the same fresh host: `docker build` here, then
// `docker save | ssh docker load`. The image is shaped like an app's: dependencies installed
// in a layer of their own (BENCH_DEPS_MB of incompressible bytes standing in for
// node_modules or a virtualenv), then the source (BENCH_SRC_FILES small files). A first
// build, then one after a one-line change of the source (both sides reuse their build cache).
// Reports wall time and the bytes that crossed to the server.
// Run: npm run testbed:up && npm run build && node bench/build.mjs
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths, sshArgs } from '../scripts/testbed/lib.mjs';
import { createFreshHost, removeFreshHost } from '../scripts/testbed/fresh.mjs';

const DEPS_MB = Number(process.env.BENCH_DEPS_MB ?? 200);
const SRC_FILES = Number(process.env.BENCH_SRC_FILES ?? 500);
const STACK = 'tbbenchbuild';
const root = fileURLToPath(new URL('..', import.meta.url));

const h = await createFreshHost('bench-build');
const ssh = (line, input) =>
  execFileSync('ssh', [...sshArgs(h), line], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 }).trim();
const sh = (line) => execFileSync('sh', ['-c', line], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
const rxBytes = () => Number(ssh("awk '/eth0/ {print $2}' /proc/net/dev"));
const measured = async (fn) => {
  const [t, rx] = [process.hrtime.bigint(), rxBytes()];
  await fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, mb: (rxBytes() - rx) / 2 ** 20 };
};

try {
  sh(
    `docker save ferry-tb-app:1 | ssh ${sshArgs(h)
      .map((a) => `'${a}'`)
      .join(' ')} docker load`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-build-'));
  mkdirSync(join(dir, 'app', 'src'), { recursive: true });
  writeFileSync(
    join(dir, 'app', 'Dockerfile'),
    ['FROM ferry-tb-app:1', `RUN head -c ${DEPS_MB}M /dev/urandom > /srv/deps.bin`, 'COPY src /srv/src', ''].join('\n'),
  );
  for (let i = 0; i < SRC_FILES; i++)
    writeFileSync(join(dir, 'app', 'src', `m${i}.py`), `# module ${i}\n${'x = 1\n'.repeat(200)}`);
  writeFileSync(
    join(dir, 'compose.yml'),
    ['services:', '  app:', '    build: ./app', '    image: bench/app:1', '    restart: unless-stopped', ''].join('\n'),
  );
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      `  ${h.name}: { host: ${h.host}, user: ${h.user}, port: ${h.port}, identity_file: ${paths.key} }`,
      'stacks:',
      `  ${STACK}: { server: ${h.name}, compose: compose.yml, project: ${STACK} }`,
      '',
    ].join('\n'),
  );
  const ferry = () =>
    new Promise((resolve, reject) => {
      const c = spawn(
        process.execPath,
        [join(root, 'bin/ferry.js'), 'apply', '--yes', '-f', 'ferry.yml', '--known-hosts', h.knownHostsFile],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ferry apply: exit ${code}\n${out}`))));
    });
  // The hand way: built here (its own tag, so that both sides start cold), saved and loaded there.
  const hand = () =>
    sh(
      `docker build -q -t bench-hand/app:1 ${join(dir, 'app')} >/dev/null && ` +
        `docker save bench-hand/app:1 | ssh ${sshArgs(h)
          .map((a) => `'${a}'`)
          .join(' ')} docker load >/dev/null`,
    );
  const rows = [];
  for (const run of ['first build', 'after a one-line change']) {
    if (run !== 'first build') writeFileSync(join(dir, 'app', 'src', 'm0.py'), '# module 0, changed\n');
    const f = await measured(ferry);
    const b = await measured(async () => hand());
    rows.push({ run, f, b });
  }
  console.log(`context: ${SRC_FILES} source files; dependencies layer: ${DEPS_MB} MiB`);
  console.log(
    'run                        ferry (build on server)        docker build here + save | ssh load   ratio (time, bytes)',
  );
  for (const { run, f, b } of rows)
    console.log(
      `${run.padEnd(26)} ${f.ms.toFixed(0).padStart(7)} ms ${f.mb.toFixed(1).padStart(8)} MiB   ${b.ms.toFixed(0).padStart(7)} ms ${b.mb.toFixed(1).padStart(8)} MiB       ${(b.ms / f.ms).toFixed(2)}x, ${(b.mb / Math.max(f.mb, 0.01)).toFixed(0)}x`,
    );
} finally {
  sh('docker image rm bench-hand/app:1 >/dev/null 2>&1 || true');
  await removeFreshHost('bench-build');
}
