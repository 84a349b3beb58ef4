import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { goldenTests } from '../render/test-helpers/golden.js';
import { RecordingTransport } from '../transport/recording.js';
import { loadWorkspace } from '../workspace/load.js';
import { blockIn, hbaBlock, hostPostgresAccess, listenWith, parseClusters, withBlock } from './host-postgres.js';
import { stackPlan } from './plan.js';

const COMPOSE = `services:
  api: { image: app:1 }
  worker: { image: app:1, networks: [jobs, shared] }
  beat: { image: app:1, network_mode: host }
  cache: { image: redis:7 }
networks:
  jobs: {}
  shared: { external: true, name: platform-net }
`;

function loaded(connections: string[], postgres = '{ max_connections: 200 }') {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-host-pg-'));
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      `  app: { host: 203.0.113.10, postgres: ${postgres} }`,
      `  db: { host: 203.0.113.11, postgres: ${postgres} }`,
      'stacks:',
      '  shop:',
      '    server: app',
      '    compose: compose.yml',
      '    project: shop',
      '    connections:',
      ...connections.map((c) => `      - ${c}`),
      '',
    ].join('\n'),
  );
  const ws = loadWorkspace({ cwd: dir, env: {} });
  if (!ws.loaded) throw new Error(`fixture fleet unreadable: ${JSON.stringify(ws.findings)}`);
  return ws.loaded;
}

test('the networks of the services that connect to their own server, by their names there; the pairs they log in as', () => {
  const l = loaded([
    '{ service: api, pool: 10, to: "server:app", database: shop, user: shop }',
    '{ service: worker, pool: 4, to: "server:app", database: shop, user: shop }',
    '{ service: beat, pool: 1, to: "server:app", database: shop, user: beat }',
    '{ service: cache, pool: 1, to: "server:db" }',
  ]);
  const { app, db } = l.fleet.servers;
  const a = hostPostgresAccess(l.stacks[0]!, app!, app!)!;
  assert.equal(a.block, 'shop on app');
  assert.deepEqual(
    a.networks.map((n) => [n.key, n.name, n.external]),
    [
      ['default', 'shop_default', false],
      ['jobs', 'shop_jobs', false],
      ['shared', 'platform-net', true],
    ],
  );
  assert.deepEqual(a.pairs, [
    { database: 'shop', user: 'shop' },
    { database: 'shop', user: 'beat' },
  ]);
  assert.deepEqual([a.postgres.cluster, a.postgres.port, a.postgres.superuser], ['main', 5432, 'postgres']);
  const remote = hostPostgresAccess(l.stacks[0]!, db!, app!)!;
  assert.deepEqual(remote.remote, { from: '203.0.113.10', listen: '203.0.113.11' }, 'from its server to the other');
  assert.deepEqual(remote.networks, []);
  assert.deepEqual(remote.pairs, [{ database: 'all', user: 'all' }]);
});

test('no connection to the server, or a server without postgres: nothing to do', () => {
  const l = loaded(['{ service: api, pool: 10, to: cache }']);
  assert.equal(hostPostgresAccess(l.stacks[0]!, l.fleet.servers.app!, l.fleet.servers.app!), undefined);
});

test("the plan lets the stack in before its release starts, on its own server and on another's", async () => {
  const l = loaded(['{ service: api, pool: 10, to: "server:app" }', '{ service: worker, pool: 2, to: "server:db" }']);
  const local = new RecordingTransport('local').when(/^docker image inspect /, { stdout: 'sha256:local\n' });
  const p = await stackPlan({ stack: l.stacks[0]!, server: l.fleet.servers.app!, local, fleet: l.fleet });
  const step = p.steps.find((s) => s.id === 'shop/host-postgres')!;
  assert.deepEqual(step.dependsOn, ['shop/engine']);
  const other = p.steps.find((s) => s.id === 'shop/host-postgres/db')!;
  assert.equal(other.host, 'db');
  assert.deepEqual(
    p.steps.find((s) => s.id === 'shop/up')!.dependsOn.filter((d) => d.includes('host-postgres')),
    ['shop/host-postgres', 'shop/host-postgres/db'],
  );
});

const HBA = `# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             postgres                                peer
host    all             all             127.0.0.1/32            scram-sha-256
`;
const pairs = [
  { database: 'shop', user: 'shop' },
  { database: 'all', user: 'beat' },
];

goldenTests('host-postgres', [
  {
    file: 'pg_hba.conf',
    render: () => withBlock(HBA, 'shop on app1', hbaBlock('shop on app1', pairs, ['172.18.0.0/16', '172.19.0.0/16'])),
  },
]);

test("the stack's block is replaced in place, others' left alone, and removed whole", () => {
  const one = withBlock(HBA, 'shop', hbaBlock('shop', pairs, ['172.18.0.0/16']));
  const two = withBlock(one, 'blog', hbaBlock('blog', pairs, ['172.20.0.0/16']));
  const moved = withBlock(two, 'shop', hbaBlock('shop', pairs, ['172.21.0.0/16']));
  assert.equal(blockIn(moved, 'blog'), blockIn(two, 'blog'));
  assert.match(blockIn(moved, 'shop'), /172\.21\.0\.0\/16/);
  assert.doesNotMatch(moved, /172\.18\.0\.0/);
  assert.ok(moved.indexOf('# BEGIN ferry shop') < moved.indexOf('# BEGIN ferry blog'), 'in place');
  assert.equal(withBlock(withBlock(moved, 'shop', ''), 'blog', ''), `${HBA}\n`);
  assert.equal(withBlock(HBA, 'shop', ''), HBA, 'nothing to remove');
  assert.equal(hbaBlock('shop', pairs, []), '');
});

test('listen_addresses gains the bridge address, unless Postgres listens everywhere or there already', () => {
  assert.equal(listenWith('localhost', '172.17.0.1'), 'localhost,172.17.0.1');
  assert.equal(listenWith('localhost, 10.0.0.2', '172.17.0.1'), 'localhost,10.0.0.2,172.17.0.1');
  assert.equal(listenWith('*', '172.17.0.1'), undefined);
  assert.equal(listenWith('0.0.0.0', '172.17.0.1'), undefined);
  assert.equal(listenWith('localhost,172.17.0.1', '172.17.0.1'), undefined);
});

test("pg_lsclusters' lines, and nothing from other lines", () => {
  const text = `17  main    5432 online postgres /var/lib/postgresql/17/main /var/log/postgresql/postgresql-17-main.log
15  old     5433 down   postgres /var/lib/postgresql/15/old  /var/log/postgresql/postgresql-15-old.log
Warning: something
`;
  assert.deepEqual(parseClusters(text), [
    { version: 17, name: 'main', port: 5432, online: true },
    { version: 15, name: 'old', port: 5433, online: false },
  ]);
});
