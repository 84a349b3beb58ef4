// Offline load and check of one project of 10,000 services (and of 5,000 and 20,000, to
// see how the time grows: twice the services should take about twice the time). Each
// service uses what real files use: a merge key, extends, depends_on, ports, a named
// volume, a network, a healthcheck, environment with a URL password, an env_file, a
// secret, labels. The baseline in the same run is a bare YAML parse of the same file.
// Run: npm run bench:services   (builds first; uses dist/; BENCH_RUNS=N, default 3)
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { loadWorkspace } from '../dist/workspace/load.js';
import { runChecks } from '../dist/check/index.js';
import { offlineInventory } from '../dist/inventory/offline.js';
import { time as timed } from './timing.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZES = (process.env.BENCH_SERVICES ?? '5000,10000,20000').split(',').map(Number);

const time = (fn) => timed(fn, RUNS);

function compose(n) {
  let text =
    'x-common: &common\n  restart: unless-stopped\n  deploy: { resources: { limits: { memory: 64M, cpus: "0.1" } } }\n' +
    'services:\n  base:\n    image: example/base:1.0\n    env_file: app.env\n    networks: [back]\n';
  for (let i = 0; i < n; i++) {
    text +=
      `  s${i}:\n    <<: *common\n    extends: base\n    image: example/s${i % 50}:1.${i % 7}\n` +
      `    ports: ["${10000 + (i % 50000)}:80"]\n` +
      (i > 0 ? `    depends_on: { s${i - 1}: { condition: service_healthy } }\n` : '') +
      `    volumes: ["data${i}:/data"]\n    secrets: [db]\n` +
      `    healthcheck: { test: ["CMD", "true"], interval: 10s }\n` +
      `    labels: { com.example.role: "worker-${i}" }\n` +
      `    environment:\n      LOG_LEVEL: \${LOG_LEVEL:-info}\n      DATABASE_URL: postgres://app:\${DB_PASSWORD}@db:5432/app\n`;
  }
  text += 'networks:\n  back: {}\nsecrets:\n  db: { file: ./db.txt }\nvolumes:\n';
  for (let i = 0; i < n; i++) text += `  data${i}: {}\n`;
  return text;
}

console.log(`median of ${RUNS} runs, node ${process.version}`);
console.log(
  `${'services'.padStart(8)}  ${'ferry'.padStart(10)}  ${'yaml.parse'.padStart(10)}  ${'ratio'.padStart(6)}  per service  growth`,
);
let previous;
for (const n of SIZES) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-services-'));
  writeFileSync(join(dir, 'compose.yml'), compose(n));
  writeFileSync(join(dir, '.env'), 'DB_PASSWORD=bench-secret-1\nLOG_LEVEL=warning\n');
  writeFileSync(join(dir, 'app.env'), 'APP_MODE=production\nAPI_TOKEN=bench-token-2\n');
  writeFileSync(join(dir, 'db.txt'), 'bench-secret-1\n');
  let findings = 0;
  const ferry = time(() => {
    const ws = loadWorkspace({ compose: ['compose.yml'], cwd: dir, env: {} });
    if (!ws.loaded || ws.unreadable) throw new Error(`not loaded: ${JSON.stringify(ws.findings.slice(0, 3))}`);
    findings = runChecks(ws.loaded).length;
    offlineInventory(ws.loaded);
  });
  const yaml = time(() => parse(readFileSync(join(dir, 'compose.yml'), 'utf8'), { merge: true, maxAliasCount: -1 }));
  rmSync(dir, { recursive: true, force: true });
  const growth = previous ? `${(ferry / previous.ms).toFixed(2)}x for ${(n / previous.n).toFixed(1)}x` : '';
  console.log(
    `${String(n).padStart(8)}  ${ferry.toFixed(0).padStart(7)} ms  ${yaml.toFixed(0).padStart(7)} ms  ${(ferry / yaml).toFixed(1).padStart(5)}x  ${((ferry / n) * 1000).toFixed(0).padStart(7)} µs  ${growth}  (${findings} findings)`,
  );
  previous = { n, ms: ferry };
}
