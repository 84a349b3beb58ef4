/**
 * The deploy planners' graphs, exactly: per step in order, its id, host, phase and
 * dependencies, for a stack deployed to its server (with nginx in front), and for a
 * stack with a service placed on another server. The fleet is loaded from a temporary
 * directory as `ferry apply` loads it; planning reads nothing from the servers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePlan } from '../engine/plan.js';
import type { Step } from '../engine/step.js';
import type { LoadedFleet } from '../model/loaded.js';
import { RecordingTransport } from '../transport/recording.js';
import { loadWorkspace } from '../workspace/load.js';
import { stackPlan } from './plan.js';

const demo = fileURLToPath(new URL('../../examples/demo/compose.yml', import.meta.url));

/** A fleet of two servers with the demo stack `shop` on app; `stackLines` are added under the stack. */
function fleet(stackLines: string[]): LoadedFleet {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-deploy-plan-'));
  writeFileSync(join(dir, 'compose.yml'), readFileSync(demo, 'utf8'));
  writeFileSync(join(dir, '.env'), 'POSTGRES_PASSWORD=pw-canary\n');
  const text = [
    'servers:',
    '  app: { host: 203.0.113.10, user: root, private_address: 10.0.0.2 }',
    '  db: { host: 203.0.113.11, user: root, sudo: true, private_address: 10.0.0.3 }',
    'stacks:',
    '  shop:',
    '    server: app',
    '    compose: compose.yml',
    '    project: shop',
    ...stackLines.map((l) => `    ${l}`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'ferry.yml'), text);
  const ws = loadWorkspace({ cwd: dir, env: {} });
  if (!ws.loaded) throw new Error(`fixture fleet unreadable: ${JSON.stringify(ws.findings)}`);
  return ws.loaded;
}

type Graph = [id: string, host: string, phase: string, dependsOn: string[]][];
const graphOf = (steps: Step[]): Graph => steps.map((s) => [s.id, s.host, s.phase, [...s.dependsOn]]);

/** This machine: every image is there, with one id. */
const local = () => new RecordingTransport('local').when(/^docker image inspect /, { stdout: 'sha256:local\n' });

async function planOf(loaded: LoadedFleet) {
  const stack = loaded.stacks.find((s) => s.def.name === 'shop')!;
  assert.ok(stack.project, JSON.stringify(stack.findings));
  const server = loaded.fleet.servers.app!;
  return stackPlan({ stack, server, local: local(), fleet: loaded.fleet });
}

test('stackPlan: a stack behind nginx, images pulled: engine, images and release, up, the proxy, prune', async () => {
  const loaded = fleet([
    'deploy: { images: pull, health_timeout: 60s, http_checks: [{ service: web, port: 8000, path: /health }] }',
    'proxy: { domains: [shop.test], tls: none, routes: [{ service: web, port: 8000 }] }',
  ]);
  const p = await planOf(loaded);
  const proxy = ['shop/proxy/nginx', 'shop/proxy/webroot', 'shop/proxy/upstreams', 'shop/proxy/site'];
  assert.deepEqual(graphOf(p.steps), [
    ['shop/engine', 'app', 'prepare', []],
    ['shop/images', 'app', 'transfer', ['shop/engine']],
    ['shop/release', 'app', 'transfer', ['shop/engine']],
    ['shop/up', 'app', 'deploy', ['shop/images', 'shop/release']],
    ['shop/proxy/nginx', 'app', 'proxy', ['shop/up']],
    ['shop/proxy/webroot', 'app', 'proxy', ['shop/proxy/nginx']],
    ['shop/proxy/upstreams', 'app', 'proxy', ['shop/proxy/nginx']],
    ['shop/proxy/site', 'app', 'proxy', ['shop/proxy/upstreams', 'shop/proxy/webroot']],
    ['shop/prune', 'app', 'verify', ['shop/up', ...proxy]],
  ]);
  assert.equal(p.steps[1]!.title, 'pull ferry-tb-app:1, ferry-tb-worker:1, ferry-tb-postgres:1');
  assert.deepEqual(p.parts, {});
  assert.deepEqual(
    p.meta.services.map((s) => [s.name, s.swap]),
    [
      ['web', true],
      ['worker', false],
      ['db', false],
    ],
  );
  // No step reaches another host than its own.
  assert.deepEqual(
    p.steps.filter((s) => (s.reaches ?? []).length > 0),
    [],
  );
  makePlan(p.steps);
});

test("stackPlan: a stack whose db is placed on another server, images pushed: the db server's part first", async () => {
  const loaded = fleet(['deploy: { images: push }', 'services: { db: { server: db } }']);
  const p = await planOf(loaded);
  assert.deepEqual(graphOf(p.steps), [
    ['shop/engine', 'app', 'prepare', []],
    ['shop/images', 'app', 'transfer', ['shop/engine']],
    ['shop/release', 'app', 'transfer', ['shop/engine']],
    ['shop/up', 'app', 'deploy', ['shop/images', 'shop/release', 'shop/db/up']],
    ['shop/prune', 'app', 'verify', ['shop/up']],
    ['shop/db/engine', 'db', 'prepare', []],
    ['shop/db/images', 'db', 'transfer', ['shop/db/engine']],
    ['shop/db/release', 'db', 'transfer', ['shop/db/engine']],
    ['shop/db/firewall', 'db', 'transfer', ['shop/db/engine']],
    ['shop/db/up', 'db', 'deploy', ['shop/db/images', 'shop/db/release', 'shop/db/firewall']],
    ['shop/db/prune', 'db', 'verify', ['shop/db/up']],
  ]);
  const part = p.parts.db!;
  assert.deepEqual(
    [part.engineId, part.imagesId, part.releaseId, part.firewallId, part.upId],
    ['shop/db/engine', 'shop/db/images', 'shop/db/release', 'shop/db/firewall', 'shop/db/up'],
  );
  assert.deepEqual(part.placed, {
    service: 'db',
    server: 'db',
    address: '10.0.0.3',
    allowFrom: '10.0.0.2',
    port: 5432,
  });
  assert.deepEqual(p.meta.placed, { db: 'db' });
  assert.deepEqual(
    part.meta.services.map((s) => s.name),
    ['db'],
  );
  assert.equal(p.steps[1]!.title, 'images ferry-tb-app:1, ferry-tb-worker:1 on app');
  assert.equal(p.steps[6]!.title, 'images ferry-tb-postgres:1 on db');
  makePlan(p.steps);
});

test('stackPlan: planning twice gives the same graph (no step of one plan changed by the next)', async () => {
  const loaded = fleet(['deploy: { images: pull }', 'services: { db: { server: db } }']);
  const [a, b] = [await planOf(loaded), await planOf(loaded)];
  assert.deepEqual(graphOf(a.steps), graphOf(b.steps));
  assert.equal(a.bundle.id, b.bundle.id);
});
