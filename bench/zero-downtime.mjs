// Failed requests during an update of a web service behind nginx: Ferry's zero-downtime
// swap (`ferry apply` of a new APP_VERSION of the demo stack) against the usual setup
// (nginx -> a port published on 127.0.0.1, `docker compose up -d` of the new version),
// on the same test bed host, in the same run, under the same bounded load: requests at a
// fixed concurrency from the start of the update until it ended and at least BENCH_REQUESTS
// were sent.
// Run: npm run testbed:up && npm run build && node bench/zero-downtime.mjs   (BENCH_REQUESTS, BENCH_CONCURRENCY)
import { execFileSync, spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { paths, sshArgs, testbedHosts } from '../scripts/testbed/lib.mjs';

const TOTAL = Number(process.env.BENCH_REQUESTS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const root = fileURLToPath(new URL('..', import.meta.url));
const h = testbedHosts().find((x) => x.name === 'host1');
const ssh = (line) => execFileSync('ssh', [...sshArgs(h), line], { encoding: 'utf8' });

function get(hostHeader) {
  return new Promise((resolve) => {
    const req = request(
      { host: h.host, port: 80, path: '/', headers: { Host: hostHeader }, agent: false, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

async function underLoad(hostHeader, change) {
  let sent = 0;
  let failed = 0;
  let done = false;
  const t = Date.now();
  const during = change().finally(() => (done = true));
  const worker = async () => {
    while ((sent < TOTAL || !done) && sent < TOTAL * 50) {
      sent += 1;
      if ((await get(hostHeader)) !== 200) failed += 1;
    }
  };
  const [code] = await Promise.all([during, ...Array.from({ length: CONCURRENCY }, worker)]);
  if (code !== 0) throw new Error(`the update failed (exit ${code})`);
  return { sent, failed, ms: Date.now() - t };
}

const run = (cmd, args, env = {}) =>
  new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('close', (code) => resolve(code));
  });
const fleet = [
  'bin/ferry.js',
  'apply',
  '--yes',
  '--json',
  '-f',
  'examples/demo/ferry.yml',
  '--ssh-config',
  paths.sshConfig,
  '--known-hosts',
  paths.knownHosts,
];
const version = Date.now() % 100000;

// Ferry: make sure the demo runs, then update it under load.
if ((await run(process.execPath, fleet, { APP_VERSION: `${version}` })) !== 0)
  throw new Error('first ferry apply failed');
const ferry = await underLoad('demo.ferry.test', () => run(process.execPath, fleet, { APP_VERSION: `${version + 1}` }));

// Baseline: the same app image published on 127.0.0.1:18000, nginx in front, compose up -d.
ssh(`mkdir -p /srv/bench-plain && cat > /srv/bench-plain/docker-compose.yml <<'EOF2'
version: "3.8"
services:
  web:
    image: ferry-tb-app:1
    environment: { APP_VERSION: "\${APP_VERSION:-1}" }
    ports: ["127.0.0.1:18000:8000"]
EOF2
cat > /etc/nginx/sites-enabled/bench-plain.conf <<'EOF2'
server { listen 80; server_name plain.ferry.test; location / { proxy_pass http://127.0.0.1:18000; } }
EOF2
nginx -t -q && systemctl reload nginx && cd /srv/bench-plain && APP_VERSION=${version} docker compose -p benchplain up -d >/dev/null 2>&1
for i in $(seq 1 50); do curl -fsS -o /dev/null http://127.0.0.1:18000/ && break; sleep 0.2; done`);
const plain = await underLoad('plain.ferry.test', () =>
  run('ssh', [
    ...sshArgs(h),
    `cd /srv/bench-plain && APP_VERSION=${version + 1} docker compose -p benchplain up -d >/dev/null 2>&1`,
  ]),
);
ssh(
  'cd /srv/bench-plain && docker compose -p benchplain down >/dev/null 2>&1; rm -rf /srv/bench-plain /etc/nginx/sites-enabled/bench-plain.conf; systemctl reload nginx',
);

console.log(
  `update of a web service behind nginx under load (${CONCURRENCY} concurrent, at least ${TOTAL} requests), ${h.name}`,
);
console.log(`  ferry apply (zero-downtime swap):   ${ferry.failed} failed of ${ferry.sent} requests in ${ferry.ms} ms`);
console.log(`  docker compose up -d (recreate):    ${plain.failed} failed of ${plain.sent} requests in ${plain.ms} ms`);
