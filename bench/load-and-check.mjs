// Offline speed: load + check of the real compose corpus, and of a generated fleet of
// 100 servers and 1,000 services. The baseline in the same run is a bare YAML parse of
// the same files (the least any tool reading them must do); the ratio says what Ferry's
// merge, interpolation, schema validation, normalization and checks cost on top.
// Run: npm run bench   (builds first; uses dist/)
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadComposeProject } from '../dist/compose/load.js';
import { loadWorkspace } from '../dist/workspace/load.js';
import { runChecks } from '../dist/check/index.js';
import { offlineInventory } from '../dist/inventory/offline.js';
import { time as timed } from './timing.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);

const time = (fn) => timed(fn, RUNS, { warmUp: true });

// 1. The corpus: every top-level file plus the zabbix main file.
const corpus = fileURLToPath(new URL('../../shared/fixtures/compose-corpus/', import.meta.url));
const corpusFiles = [
  ...readdirSync(corpus).filter((f) => /\.ya?ml$/.test(f)),
  'zabbix__zabbix-docker/docker-compose_v3_alpine_mysql_latest.yaml',
].map((f) => join(corpus, f));
const corpusFerry = time(() => {
  for (const f of corpusFiles) {
    const r = loadComposeProject({ files: [f], cwd: corpus, env: {} });
    if (r.project) {
      const def = { name: r.project.name, compose: [f], connections: [] };
      runChecks({
        fleet: { servers: {}, stacks: { [def.name]: def }, locate: (p) => ({ path: p.join('/') }) },
        stacks: [{ def, project: r.project, findings: r.findings }],
        findings: [],
      });
    }
  }
});
const corpusYaml = time(() => {
  for (const f of corpusFiles) parse(readFileSync(f, 'utf8'), { merge: true, maxAliasCount: -1 });
});

// 2. A generated fleet: 100 servers, one stack each of 10 services (1,000 services).
const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
const SERVERS = 100;
const PER_STACK = 10;
let fleet = 'servers:\n';
for (let s = 0; s < SERVERS; s++) fleet += `  s${s}: { host: 203.0.113.${s % 250}, memory: 16GiB, cpus: 8 }\n`;
fleet += 'stacks:\n';
for (let s = 0; s < SERVERS; s++) {
  fleet += `  app${s}: { server: s${s}, compose: app${s}/compose.yml }\n`;
  mkdirSync(join(dir, `app${s}`));
  let compose =
    'x-common: &common\n  restart: unless-stopped\n  deploy: { resources: { limits: { memory: 512M, cpus: "0.5" } } }\nservices:\n';
  for (let i = 0; i < PER_STACK; i++) {
    compose += `  svc${i}:\n    <<: *common\n    image: example/svc${i}:\${TAG:-1.${i}}\n    ports: ["127.0.0.1:${8000 + i}:80"]\n    environment:\n      DATABASE_URL: postgres://app:\${DB_PASSWORD:-x}@db:5432/app\n    healthcheck: { test: ["CMD", "true"] }\n`;
  }
  writeFileSync(join(dir, `app${s}`, 'compose.yml'), compose);
}
writeFileSync(join(dir, 'ferry.yml'), fleet);
let services = 0;
const fleetFerry = time(() => {
  const ws = loadWorkspace({ fleetFile: join(dir, 'ferry.yml'), cwd: dir, env: {} });
  runChecks(ws.loaded);
  offlineInventory(ws.loaded);
  services = ws.loaded.stacks.reduce((n, s) => n + (s.project?.services.length ?? 0), 0);
});
const fleetYaml = time(() => {
  parse(readFileSync(join(dir, 'ferry.yml'), 'utf8'));
  for (let s = 0; s < SERVERS; s++) parse(readFileSync(join(dir, `app${s}`, 'compose.yml'), 'utf8'), { merge: true });
});
rmSync(dir, { recursive: true, force: true });

const row = (name, ferry, yaml) =>
  `${name.padEnd(44)} ${ferry.toFixed(1).padStart(8)} ms  ${yaml.toFixed(1).padStart(8)} ms  ${(ferry / yaml).toFixed(1).padStart(6)}x`;
console.log(`median of ${RUNS} runs, node ${process.version}`);
console.log(`${'case'.padEnd(44)} ${'ferry'.padStart(11)}  ${'yaml.parse'.padStart(11)}  ${'ratio'.padStart(7)}`);
console.log(row(`corpus: load + check, ${corpusFiles.length} files`, corpusFerry, corpusYaml));
console.log(row(`fleet: ${SERVERS} servers, ${services} services`, fleetFerry, fleetYaml));
