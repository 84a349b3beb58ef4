/**
 * A stack spread over servers: the compose files Ferry writes for each server and the
 * firewall unit, against the golden files in test/golden/split/ (`UPDATE_GOLDEN=1`
 * rewrites them; test/e2e/placement.test.ts has the real Compose run them and the real
 * systemd and iptables load the unit), and the placement's refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { InputError } from '../core/errors.js';
import { isSecret } from '../core/secret.js';
import { loadComposeProject } from '../compose/load.js';
import { DEFAULT_DEPLOY, type ServerDef } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { makeBundle } from './bundle.js';
import { placementOf, placedPort, splitStack } from './placement.js';
import { renderComposeDocument, rewriteHosts, splitDocument, type Placed } from './split.js';
import { dropRule, unitText } from './firewall.js';

const golden = fileURLToPath(new URL('../../test/golden/split/', import.meta.url));
const demo = fileURLToPath(new URL('../../examples/demo/compose.yml', import.meta.url));
const CANARY = 'pw-canary-$1-Zq';

function check(file: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(golden, { recursive: true });
    writeFileSync(`${golden}${file}`, actual);
  }
  assert.equal(
    actual,
    readFileSync(`${golden}${file}`, 'utf8'),
    `test/golden/split/${file} differs; rerun with UPDATE_GOLDEN=1 after checking the change`,
  );
}

const servers: Record<string, ServerDef> = {
  app: { name: 'app', host: '203.0.113.10', privateAddress: '10.0.0.2' },
  db: { name: 'db', host: '203.0.113.11', privateAddress: '10.0.0.3' },
  named: { name: 'named', host: 'db.example.com' },
};
const locate = (path: readonly (string | number)[]) => ({ file: 'ferry.yml', line: 9, path: path.join('/') });

function demoStack(placement: LoadedStack['def']['placement'], files?: { dir: string; compose: string }): LoadedStack {
  const compose = files ? join(files.dir, 'compose.yml') : demo;
  if (files) writeFileSync(compose, files.compose);
  const r = loadComposeProject({ files: [compose], cwd: join(compose, '..'), env: { POSTGRES_PASSWORD: CANARY } });
  assert.ok(r.project, JSON.stringify(r.findings));
  return {
    def: {
      name: 'demo',
      server: 'app',
      compose: [compose],
      connections: [],
      deploy: DEFAULT_DEPLOY,
      ...(placement ? { placement } : {}),
      proxy: {
        domains: ['demo.test'],
        tls: 'none',
        hsts: false,
        securityHeaders: false,
        routes: [{ path: '/', service: 'web', port: 8000, websocket: false, sse: false }],
      },
    },
    project: r.project,
    findings: [],
  };
}

test('the demo with db on a database server: golden compose files for each server and the firewall unit', () => {
  const stack = demoStack({ db: { server: 'db' } });
  const placed = placementOf(stack, { servers, locate });
  assert.deepEqual(placed, [{ service: 'db', server: 'db', address: '10.0.0.3', allowFrom: '10.0.0.2', port: 5432 }]);
  const split = splitStack(stack, placed);
  check('demo-app.yml', renderComposeDocument(split.main, 'stack demo on app, without db'));
  check('demo-db.yml', renderComposeDocument(split.parts.db!, 'db of stack demo, on db'));
  check('firewall.service', unitText('demo', placed[0]!));
  assert.deepEqual(
    split.rewrites.map((r) => `${r.service} ${r.key}: ${r.host} -> ${r.address}`),
    ['web DATABASE_URL: db -> 10.0.0.3', 'worker DATABASE_URL: db -> 10.0.0.3'],
  );

  const app = parse(renderComposeDocument(split.main, 'x')) as {
    services: Record<string, Record<string, unknown>>;
    volumes?: unknown;
  };
  assert.deepEqual(Object.keys(app.services).sort(), ['web', 'worker']);
  assert.equal(app.services.web!.depends_on, undefined, 'depends_on db is dropped');
  assert.deepEqual(app.services.web!.extra_hosts, ['db:10.0.0.3']);
  assert.equal(app.volumes, undefined, 'db-data stays with db');
  // Interpolated already: a `$` in a value is escaped so that Compose does not read it again.
  assert.equal(
    (app.services.web!.environment as Record<string, string>).DATABASE_URL,
    'postgresql://demo:pw-canary-$$1-Zq@10.0.0.3:5432/demo',
  );
  const db = parse(renderComposeDocument(split.parts.db!, 'x')) as {
    services: Record<string, Record<string, unknown>>;
    volumes: unknown;
  };
  assert.deepEqual(db.services.db!.ports, ['10.0.0.3:5432:5432']);
  assert.deepEqual(db.volumes, { 'db-data': {} });
});

test('bundles of a spread stack: the written compose file only, a secret, and only the files its services name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-split-'));
  writeFileSync(join(dir, 'web.env'), 'TOKEN=web-only\n');
  writeFileSync(join(dir, 'init.sql'), 'select 1;\n');
  const stack = demoStack(
    { db: { server: 'db' } },
    {
      dir,
      compose:
        'services:\n  web: { image: app, env_file: web.env, environment: { DB_HOST: db } }\n  db: { image: postgres:16, volumes: ["./init.sql:/docker-entrypoint-initdb.d/init.sql:ro", "pg:/var/lib/postgresql/data"] }\nvolumes: { pg: {} }\n',
    },
  );
  const placed = placementOf(stack, { servers, locate });
  const split = splitStack(stack, placed);
  const part = makeBundle(
    stack,
    {},
    { rel: 'compose.ferry.yml', text: renderComposeDocument(split.parts.db!, 'x'), services: ['db'] },
  );
  assert.deepEqual(
    part.files.map((f) => `${f.rel}${isSecret(f.content) ? ' (secret)' : ''}`),
    ['compose.ferry.yml (secret)', 'init.sql'],
  );
  assert.deepEqual(part.composeFiles, ['compose.ferry.yml']);
  assert.equal(part.envFile, undefined);
  const main = makeBundle(
    stack,
    {},
    { rel: 'compose.ferry.yml', text: renderComposeDocument(split.main, 'x'), services: ['web'] },
  );
  assert.deepEqual(
    main.files.map((f) => f.rel),
    ['compose.ferry.yml', 'web.env'],
  );
  assert.deepEqual(split.rewrites, [{ service: 'web', key: 'DB_HOST', host: 'db', address: '10.0.0.3' }]);
});

test('host references: only where the name stands as a host', () => {
  const p: Placed[] = [{ service: 'db', server: 'db', address: '10.0.0.3', allowFrom: '10.0.0.2', port: 5432 }];
  const cases: [string, string][] = [
    ['db', '10.0.0.3'],
    ['postgres://u:p@db:5432/x', 'postgres://u:p@10.0.0.3:5432/x'],
    ['postgres://db/x', 'postgres://10.0.0.3/x'],
    ['redis:6379,db:5432', 'redis:6379,10.0.0.3:5432'],
    ['mydb', 'mydb'],
    ['db2:5432', 'db2:5432'],
    ['postgres://u:p@dbhost:5432/db', 'postgres://u:p@dbhost:5432/db'],
    ['db.internal', 'db.internal'],
  ];
  for (const [value, want] of cases) assert.equal(rewriteHosts(value, p).value, want, value);
});

test('list-form environment, links and depends_on lists are cleaned too; a volume stays where it is still used', () => {
  const data = {
    services: {
      app: {
        image: 'a',
        environment: ['DB=db:5432', 'X=1'],
        links: ['db:database', 'cache'],
        depends_on: ['db', 'cache'],
        volumes: ['shared:/s'],
      },
      cache: { image: 'redis' },
      db: { image: 'postgres', volumes: ['pg:/var/lib/postgresql/data'] },
    },
    volumes: { pg: {}, shared: {} },
  };
  const s = splitDocument(data, [
    { service: 'db', server: 'd', address: '10.0.0.3', allowFrom: '10.0.0.2', port: 5432 },
  ]);
  const app = (s.main.services as Record<string, Record<string, unknown>>).app!;
  assert.deepEqual(app.environment, ['DB=10.0.0.3:5432', 'X=1']);
  assert.deepEqual(app.links, ['cache']);
  assert.deepEqual(app.depends_on, ['cache']);
  assert.deepEqual(s.main.volumes, { shared: {} });
});

test('placement refusals: unknown service, routed service, unknown port, no private address, a shared volume', () => {
  const refused = (stack: LoadedStack, srv = servers) => {
    try {
      placementOf(stack, { servers: srv, locate });
    } catch (e) {
      assert.ok(e instanceof InputError);
      return e.findings.map((f) => `${f.code}: ${f.message}`);
    }
    assert.fail('not refused');
  };
  assert.match(refused(demoStack({ dbb: { server: 'db' } })).join('\n'), /unknown-service: .*dbb.*did you mean "db"/);
  assert.match(
    refused(demoStack({ web: { server: 'db' } })).join('\n'),
    /placement-routed: .*web is routed by the proxy/,
  );
  assert.match(refused(demoStack({ worker: { server: 'db' } })).join('\n'), /placement-port-unknown/);
  assert.match(
    refused(demoStack({ db: { server: 'named' } })).join('\n'),
    /placement-no-address: .*server named has no private address/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'ferry-split-'));
  const shared = demoStack(
    { db: { server: 'db' } },
    {
      dir,
      compose:
        'services:\n  web: { image: app, volumes: ["pg:/backup"] }\n  db: { image: postgres:16, volumes: ["pg:/var/lib/postgresql/data"] }\nvolumes: { pg: {} }\n',
    },
  );
  assert.match(
    refused(shared).join('\n'),
    /placement-shared-volume: .*volume pg is mounted by db, placed on another server, and by web/,
  );
  assert.equal(placedPort({ name: 'x', image: 'redis:7', expose: [] } as never, { server: 'db' }), 6379);
  assert.equal(placedPort({ name: 'x', image: 'app', expose: ['9000'] } as never, { server: 'db' }), 9000);
  assert.equal(placedPort({ name: 'x', image: 'app', expose: [] } as never, { server: 'db', port: 7000 }), 7000);
});

test("the DOCKER-USER rule drops what was sent to the published address and port unless it comes from the stack's server", () => {
  assert.deepEqual(
    dropRule('demo', { service: 'db', address: '10.0.0.3', allowFrom: '10.0.0.2', port: 5432 }).join(' '),
    'DOCKER-USER -p tcp -m conntrack --ctorigdst 10.0.0.3 --ctorigdstport 5432 --ctdir ORIGINAL ! -s 10.0.0.2 -m comment --comment ferry-demo-db -j DROP',
  );
});
