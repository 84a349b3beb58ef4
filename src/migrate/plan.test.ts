/**
 * The graphs of `ferry migrate` in dump and replicate mode, step by step: each step's id,
 * host, phase and dependencies, in the plan's order. The stack is the e2e tests' demo (web
 * on Postgres, a worker, a Redis cache, a volume of files), loaded from a fleet file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Step } from '../engine/step.js';
import { demoCompose, fixture, graphOf, type Graph } from './plan-fixture.js';
import { migratePlan } from './plan.js';
import { makePlan } from '../engine/plan.js';
import type { DnsLookup } from './dns.js';
import { StepError } from '../engine/errors.js';
import { testContext } from '../engine/test-helpers.js';
import { RecordingTransport } from '../transport/recording.js';

/** The domain points at the source, with a short TTL: the DNS preflight has nothing to say. */
const lookup: DnsLookup = async (_domain, type) =>
  type === 'A' ? { addresses: ['203.0.113.10'], ttl: 60 } : { addresses: [] };

/** Ids of the migration's own steps without their `shop/migrate/` prefix, to keep the tables short. */
const short = (g: Graph): Graph => g.map(([id, host, phase, deps]) => [strip(id), host, phase, deps.map(strip)]);
const strip = (id: string): string => id.replace(/^shop\/migrate\//, '');

async function plan(mode: 'dump' | 'replicate', proxy: boolean): Promise<{ steps: Step[]; servedBy: string }> {
  const f = fixture({ compose: demoCompose({ cache: true, files: true }), proxy });
  return migratePlan({ ...f.move, mode, lookup });
}

test('dump mode: the plan of the stack with its volumes and a proxy, step by step', async () => {
  const { steps, servedBy } = await plan('dump', true);
  assert.deepEqual(short(graphOf(steps)), [
    ['dns-preflight', 'host2', 'prepare', []],
    ['preflight', 'host2', 'prepare', ['dns-preflight']],
    ['channel', 'host1', 'prepare', ['preflight', 'moving']],
    ['shop/engine', 'host2', 'prepare', ['preflight', 'moving']],
    ['shop/images', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['shop/release', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['volumes', 'host2', 'transfer', ['preflight', 'shop/engine', 'moving']],
    ['precopy', 'host1', 'transfer', ['channel', 'volumes']],
    [
      'create',
      'host2',
      'transfer',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy', 'target-db'],
    ],
    [
      'shop/proxy/nginx',
      'host2',
      'transfer',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy'],
    ],
    ['shop/proxy/webroot', 'host2', 'transfer', ['shop/proxy/nginx']],
    ['shop/proxy/upstreams', 'host2', 'transfer', ['shop/proxy/nginx']],
    ['shop/proxy/site', 'host2', 'transfer', ['shop/proxy/upstreams', 'shop/proxy/webroot']],
    [
      'freeze',
      'host1',
      'deploy',
      [
        'channel',
        'volumes',
        'shop/engine',
        'shop/images',
        'shop/release',
        'precopy',
        'target-db',
        'create',
        'shop/proxy/nginx',
        'shop/proxy/webroot',
        'shop/proxy/upstreams',
        'shop/proxy/site',
      ],
    ],
    ['final-copy', 'host1', 'deploy', ['freeze']],
    ['target-db', 'host2', 'transfer', ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy']],
    ['dump/db', 'host2', 'deploy', ['freeze', 'final-copy', 'target-db', 'channel']],
    ['verify', 'host2', 'deploy', ['freeze', 'final-copy', 'dump/db']],
    ['live', 'host2', 'deploy', ['verify']],
    ['start', 'host2', 'deploy', ['live']],
    ['upstreams', 'host2', 'deploy', ['start']],
    ['switch', 'host1', 'proxy', ['start', 'upstreams']],
    ['stop-source-db', 'host1', 'verify', ['start', 'upstreams', 'switch']],
    ['dns/shop.test', 'host2', 'proxy', ['start', 'upstreams', 'switch']],
    ['channel-close', 'host1', 'verify', ['start', 'upstreams', 'switch', 'stop-source-db']],
    ['mark', 'host1', 'verify', ['start', 'upstreams', 'switch']],
    ['moved', 'host1', 'verify', ['mark']],
    ['moving', 'host1', 'prepare', ['preflight']],
  ]);
  assert.equal(servedBy, 'shop/migrate/switch');
  assert.deepEqual(
    steps.filter((s) => s.recordOnly).map((s) => s.id),
    ['shop/migrate/moving'],
  );
});

test('dump mode without a proxy: no nginx steps, and the stack serves once started on the target', async () => {
  const { steps, servedBy } = await plan('dump', false);
  assert.deepEqual(short(graphOf(steps)), [
    ['preflight', 'host2', 'prepare', []],
    ['channel', 'host1', 'prepare', ['preflight', 'moving']],
    ['shop/engine', 'host2', 'prepare', ['preflight', 'moving']],
    ['shop/images', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['shop/release', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['volumes', 'host2', 'transfer', ['preflight', 'shop/engine', 'moving']],
    ['precopy', 'host1', 'transfer', ['channel', 'volumes']],
    [
      'create',
      'host2',
      'transfer',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy', 'target-db'],
    ],
    [
      'freeze',
      'host1',
      'deploy',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy', 'target-db', 'create'],
    ],
    ['final-copy', 'host1', 'deploy', ['freeze']],
    ['target-db', 'host2', 'transfer', ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy']],
    ['dump/db', 'host2', 'deploy', ['freeze', 'final-copy', 'target-db', 'channel']],
    ['verify', 'host2', 'deploy', ['freeze', 'final-copy', 'dump/db']],
    ['live', 'host2', 'deploy', ['verify']],
    ['start', 'host2', 'deploy', ['live']],
    ['stop-source-db', 'host1', 'verify', ['start']],
    ['channel-close', 'host1', 'verify', ['start', 'stop-source-db']],
    ['mark', 'host1', 'verify', ['start']],
    ['moved', 'host1', 'verify', ['mark']],
    ['moving', 'host1', 'prepare', ['preflight']],
  ]);
  assert.equal(servedBy, 'shop/migrate/start');
});

test('replicate mode: the plan of the stack with its volumes and a proxy, step by step', async () => {
  const { steps, servedBy } = await plan('replicate', true);
  assert.deepEqual(short(graphOf(steps)), [
    ['dns-preflight', 'host2', 'prepare', []],
    ['preflight', 'host2', 'prepare', ['dns-preflight']],
    ['channel', 'host1', 'prepare', ['preflight', 'moving']],
    ['shop/engine', 'host2', 'prepare', ['preflight', 'moving']],
    ['shop/images', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['shop/release', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['volumes', 'host2', 'transfer', ['preflight', 'shop/engine', 'moving']],
    ['precopy', 'host1', 'transfer', ['channel', 'volumes']],
    [
      'create',
      'host2',
      'transfer',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy', 'target-db'],
    ],
    [
      'shop/proxy/nginx',
      'host2',
      'transfer',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy'],
    ],
    ['shop/proxy/webroot', 'host2', 'transfer', ['shop/proxy/nginx']],
    ['shop/proxy/upstreams', 'host2', 'transfer', ['shop/proxy/nginx']],
    ['shop/proxy/site', 'host2', 'transfer', ['shop/proxy/upstreams', 'shop/proxy/webroot']],
    [
      'freeze',
      'host1',
      'deploy',
      [
        'channel',
        'volumes',
        'shop/engine',
        'shop/images',
        'shop/release',
        'precopy',
        'target-db',
        'create',
        'shop/proxy/nginx',
        'shop/proxy/webroot',
        'shop/proxy/upstreams',
        'shop/proxy/site',
        'subscribe/db',
        'switch',
      ],
    ],
    ['final-copy', 'host1', 'deploy', ['freeze']],
    ['target-db', 'host2', 'transfer', ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy']],
    ['replica-channel', 'host2', 'prepare', ['preflight', 'moving']],
    ['publish/db', 'host1', 'transfer', ['preflight', 'moving']],
    ['schema/db', 'host2', 'transfer', ['channel', 'target-db', 'publish/db']],
    ['tunnel/db', 'host2', 'transfer', ['replica-channel', 'target-db', 'publish/db']],
    ['subscribe/db', 'host2', 'transfer', ['tunnel/db', 'schema/db']],
    ['cutover/db', 'host2', 'deploy', ['freeze', 'final-copy', 'subscribe/db']],
    [
      'hold',
      'host2',
      'deploy',
      [
        'channel',
        'volumes',
        'shop/engine',
        'shop/images',
        'shop/release',
        'precopy',
        'target-db',
        'create',
        'shop/proxy/nginx',
        'shop/proxy/webroot',
        'shop/proxy/upstreams',
        'shop/proxy/site',
        'subscribe/db',
      ],
    ],
    ['switch', 'host1', 'deploy', ['hold']],
    ['verify', 'host2', 'deploy', ['freeze', 'final-copy', 'cutover/db']],
    ['live', 'host2', 'deploy', ['verify']],
    ['start', 'host2', 'deploy', ['live']],
    ['upstreams', 'host2', 'deploy', ['start']],
    ['unhold', 'host2', 'deploy', ['start', 'upstreams']],
    ['proof', 'host2', 'verify', ['start', 'upstreams', 'unhold']],
    ['tunnel/db-close', 'host2', 'verify', ['cutover/db', 'start', 'upstreams', 'unhold']],
    ['clean/db', 'host1', 'verify', ['start', 'upstreams', 'unhold', 'cutover/db', 'proof']],
    ['stop-source-db', 'host1', 'verify', ['start', 'upstreams', 'unhold', 'clean/db']],
    [
      'replica-channel-close',
      'host2',
      'verify',
      ['replica-channel', 'cutover/db', 'tunnel/db-close', 'start', 'upstreams', 'unhold'],
    ],
    ['dns/shop.test', 'host2', 'proxy', ['start', 'upstreams', 'unhold']],
    ['channel-close', 'host1', 'verify', ['start', 'upstreams', 'unhold', 'stop-source-db']],
    ['mark', 'host1', 'verify', ['start', 'upstreams', 'unhold', 'proof']],
    ['moved', 'host1', 'verify', ['mark']],
    ['moving', 'host1', 'prepare', ['preflight']],
  ]);
  assert.equal(servedBy, 'shop/migrate/unhold');
});

test('replicate mode without a proxy: no hold and no switch, the pause begins at the freeze', async () => {
  const { steps, servedBy } = await plan('replicate', false);
  assert.deepEqual(short(graphOf(steps)), [
    ['preflight', 'host2', 'prepare', []],
    ['channel', 'host1', 'prepare', ['preflight', 'moving']],
    ['shop/engine', 'host2', 'prepare', ['preflight', 'moving']],
    ['shop/images', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['shop/release', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['volumes', 'host2', 'transfer', ['preflight', 'shop/engine', 'moving']],
    ['precopy', 'host1', 'transfer', ['channel', 'volumes']],
    [
      'create',
      'host2',
      'transfer',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy', 'target-db'],
    ],
    [
      'freeze',
      'host1',
      'deploy',
      [
        'channel',
        'volumes',
        'shop/engine',
        'shop/images',
        'shop/release',
        'precopy',
        'target-db',
        'create',
        'subscribe/db',
      ],
    ],
    ['final-copy', 'host1', 'deploy', ['freeze']],
    ['target-db', 'host2', 'transfer', ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'precopy']],
    ['replica-channel', 'host2', 'prepare', ['preflight', 'moving']],
    ['publish/db', 'host1', 'transfer', ['preflight', 'moving']],
    ['schema/db', 'host2', 'transfer', ['channel', 'target-db', 'publish/db']],
    ['tunnel/db', 'host2', 'transfer', ['replica-channel', 'target-db', 'publish/db']],
    ['subscribe/db', 'host2', 'transfer', ['tunnel/db', 'schema/db']],
    ['cutover/db', 'host2', 'deploy', ['freeze', 'final-copy', 'subscribe/db']],
    ['verify', 'host2', 'deploy', ['freeze', 'final-copy', 'cutover/db']],
    ['live', 'host2', 'deploy', ['verify']],
    ['start', 'host2', 'deploy', ['live']],
    ['proof', 'host2', 'verify', ['start']],
    ['tunnel/db-close', 'host2', 'verify', ['cutover/db', 'start']],
    ['clean/db', 'host1', 'verify', ['start', 'cutover/db', 'proof']],
    ['stop-source-db', 'host1', 'verify', ['start', 'clean/db']],
    ['replica-channel-close', 'host2', 'verify', ['replica-channel', 'cutover/db', 'tunnel/db-close', 'start']],
    ['channel-close', 'host1', 'verify', ['start', 'stop-source-db']],
    ['mark', 'host1', 'verify', ['start', 'proof']],
    ['moved', 'host1', 'verify', ['mark']],
    ['moving', 'host1', 'prepare', ['preflight']],
  ]);
  assert.equal(servedBy, 'shop/migrate/start');
});

test('a stack of only its database: no copies, no containers created, in either mode', async () => {
  const f = fixture({ compose: demoCompose({ cache: false, files: false }), proxy: false });
  const dump = await migratePlan({ ...f.move, mode: 'dump' });
  assert.deepEqual(short(graphOf(dump.steps)), [
    ['preflight', 'host2', 'prepare', []],
    ['channel', 'host1', 'prepare', ['preflight', 'moving']],
    ['shop/engine', 'host2', 'prepare', ['preflight', 'moving']],
    ['shop/images', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['shop/release', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['volumes', 'host2', 'transfer', ['preflight', 'shop/engine', 'moving']],
    ['create', 'host2', 'transfer', ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'target-db']],
    [
      'freeze',
      'host1',
      'deploy',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'target-db', 'create'],
    ],
    ['target-db', 'host2', 'transfer', ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release']],
    ['dump/db', 'host2', 'deploy', ['freeze', 'target-db', 'channel']],
    ['verify', 'host2', 'deploy', ['freeze', 'dump/db']],
    ['live', 'host2', 'deploy', ['verify']],
    ['start', 'host2', 'deploy', ['live']],
    ['stop-source-db', 'host1', 'verify', ['start']],
    ['channel-close', 'host1', 'verify', ['start', 'stop-source-db']],
    ['mark', 'host1', 'verify', ['start']],
    ['moved', 'host1', 'verify', ['mark']],
    ['moving', 'host1', 'prepare', ['preflight']],
  ]);
  const replicate = await migratePlan({ ...f.move, mode: 'replicate' });
  assert.deepEqual(short(graphOf(replicate.steps)), [
    ['preflight', 'host2', 'prepare', []],
    ['channel', 'host1', 'prepare', ['preflight', 'moving']],
    ['shop/engine', 'host2', 'prepare', ['preflight', 'moving']],
    ['shop/images', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['shop/release', 'host2', 'transfer', ['shop/engine', 'preflight', 'moving']],
    ['volumes', 'host2', 'transfer', ['preflight', 'shop/engine', 'moving']],
    ['create', 'host2', 'transfer', ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'target-db']],
    [
      'freeze',
      'host1',
      'deploy',
      ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release', 'target-db', 'create', 'subscribe/db'],
    ],
    ['target-db', 'host2', 'transfer', ['channel', 'volumes', 'shop/engine', 'shop/images', 'shop/release']],
    ['replica-channel', 'host2', 'prepare', ['preflight', 'moving']],
    ['publish/db', 'host1', 'transfer', ['preflight', 'moving']],
    ['schema/db', 'host2', 'transfer', ['channel', 'target-db', 'publish/db']],
    ['tunnel/db', 'host2', 'transfer', ['replica-channel', 'target-db', 'publish/db']],
    ['subscribe/db', 'host2', 'transfer', ['tunnel/db', 'schema/db']],
    ['cutover/db', 'host2', 'deploy', ['freeze', 'subscribe/db']],
    ['verify', 'host2', 'deploy', ['freeze', 'cutover/db']],
    ['live', 'host2', 'deploy', ['verify']],
    ['start', 'host2', 'deploy', ['live']],
    ['proof', 'host2', 'verify', ['start']],
    ['tunnel/db-close', 'host2', 'verify', ['cutover/db', 'start']],
    ['clean/db', 'host1', 'verify', ['start', 'cutover/db', 'proof']],
    ['stop-source-db', 'host1', 'verify', ['start', 'clean/db']],
    ['replica-channel-close', 'host2', 'verify', ['replica-channel', 'cutover/db', 'tunnel/db-close', 'start']],
    ['channel-close', 'host1', 'verify', ['start', 'stop-source-db']],
    ['mark', 'host1', 'verify', ['start', 'proof']],
    ['moved', 'host1', 'verify', ['mark']],
    ['moving', 'host1', 'prepare', ['preflight']],
  ]);
});

test('every step before the target data comes into use is done for good once it is; the steps after it are not', async () => {
  const { steps } = await plan('replicate', true);
  const once = (s: Step) => s.doc().purpose.endsWith('the move is past this step, and the data there is in use.');
  assert.deepEqual(
    steps.filter((s) => !once(s)).map((s) => strip(s.id)),
    [
      'live',
      'start',
      'upstreams',
      'unhold',
      'proof',
      'tunnel/db-close',
      'clean/db',
      'stop-source-db',
      'replica-channel-close',
      'dns/shop.test',
      'channel-close',
      'mark',
      'moved',
    ],
  );
});

test('a resumed run past the point finds the dump done from the marker alone, and an apply asked for refuses', async () => {
  const { steps } = await plan('dump', true);
  const dump = steps.find((s) => s.id === 'shop/migrate/dump/db')!;
  const target = new RecordingTransport('host2');
  const source = new RecordingTransport('host1');
  const marker = 'cat /srv/ferry/shop/migration-live 2>/dev/null';
  target.when(marker, { stdout: '{"from":"host1","to":"host2","at":"2026-12-02T10:00:00.000Z"}\n' });
  const ctx = testContext(target, { others: { host1: source } });
  assert.deepEqual(await dump.check(ctx), { needed: false, observed: { done: true } });
  await assert.rejects(
    dump.apply(ctx, { done: false, inner: { state: 'move', tables: 1, bytes: 1 } }),
    (e: unknown) =>
      e instanceof StepError &&
      e.code === 'target-in-use' &&
      /refusing to run shop\/migrate\/dump\/db again: shop has been in use there since 2026-12-02T10:00:00.000Z/.test(
        e.message,
      ),
  );
  assert.deepEqual(target.lines, [marker, marker, marker]);
  assert.deepEqual(source.lines, []);
});

test('migrate.max_pause bounds every wait inside the pause, and the plan says so: the Redis save, the dump, the catch-up, the start', async () => {
  const docOf = (steps: Step[], id: string) => {
    const s = steps.find((x) => x.id === id);
    assert.ok(s, `no step ${id}`);
    return JSON.stringify(s.doc());
  };
  for (const [bound, expected] of [
    [undefined, 60],
    [5_000, 5],
  ] as const) {
    const f = fixture({ compose: demoCompose({ cache: true, files: true }), proxy: true });
    if (bound !== undefined) f.stack.def.maxPauseMs = bound;
    const dump = (await migratePlan({ ...f.move, mode: 'dump', lookup })).steps;
    assert.match(docOf(dump, 'shop/migrate/freeze'), new RegExp(`at most ${expected} s`));
    assert.match(docOf(dump, 'shop/migrate/dump/db'), new RegExp(`within ${expected} s \\(migrate.max_pause\\)`));
    // The stack's health_timeout is 60 s: the start on the target waits the lesser of the two.
    assert.match(docOf(dump, 'shop/migrate/start'), new RegExp(`healthy within ${expected} s`));
    const replicate = (await migratePlan({ ...f.move, mode: 'replicate', lookup })).steps;
    assert.match(
      docOf(replicate, 'shop/migrate/cutover/db'),
      new RegExp(`at most ${expected} s \\(migrate.max_pause\\)`),
    );
  }
});

test("a stack that connects to another server's host Postgres: the target is let in there before it starts", async () => {
  const f = fixture({
    compose: demoCompose({ cache: true, files: true }),
    proxy: true,
    servers: ['  db1: { host: 203.0.113.30, user: root, postgres: { max_connections: 200 } }'],
    connections: '[{ service: web, pool: 10, to: "server:db1", database: shop, user: shop }]',
  });
  const { steps } = await migratePlan({ ...f.move, mode: 'dump', lookup, servers: f.loaded.fleet.servers });
  makePlan(steps); // a valid plan: no step depends on one of a later phase
  const access = steps.find((s) => s.id === 'shop/host-postgres/db1');
  assert.ok(access, steps.map((s) => s.id).join(', '));
  assert.equal(access.host, 'db1');
  assert.match(access.title, /let shop \(from 203\.0\.113\.11\) into db1's Postgres/);
  // Before the target starts: the start waits for it, through what it waits for.
  const byId = new Map(steps.map((s) => [s.id, s]));
  const before = (id: string, seen = new Set<string>()): Set<string> => {
    for (const d of byId.get(id)?.dependsOn ?? []) if (!seen.has(d)) before(d, seen.add(d));
    return seen;
  };
  assert.ok(before('shop/migrate/start').has('shop/host-postgres/db1'));
  assert.ok(access.dependsOn.includes('shop/migrate/preflight'), 'after the preflight');
});

test("a Postgres service kept in the target's own Postgres: its role and database made there before the dump, no container of it started, replicate refused", async () => {
  const f = fixture({
    compose: demoCompose({ cache: false, files: true }),
    proxy: false,
    host2: ', postgres: { max_connections: 100 }',
    stack: ['services: { db: { server_postgres: true } }'],
  });
  const { steps, m } = await migratePlan({ ...f.move, mode: 'dump', lookup });
  makePlan(steps);
  const ids = steps.map((s) => strip(s.id));
  assert.ok(!ids.includes('target-db'), ids.join(', '));
  assert.deepEqual(m.installed, { db: f.target.postgres });
  const dump = steps.find((s) => s.id === 'shop/migrate/dump/db')!;
  assert.deepEqual(dump.dependsOn.map(strip), ['freeze', 'final-copy', 'shop/server-postgres/db', 'channel']);
  const made = steps.find((s) => s.id === 'shop/server-postgres/db')!;
  assert.equal(made.host, 'host2');
  assert.ok(made.dependsOn.includes('shop/migrate/preflight'), 'after the preflight');
  const volumes = steps.find((s) => s.id === 'shop/migrate/volumes')!;
  assert.doesNotMatch(volumes.doc().purpose, /db-data/, "the database's volume is not made on the target");
  assert.match(volumes.doc().purpose, /files/);
  assert.deepEqual(
    m.release.services.map((s) => s.name),
    ['web', 'worker'],
  );
  await assert.rejects(migratePlan({ ...f.move, mode: 'replicate', lookup }), (e: unknown) => {
    assert.ok(e instanceof Error && 'code' in e && e.code === 'replicate-unsupported', String(e));
    assert.match(e.message, /db is kept in the Postgres installed on host2/);
    return true;
  });
});

test("from one server's installed Postgres to another's: both ends there, the source's Postgres left running (no stop-source-db)", async () => {
  const pg = ', postgres: { max_connections: 100 }';
  const f = fixture({
    compose: demoCompose({ cache: false, files: true }),
    proxy: false,
    host1: pg,
    host2: pg,
    stack: ['services: { db: { server_postgres: true } }'],
  });
  const sourceRelease = {
    ...f.move.sourceRelease,
    services: f.move.sourceRelease.services.filter((s) => s.name !== 'db'),
  };
  const { steps, m } = await migratePlan({ ...f.move, sourceRelease, mode: 'dump', lookup });
  makePlan(steps);
  assert.deepEqual(m.sourceInstalled, { db: f.source.postgres });
  assert.deepEqual(m.installed, { db: f.target.postgres });
  const ids = steps.map((s) => strip(s.id));
  assert.ok(ids.includes('dump/db') && !ids.includes('stop-source-db') && !ids.includes('target-db'), ids.join(', '));
  assert.deepEqual(steps.find((s) => s.id === 'shop/migrate/channel-close')!.dependsOn.map(strip), ['start']);
  // The same stack whose source still runs its Postgres container: that one is stopped after the move.
  const fromContainer = await migratePlan({ ...f.move, mode: 'dump', lookup });
  assert.equal(fromContainer.m.sourceInstalled, undefined);
  assert.ok(fromContainer.steps.some((s) => s.id === 'shop/migrate/stop-source-db'));
});
