/**
 * The graph of `ferry migrate STACK --service db --to SERVER`, step by step: each step's id,
 * host, phase and dependencies, in the plan's order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoCompose, fixture, graphOf, type Graph } from './plan-fixture.js';
import { serviceMovePlan } from './plan-service.js';

const strip = (id: string): string => id.replace(/^shop\/migrate\//, '');
const short = (g: Graph): Graph => g.map(([id, host, phase, deps]) => [strip(id), host, phase, deps.map(strip)]);

test('a service move: its release on the target, the pause, the stack on the source pointed at it', async () => {
  const f = fixture({ compose: demoCompose({ cache: false, files: false }), proxy: true });
  const { steps, servedBy } = await serviceMovePlan({ ...f.move, service: 'db', fleet: f.loaded.fleet });
  assert.deepEqual(short(graphOf(steps)), [
    ['preflight', 'host2', 'prepare', []],
    ['channel', 'host1', 'prepare', ['preflight', 'moving']],
    ['shop/db/engine', 'host2', 'prepare', ['preflight', 'moving']],
    ['shop/db/images', 'host2', 'transfer', ['shop/db/engine', 'preflight', 'moving']],
    ['shop/db/release', 'host2', 'transfer', ['shop/db/engine', 'preflight', 'moving']],
    ['shop/db/firewall', 'host2', 'transfer', ['shop/db/engine', 'preflight', 'moving']],
    ['volumes', 'host2', 'transfer', ['preflight', 'shop/db/engine', 'moving']],
    [
      'shop/db/up',
      'host2',
      'transfer',
      ['shop/db/images', 'shop/db/release', 'shop/db/firewall', 'volumes', 'preflight', 'moving'],
    ],
    ['freeze', 'host1', 'deploy', ['channel', 'shop/db/up', 'preflight', 'moving']],
    ['dump/db', 'host2', 'deploy', ['freeze', 'shop/db/up', 'channel', 'preflight', 'moving']],
    ['verify', 'host2', 'deploy', ['dump/db', 'preflight', 'moving']],
    ['shop/engine', 'host1', 'prepare', ['preflight', 'moving']],
    ['shop/images', 'host1', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['shop/release', 'host1', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['shop/up', 'host1', 'deploy', ['shop/images', 'shop/release', 'verify', 'preflight', 'moving']],
    ['shop/proxy/nginx', 'host1', 'proxy', ['shop/up', 'preflight', 'moving']],
    ['shop/proxy/webroot', 'host1', 'proxy', ['shop/proxy/nginx', 'preflight', 'moving']],
    ['shop/proxy/upstreams', 'host1', 'proxy', ['shop/proxy/nginx', 'preflight', 'moving']],
    ['shop/proxy/site', 'host1', 'proxy', ['shop/proxy/upstreams', 'shop/proxy/webroot', 'preflight', 'moving']],
    ['connected', 'host1', 'verify', ['shop/up', 'preflight', 'moving']],
    ['channel-close', 'host1', 'verify', ['shop/up', 'connected', 'preflight', 'moving']],
    ['moved', 'host1', 'verify', ['shop/up', 'preflight', 'moving']],
    ['moving', 'host1', 'prepare', ['preflight']],
  ]);
  assert.equal(servedBy, 'shop/up');
  const up = steps.find((s) => s.id === 'shop/up')!;
  assert.match(up.title, /^start shop on host1 with db at 203\.0\.113\.11:5432 \(release [^)]+\)$/);
  // A run resumed once the source runs the new release stops the writers and dumps no more.
  const freeze = steps.find((s) => s.id === 'shop/migrate/freeze')!;
  assert.match(freeze.doc().purpose, /Nothing to do once host1 runs release /);
});

test("a service kept in its server's installed Postgres cannot move alone: refused, naming the key", async () => {
  const f = fixture({
    compose: demoCompose({ cache: false, files: false }),
    proxy: false,
    host1: ', postgres: { max_connections: 100 }',
    stack: ['services: { db: { server_postgres: true } }'],
  });
  await assert.rejects(serviceMovePlan({ ...f.move, service: 'db', fleet: f.loaded.fleet }), (e: unknown) => {
    assert.ok(e instanceof Error && 'code' in e && e.code === 'usage', String(e));
    assert.match(e.message, /shop\/db is kept in the Postgres installed on its server \(server_postgres\)/);
    return true;
  });
});
