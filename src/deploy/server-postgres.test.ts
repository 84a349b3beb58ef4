import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { InputError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import type { LoadedFleet } from '../model/loaded.js';
import { RecordingTransport } from '../transport/recording.js';
import { loadWorkspace } from '../workspace/load.js';
import { stackPlan } from './plan.js';
import { hostPostgresAccess } from './host-postgres.js';
import { servedDatabases } from './server-postgres.js';
import { project, server, service, stack } from '../check/test-helpers/make.js';

const demo = fileURLToPath(new URL('../../examples/demo/compose.yml', import.meta.url));

/** The demo stack on `app`, whose Postgres is `postgres`; `env` is the stack's .env. */
function fleet(postgres: string, service: string, env = 'POSTGRES_PASSWORD=pw-canary\n'): LoadedFleet {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-server-postgres-'));
  writeFileSync(join(dir, 'compose.yml'), readFileSync(demo, 'utf8'));
  writeFileSync(join(dir, '.env'), env);
  const text = [
    'servers:',
    `  app: { host: 203.0.113.10, user: root${postgres} }`,
    'stacks:',
    '  shop:',
    '    server: app',
    '    compose: compose.yml',
    '    project: shop',
    `    services: { ${service}: { server_postgres: true } }`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'ferry.yml'), text);
  const ws = loadWorkspace({ cwd: dir, env: {} });
  if (!ws.loaded) throw new Error(`fixture fleet unreadable: ${JSON.stringify(ws.findings)}`);
  return ws.loaded;
}

const local = () => new RecordingTransport('local').when(/^docker image inspect /, { stdout: 'sha256:local\n' });

async function planOf(loaded: LoadedFleet) {
  const stack = loaded.stacks.find((s) => s.def.name === 'shop')!;
  assert.ok(stack.project, JSON.stringify(stack.findings));
  return stackPlan({ stack, server: loaded.fleet.servers.app!, local: local(), fleet: loaded.fleet });
}

test("a Postgres service kept in the server's Postgres: no container of it, its name mapped to the host, its role and database made before the release starts", async () => {
  const loaded = fleet(', postgres: { max_connections: 100 }', 'db');
  const p = await planOf(loaded);
  assert.deepEqual(
    p.steps.map((s) => [s.id, [...s.dependsOn]]),
    [
      ['shop/engine', []],
      ['shop/images', ['shop/engine']],
      ['shop/release', ['shop/engine']],
      ['shop/host-postgres', ['shop/engine']],
      ['shop/server-postgres/db', ['shop/engine']],
      ['shop/up', ['shop/images', 'shop/host-postgres', 'shop/server-postgres/db', 'shop/release']],
      ['shop/prune', ['shop/up']],
    ],
  );
  assert.deepEqual(
    p.meta.services.map((s) => s.name),
    ['web', 'worker'],
  );
  const file = p.bundle.files.find((f) => f.rel === p.bundle.composeFiles[0]);
  assert.ok(file, 'Ferry writes the compose file');
  assert.ok(file.content instanceof Secret, 'the file holds the password: a secret');
  const text = file.content.reveal();
  const doc = parse(text) as { services: Record<string, Record<string, unknown>>; volumes?: unknown };
  assert.deepEqual(Object.keys(doc.services), ['web', 'worker']);
  for (const s of ['web', 'worker']) {
    assert.deepEqual(doc.services[s]!.extra_hosts, ['db:host-gateway']);
    assert.equal(doc.services[s]!.depends_on, undefined);
    // The URL is unchanged: `db` is the host now.
    assert.match(String((doc.services[s]!.environment as Record<string, string>).DATABASE_URL), /@db:5432\/demo$/);
  }
  assert.equal(doc.volumes, undefined, "db-data is not made: the host's Postgres keeps the data");
  assert.match(text, /without db \(kept in app's Postgres\)/);
  const access = hostPostgresAccess(loaded.stacks[0]!, loaded.fleet.servers.app!, loaded.fleet.servers.app!)!;
  assert.deepEqual(access.pairs, [{ database: 'demo', user: 'demo' }]);
  assert.deepEqual(
    access.networks.map((n) => n.name),
    ['shop_default'],
  );
});

test('server_postgres refused where it cannot work, each problem at its key', async () => {
  const cases: [string, string, string, RegExp][] = [
    ['', 'db', 'POSTGRES_PASSWORD=pw\n', /servers\/app has no postgres/],
    [', postgres: { max_connections: 100, port: 5433 }', 'db', 'POSTGRES_PASSWORD=pw\n', /listens on port 5433/],
    [', postgres: { max_connections: 100 }', 'web', 'POSTGRES_PASSWORD=pw\n', /web is not a Postgres service/],
    [', postgres: { max_connections: 100 }', 'db', 'POSTGRES_PASSWORD=\n', /db has no POSTGRES_PASSWORD/],
  ];
  for (const [pg, service, env, message] of cases) {
    await assert.rejects(planOf(fleet(pg, service, env)), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.code, 'server-postgres-invalid');
      assert.match(e.message, message);
      assert.match(e.place, new RegExp(`ferry\\.yml:8:\\d+ \\(stacks/shop/services/${service}/server_postgres\\)`));
      return true;
    });
  }
});

test("server_postgres: a role the commands cannot act as (a space, a backslash) or the server's superuser is refused; the password is kept a secret", () => {
  const pg = { cluster: 'main', port: 5432, superuser: 'postgres', maxConnections: 100, tune: false };
  const home = server('app1', { postgres: pg });
  const kept = (user: string) =>
    stack(
      'shop',
      project([
        service('db', { image: 'postgres:16', environment: { POSTGRES_USER: user, POSTGRES_PASSWORD: 'pw-canary' } }),
      ]),
      { server: 'app1', serverPostgres: ['db'] },
    );
  for (const [user, message] of [
    ['my app', /role "my app" has a space or a backslash/],
    ['a\\b', /has a space or a backslash/],
    ['postgres', /role is postgres, the superuser of app1's Postgres/],
  ] as const)
    assert.throws(
      () => servedDatabases(kept(user), home),
      (e: unknown) => e instanceof InputError && e.code === 'server-postgres-invalid' && message.test(e.message),
      user,
    );
  const [d] = servedDatabases(kept('My-App'), home);
  assert.deepEqual([d!.service, d!.user, d!.db, String(d!.password)], ['db', 'My-App', 'My-App', '[REDACTED]']);
  assert.equal(d!.password.reveal(), 'pw-canary');
});
