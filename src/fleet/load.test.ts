import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding } from '../core/finding.js';
import { loadFleetFile } from './load.js';
import { DEFAULT_DEPLOY } from '../model/fleet.js';

const dir = fileURLToPath(new URL('../../test/fixtures/fleet/', import.meta.url));
const load = (name: string) => loadFleetFile(name, { cwd: dir });
const GiB = 1024 ** 3;

const STACK_KEYS =
  'server, compose, env_file, profiles, project, connections, deploy, migrate, proxy, backups, services';
const SERVER_KEYS =
  'host, user, port, sudo, identity_file, memory, cpus, disk, cost, postgres, private_address, harden';

test('a valid fleet file becomes a Fleet', () => {
  const { fleet, findings } = load('valid/ferry.yml');
  assert.deepEqual(findings, []);
  assert.ok(fleet);
  assert.equal(fleet.file, join(dir, 'valid/ferry.yml'));
  assert.equal(fleet.display, 'valid/ferry.yml');
  assert.deepEqual(fleet.servers, {
    app: {
      name: 'app',
      host: '203.0.113.20',
      user: 'deploy',
      port: 2222,
      memory: 16 * GiB,
      cpus: 8,
      disk: 160 * GiB,
      cost: 18,
    },
    db: {
      name: 'db',
      host: '203.0.113.30',
      memory: 8 * GiB,
      cpus: 4,
      postgres: { maxConnections: 500, cluster: 'main', port: 5432, superuser: 'postgres', tune: false },
    },
  });
  assert.deepEqual(fleet.stacks, {
    marketing: {
      name: 'marketing',
      server: 'app',
      compose: [join(dir, 'valid/marketing/docker-compose.yml')],
      envFile: join(dir, 'valid/marketing/.env.prod'),
      profiles: ['prod'],
      connections: [],
      deploy: DEFAULT_DEPLOY,
    },
    api: {
      name: 'api',
      server: 'app',
      compose: [join(dir, 'valid/api/compose.yml'), join(dir, 'valid/api/compose.prod.yml')],
      project: 'api',
      connections: [
        { service: 'api', pool: 25, replicas: 3, processes: 1, to: 'db/postgres', index: 0 },
        { service: 'worker', pool: 5, processes: 4, to: 'server:db', index: 1 },
        { service: 'api', pool: 2, to: 'cache', index: 2 },
      ],
      deploy: DEFAULT_DEPLOY,
    },
    db: { name: 'db', server: 'db', compose: ['/srv/db/compose.yml'], connections: [], deploy: DEFAULT_DEPLOY },
  });
  assert.deepEqual(Object.keys(fleet.stacks), ['marketing', 'api', 'db']);
});

test('Fleet.locate maps key paths to file:line:column', () => {
  const { fleet } = load('valid/ferry.yml');
  assert.ok(fleet);
  assert.deepEqual(fleet.locate(['stacks', 'api', 'connections', 0, 'to']), {
    file: 'valid/ferry.yml',
    line: 25,
    column: 62,
    path: 'stacks/api/connections/0/to',
  });
  assert.deepEqual(fleet.locate(['stacks', 'marketing', 'server']), {
    file: 'valid/ferry.yml',
    line: 16,
    column: 5,
    path: 'stacks/marketing/server',
  });
  // through a merge key, into the anchor it came from
  assert.deepEqual(fleet.locate(['servers', 'app', 'port']), {
    file: 'valid/ferry.yml',
    line: 4,
    column: 3,
    path: 'servers/app/port',
  });
  // a path that does not exist points at its nearest ancestor
  assert.deepEqual(fleet.locate(['servers', 'db', 'cost']), {
    file: 'valid/ferry.yml',
    line: 8,
    column: 3,
    path: 'servers/db/cost',
  });
});

test('defaults: user and port left to ~/.ssh/config (then root, 22), no sizes, no connections', () => {
  const { fleet, findings } = load('valid/defaults.yml');
  assert.deepEqual(findings, []);
  assert.ok(fleet);
  assert.deepEqual(fleet.servers, { app: { name: 'app', host: 'app.example.com' } });
  assert.deepEqual(fleet.stacks, {
    marketing: {
      name: 'marketing',
      server: 'app',
      compose: [join(dir, 'valid/docker-compose.yml')],
      connections: [],
      deploy: DEFAULT_DEPLOY,
    },
  });
});

