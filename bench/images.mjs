// Sending an image to a server without a registry: Ferry's image step (docker save |
// zstd here, streamed over its SSH connection into zstd -d | docker load) against the raw
// pipe `docker save IMG | ssh HOST docker load`, on a test bed host, in the same run.
// The image is removed from the host before every transfer. Also times Ferry's second
// run, which finds the image there and sends nothing.
// Run: npm run testbed:up && npm run build && node bench/images.mjs   (BENCH_RUNS, BENCH_IMAGE)
import { execFileSync, spawnSync } from 'node:child_process';
import { Redactor } from '../dist/core/redact.js';
import { makePlan } from '../dist/engine/plan.js';
import { runPlan } from '../dist/engine/run.js';
import { imageStep } from '../dist/engine/steps/images.js';
import { LocalTransport } from '../dist/transport/local.js';
import { SshPool } from '../dist/transport/ssh/index.js';
import { sshArgs, sshTarget, testbedHosts } from '../scripts/testbed/lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IMAGE = process.env.BENCH_IMAGE ?? 'ferry-tb-app:1';
const h = testbedHosts()[2];
const ssh = (line) => execFileSync('ssh', [...sshArgs(h), line], { encoding: 'utf8' });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const size = Number(
  execFileSync('docker', ['image', 'inspect', '--format', '{{.Size}}', IMAGE], { encoding: 'utf8' }).trim(),
);

async function timed(fn, fresh = true) {
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    if (fresh) ssh(`docker rmi -f ${IMAGE} >/dev/null 2>&1 || true`);
    const t = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ms);
}

const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
const transport = pool.get(sshTarget(h));
const ferry = async () => {
  const s = await runPlan(
    makePlan([imageStep({ id: 'img', host: h.name, images: [IMAGE], local: new LocalTransport() })]),
    { transports: () => transport, redactor: new Redactor(), onEvent: () => {} },
  );
  if (s.failed) throw new Error('image step failed');
  return s;
};
const raw = async () => {
  const r = spawnSync(
    'bash',
    [
      '-o',
      'pipefail',
      '-c',
      `docker save ${IMAGE} | ssh ${sshArgs(h)
        .map((a) => `'${a}'`)
        .join(' ')} docker load -q`,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
};
try {
  const f = await timed(ferry);
  const r = await timed(raw);
  const again = await timed(ferry, false);
  console.log(
    `median of ${RUNS} runs, node ${process.version}, image ${IMAGE} (${(size / 1e6).toFixed(0)} MB), host ${h.name}`,
  );
  console.log(`ferry image step (zstd, one connection)  ${f.toFixed(0).padStart(7)} ms`);
  console.log(`docker save | ssh docker load            ${r.toFixed(0).padStart(7)} ms   ratio ${(r / f).toFixed(2)}x`);
  console.log(
    `ferry again, image already there         ${again.toFixed(0).padStart(7)} ms   ratio ${(r / again).toFixed(1)}x`,
  );
} finally {
  await pool.close();
}