test('sizes: units and plain bytes; a size without a unit warns', () => {
  const { fleet, findings } = load('valid/sizes.yml');
  assert.ok(fleet);
  const sizes = Object.fromEntries(Object.values(fleet.servers).map((s) => [s.name, [s.memory, s.disk]]));
  assert.deepEqual(sizes, {
    a: [512 * 1024 ** 2, 1.5 * 1024 ** 4],
    b: [2 * GiB, 160 * GiB],
    c: [16 * GiB, 512 * 1024 ** 2],
    d: [16, undefined],
  });
  assert.deepEqual(findings, [
    {
      code: 'schema',
      severity: 'warning',
      message: 'servers/d/memory is 16 bytes; a size without a unit is a number of bytes',
      where: { file: 'valid/sizes.yml', line: 5, column: 17, path: 'servers/d/memory' },
      hint: 'Write the unit, for example `memory: 16GiB`.',
      server: 'd',
    },
  ]);
});

test('compose as a string or a list; paths relative to ferry.yml, not to the working directory', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  try {
    writeFileSync(
      join(tmp, 'ferry.yml'),
      [
        'servers:',
        '  app: { host: a }',
        'stacks:',
        '  one: { server: app, compose: one.yml }',
        '  two: { server: app, compose: [../two/a.yml, ./two/b.yml], env_file: ../.env }',
        '',
      ].join('\n'),
    );
    const { fleet, findings } = loadFleetFile(join(tmp, 'ferry.yml'), { cwd: '/' });
    assert.deepEqual(findings, []);
    assert.ok(fleet);
    assert.equal(fleet.display, join(tmp, 'ferry.yml').slice(1));
    assert.deepEqual(fleet.stacks['one']?.compose, [join(tmp, 'one.yml')]);
    assert.deepEqual(fleet.stacks['two']?.compose, [join(tmp, '../two/a.yml'), join(tmp, 'two/b.yml')]);
    assert.equal(fleet.stacks['two']?.envFile, join(tmp, '../.env'));
    // the same file named relative to another working directory
    const again = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.equal(again.fleet?.display, 'ferry.yml');
    assert.deepEqual(again.fleet?.stacks['one']?.compose, [join(tmp, 'one.yml')]);
    // a file outside the working directory is shown with its absolute path
    const outside = loadFleetFile(join(tmp, 'ferry.yml'), { cwd: join(tmp, 'sub') });
    assert.equal(outside.fleet?.display, join(tmp, 'ferry.yml'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('unknown keys, with suggestions', () => {
  const { fleet, findings } = load('errors/unknown-key.yml');
  assert.equal(fleet, undefined);
  assert.deepEqual(findings, [
    {
      code: 'schema',
      severity: 'error',
      message: 'unknown key "memroy" in servers/app; did you mean "memory"?',
      where: { file: 'errors/unknown-key.yml', line: 2, column: 30, path: 'servers/app/memroy' },
      hint: `Rename "memroy" to "memory". Keys allowed in servers/app: ${SERVER_KEYS}.`,
      server: 'app',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'missing required key "server" in stacks/marketing',
      where: { file: 'errors/unknown-key.yml', line: 4, column: 3, path: 'stacks/marketing' },
      hint: 'Name of the server (under `servers`) the stack runs on.',
      stack: 'marketing',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'unknown key "sever" in stacks/marketing; did you mean "server"?',
      where: { file: 'errors/unknown-key.yml', line: 5, column: 5, path: 'stacks/marketing/sever' },
      hint: `Rename "sever" to "server". Keys allowed in stacks/marketing: ${STACK_KEYS}.`,
      stack: 'marketing',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'unknown key "colour" in stacks/marketing',
      where: { file: 'errors/unknown-key.yml', line: 7, column: 5, path: 'stacks/marketing/colour' },
      hint: `Remove it. Keys allowed in stacks/marketing: ${STACK_KEYS}.`,
      stack: 'marketing',
    },
  ]);
});

test('a misspelt key is not matched to a key that is already there', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  try {
    writeFileSync(join(tmp, 'ferry.yml'), 'servers:\n  app: { host: a, hots: b }\nstacks: {}\n');
    const { findings } = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.deepEqual(
      findings.map((f) => f.message),
      ['unknown key "hots" in servers/app'],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('wrong types and values', () => {
  const { fleet, findings } = load('errors/wrong-type.yml');
  assert.equal(fleet, undefined);
  const where = (line: number, column: number, path: string) => ({ file: 'errors/wrong-type.yml', line, column, path });
  assert.deepEqual(findings, [
    {
      code: 'schema',
      severity: 'error',
      message: 'servers/app/port must be a whole number from 1 to 65535, got "22"',
      where: where(4, 5, 'servers/app/port'),
      hint: 'SSH port. Default: the Port of this host in ~/.ssh/config, else 22.',
      server: 'app',
    },
    {
      code: 'schema',
      severity: 'error',
      message:
        'servers/app/memory must be a size: a whole number of bytes, or a number with a unit such as 512MiB, 16GiB or 1.5TB, got "lots"',
      where: where(5, 5, 'servers/app/memory'),
      hint: 'Memory (RAM) of the server: bytes, or a number with a unit: K, M, G, T or P, optionally followed by B or iB (512M, 512MiB, 16GiB, 2g, 1.5GB). Every unit is a power of 1024, as Docker reads memory limits.',
      server: 'app',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'servers/app/cpus must be a number of CPUs greater than 0, got 0',
      where: where(6, 5, 'servers/app/cpus'),
      hint: 'Number of CPUs (cores or vCPUs) of the server.',
      server: 'app',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'servers/app/postgres/max_connections must be a whole number of 1 or more, got 1.5',
      where: where(7, 17, 'servers/app/postgres/max_connections'),
      hint: "The server's Postgres `max_connections` setting; the connection-budget check adds up the pools of `connections` against it.",
      server: 'app',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'stacks/web/compose/1 must be a file path, got 3',
      where: where(11, 28, 'stacks/web/compose/1'),
      hint: 'Compose file, or list of Compose files applied in order (like `docker compose -f a -f b`). Relative paths are resolved from the directory of ferry.yml.',
      stack: 'web',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'stacks/web/profiles must be a list of profile names, got "prod"',
      where: where(12, 5, 'stacks/web/profiles'),
      hint: 'Compose profiles to enable (like `docker compose --profile`).',
      stack: 'web',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'stacks/web/connections/0/pool must be a whole number of 1 or more, got 0',
      where: where(14, 25, 'stacks/web/connections/0/pool'),
      hint: 'Connections in the pool of each process.',
      stack: 'web',
    },
    {
      code: 'schema',
      severity: 'error',
      message:
        'stacks/web/connections/0/to must be STACK/SERVICE, SERVICE (a service of this stack) or server:NAME, got "not a target"',
      where: where(14, 34, 'stacks/web/connections/0/to'),
      hint: 'The Postgres the pool connects to: STACK/SERVICE for a Postgres service of another stack, SERVICE for one in this stack, or server:NAME for a Postgres installed on a server.',
      stack: 'web',
    },
  ]);
});

test('empty values, empty lists and a size too large for bytes', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  try {
    writeFileSync(
      join(tmp, 'ferry.yml'),
      [
        'servers:',
        '  app: { host: a, disk: 99999999999P }',
        'stacks:',
        '  web:',
        '    server:',
        '    compose: []',
        '  api: { server: app, compose: a.yml, connections: {} }',
        '',
      ].join('\n'),
    );
    const { fleet, findings } = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.equal(fleet, undefined);
    assert.deepEqual(
      findings.map((f) => [f.where.line, f.message]),
      [
        [
          5,
          'stacks/web/server must be a server name: lower-case letters, digits, "_" and "-", starting with a letter or digit, got an empty value',
        ],
        [6, 'stacks/web/compose must be a list of one or more file paths, got an empty list'],
        [7, 'stacks/api/connections must be a list of connection pools, got an empty mapping'],
      ],
    );
    writeFileSync(join(tmp, 'ferry.yml'), 'servers:\n  app: { host: a, disk: 99999999999P }\nstacks: {}\n');
    assert.deepEqual(
      loadFleetFile('ferry.yml', { cwd: tmp }).findings.map((f) => [f.where.line, f.message]),
      [[2, 'servers/app/disk is too large, got "99999999999P"']],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('missing required keys, and an unknown top-level key', () => {
  const { fleet, findings } = load('errors/missing-key.yml');
  assert.equal(fleet, undefined);
  assert.deepEqual(findings, [
    {
      code: 'schema',
      severity: 'error',
      message: 'missing required key "stacks" at the top level',
      where: { file: 'errors/missing-key.yml', line: 1, column: 1, path: '' },
      hint: 'The stacks of the fleet, by name (lower-case letters, digits, "_" and "-", starting with a letter or digit).',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'missing required key "host" in servers/app',
      where: { file: 'errors/missing-key.yml', line: 2, column: 3, path: 'servers/app' },
      hint: 'Host name or IP address to reach the server at over SSH (an alias from ~/.ssh/config works too).',
      server: 'app',
    },
    {
      code: 'schema',
      severity: 'error',
      message: 'unknown key "stack" at the top level; did you mean "stacks"?',
      where: { file: 'errors/missing-key.yml', line: 4, column: 1, path: 'stack' },
      hint: 'Rename "stack" to "stacks". Keys allowed at the top level: servers, stacks, acme, dns, backups, harden, monitoring.',
    },
  ]);
});

test('top-level x- keys are ignored (a place for anchors)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  try {
    writeFileSync(join(tmp, 'ferry.yml'), 'x-anything: { whatever: 1 }\nservers: {}\nstacks: {}\n');
    const { fleet, findings } = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.deepEqual(findings, []);
    assert.deepEqual(fleet?.servers, {});
    assert.deepEqual(fleet?.stacks, {});
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a stack on a server that is not defined', () => {
  const { fleet, findings } = load('errors/unknown-server.yml');
  // still a fleet, so that later checks can report more; the findings are errors
  assert.deepEqual(Object.keys(fleet?.servers ?? {}), ['app', 'db']);
  assert.equal(fleet?.stacks['marketing']?.server, 'ap');
  assert.deepEqual(findings, [
    {
      code: 'unknown-reference',
      severity: 'error',
      message: 'unknown server "ap" in stacks/marketing/server; did you mean "app"?',
      where: { file: 'errors/unknown-server.yml', line: 6, column: 5, path: 'stacks/marketing/server' },
      hint: 'Servers defined under servers: app, db.',
      stack: 'marketing',
    },
    {
      code: 'unknown-reference',
      severity: 'error',
      message: 'unknown server "web-1" in stacks/blog/server',
      where: { file: 'errors/unknown-server.yml', line: 9, column: 5, path: 'stacks/blog/server' },
      hint: 'Servers defined under servers: app, db.',
      stack: 'blog',
    },
  ]);
});

test('connections to a stack or server that is not defined (services are checked later)', () => {
  const { fleet, findings } = load('errors/unknown-stack.yml');
  assert.deepEqual(
    fleet?.stacks['api']?.connections.map((c) => c.to),
    ['dbb/postgres', 'server:dbx', 'postgres', 'api/postgres'],
  );
  assert.deepEqual(findings, [
    {
      code: 'unknown-reference',
      severity: 'error',
      message: 'unknown stack "dbb" in stacks/api/connections/0/to; did you mean "db/postgres"?',
      where: { file: 'errors/unknown-stack.yml', line: 12, column: 35, path: 'stacks/api/connections/0/to' },
      hint: 'STACK/SERVICE names a Postgres service of another stack; stacks defined: db, api. Write SERVICE alone for a service of this stack, or server:NAME for a Postgres installed on a server.',
      stack: 'api',
      service: 'api',
    },
    {
      code: 'unknown-reference',
      severity: 'error',
      message: 'unknown server "dbx" in stacks/api/connections/1/to; did you mean "server:db"?',
      where: { file: 'errors/unknown-stack.yml', line: 13, column: 34, path: 'stacks/api/connections/1/to' },
      hint: 'server:NAME names a server with a Postgres installed on the host. Servers defined under servers: app, db.',
      stack: 'api',
      service: 'api',
    },
  ]);
});

test('server and stack names follow the Compose project name rule', () => {
  const { fleet, findings } = load('errors/bad-name.yml');
  assert.equal(fleet, undefined);
  assert.deepEqual(findings, [
    {
      code: 'schema',
      severity: 'error',
      message:
        'invalid server name "App_Server" in servers: names must be lower-case letters, digits, "_" and "-", starting with a letter or digit',
      where: { file: 'errors/bad-name.yml', line: 2, column: 3, path: 'servers/App_Server' },
      hint: 'Rename it, for example to "app_server". Server names follow the rule of Compose project names.',
      server: 'App_Server',
    },
    {
      code: 'schema',
      severity: 'error',
      message:
        'invalid stack name "My.Site" in stacks: names must be lower-case letters, digits, "_" and "-", starting with a letter or digit',
      where: { file: 'errors/bad-name.yml', line: 4, column: 3, path: 'stacks/My.Site' },
      hint: 'Rename it, for example to "my-site". Stack names follow the rule of Compose project names.',
      stack: 'My.Site',
    },
  ]);
});

test('schema errors and unknown references are reported together', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  try {
    writeFileSync(
      join(tmp, 'ferry.yml'),
      'servers:\n  app: { port: 22 }\nstacks:\n  web: { server: ap, compose: c.yml }\n',
    );
    const { fleet, findings } = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.equal(fleet, undefined);
    assert.deepEqual(
      findings.map((f): [string, string] => [f.code, f.message]),
      [
        ['schema', 'missing required key "host" in servers/app'],
        ['unknown-reference', 'unknown server "ap" in stacks/web/server; did you mean "app"?'],
      ],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('YAML syntax errors and missing files pass through', () => {
  const syntax = load('errors/syntax.yml');
  assert.equal(syntax.fleet, undefined);
  assert.deepEqual(syntax.findings, [
    {
      code: 'yaml-syntax',
      severity: 'error',
      message: 'Flow map in block collection must be sufficiently indented and end with a }',
      where: { file: 'errors/syntax.yml', line: 3, column: 1 },
      hint: 'Fix the YAML syntax at this position (indentation, quotes, colons).',
    },
  ]);
  const missing = load('nothere/ferry.yml');
  assert.equal(missing.fleet, undefined);
  assert.deepEqual(missing.findings, [
    {
      code: 'missing-file',
      severity: 'error',
      message: 'file not found: nothere/ferry.yml',
      where: { file: 'nothere/ferry.yml' },
      hint: 'Check the path; relative paths are resolved from the file that names them.',
    },
  ]);
});

test('the top level must be a mapping', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  try {
    writeFileSync(join(tmp, 'ferry.yml'), '- a\n- b\n');
    const { fleet, findings } = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.equal(fleet, undefined);
    assert.deepEqual(
      findings.map((f: Finding) => f.code),
      ['yaml-syntax'],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('deploy, proxy and acme: values as written, defaults filled in, bad values located', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  try {
    writeFileSync(join(tmp, 'ca.pem'), 'x');
    writeFileSync(
      join(tmp, 'ferry.yml'),
      [
        'servers: { app: { host: a } }',
        'acme: { email: ops@example.com, directory: "https://acme.test/dir", ca_bundle: ca.pem }',
        'stacks:',
        '  shop:',
        '    server: app',
        '    compose: compose.yml',
        '    deploy: { images: pull, health_timeout: 90s, keep_releases: 3, http_checks: [{ service: web, port: 8000, path: /health }] }',
        '    migrate: { max_pause: 15s }',
        '    proxy:',
        '      domains: [shop.example.com]',
        '      routes:',
        '        - { service: web, port: 8000 }',
        '        - { path: /events, service: web, port: 8000, sse: true, timeout: 2m, rate_limit: { per_second: 5 }, body_size: 10m }',
        '',
      ].join('\n'),
    );
    const { fleet, findings } = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.deepEqual(findings, []);
    assert.deepEqual(fleet!.acme, {
      email: 'ops@example.com',
      directory: 'https://acme.test/dir',
      caBundle: join(tmp, 'ca.pem'),
    });
    assert.deepEqual(fleet!.stacks.shop!.deploy, {
      images: 'pull',
      build: 'server',
      healthTimeoutMs: 90_000,
      keepReleases: 3,
      httpChecks: [{ service: 'web', port: 8000, path: '/health' }],
    });
    assert.equal(fleet!.stacks.shop!.maxPauseMs, 15_000);
    assert.deepEqual(fleet!.stacks.shop!.proxy, {
      domains: ['shop.example.com'],
      tls: 'acme',
      hsts: true,
      securityHeaders: true,
      routes: [
        { path: '/', service: 'web', port: 8000, websocket: false, sse: false },
        {
          path: '/events',
          service: 'web',
          port: 8000,
          websocket: false,
          sse: true,
          timeoutSeconds: 120,
          rateLimit: { perSecond: 5, burst: 10 },
          bodySize: '10m',
        },
      ],
    });
    writeFileSync(
      join(tmp, 'ferry.yml'),
      'servers: { app: { host: a } }\nstacks:\n  shop:\n    server: app\n    compose: c.yml\n    deploy: { keep_releases: 1, health_timeout: soon }\n    proxy: { domains: [Shop.Example.com], routes: [] }\n    migrate: { max_pause: 1 minute }\n',
    );
    const bad = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.equal(bad.fleet, undefined);
    assert.deepEqual(
      bad.findings.map((f) => `${f.where.line}:${f.where.path} ${f.message}`),
      [
        '6:stacks/shop/deploy/keep_releases stacks/shop/deploy/keep_releases must be a whole number from 2 to 100, got 1',
        '6:stacks/shop/deploy/health_timeout stacks/shop/deploy/health_timeout must be a duration such as 30s, 2m or 1h30m, got "soon"',
        '7:stacks/shop/proxy/domains/0 stacks/shop/proxy/domains/0 must be a lower-case domain name such as shop.example.com, got "Shop.Example.com"',
        '7:stacks/shop/proxy/routes stacks/shop/proxy/routes must have at least one route, got an empty list',
        '8:stacks/shop/migrate/max_pause stacks/shop/migrate/max_pause must be a duration such as 30s, 2m or 1h30m, got "1 minute"',
      ],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('dns: resolvers as written, the hook resolved from ferry.yml, durations in seconds and ms; bad values located', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  try {
    const write = (dns: string) =>
      writeFileSync(join(tmp, 'ferry.yml'), `servers: { app: { host: a } }\nstacks: {}\ndns: ${dns}\n`);
    write(
      '{ resolvers: ["127.0.0.1:5353", "2001:db8::53", "[2001:db8::53]:53", 198.51.100.53], hook: ops/dns-hook.sh, max_ttl: 5m, wait: 90s }',
    );
    const { fleet, findings } = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.deepEqual(findings, []);
    assert.deepEqual(fleet!.dns, {
      resolvers: ['127.0.0.1:5353', '2001:db8::53', '[2001:db8::53]:53', '198.51.100.53'],
      hook: join(tmp, 'ops/dns-hook.sh'),
      maxTtlSeconds: 300,
      waitMs: 90_000,
    });
    write('{}');
    assert.deepEqual(loadFleetFile('ferry.yml', { cwd: tmp }).fleet!.dns, {});
    write('{ resolvers: [ns1.example.net], max_ttl: 300, hoook: x }');
    const bad = loadFleetFile('ferry.yml', { cwd: tmp });
    assert.equal(bad.fleet, undefined);
    assert.deepEqual(
      bad.findings.map((f) => `${f.where.path} ${f.message}`),
      [
        'dns/resolvers/0 dns/resolvers/0 must be a name server address: an IP address, optionally with a port (127.0.0.1:5353, [2001:db8::53]:53), got "ns1.example.net"',
        'dns/max_ttl dns/max_ttl must be a duration such as 30s, 2m or 1h30m, got 300',
        'dns/hoook unknown key "hoook" in dns; did you mean "hook"?',
      ],
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
