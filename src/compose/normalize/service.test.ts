import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeService } from './service.js';

process.env.HOME = '/home/tester';
const opts = { workingDir: '/srv/shop', envFileValues: {} as Record<string, string> };

test('a full service', () => {
  const raw = {
    image: 'shop/web:1.2',
    build: { context: './web', dockerfile: 'Dockerfile.prod', target: 'runtime', args: { A: 1 } },
    container_name: 'shop-web',
    command: ['node', 'server.js'],
    entrypoint: '/entrypoint.sh',
    ports: ['127.0.0.1:8080:80'],
    expose: ['9000', 9001],
    volumes: ['./static:/app/static:ro', 'uploads:/app/uploads'],
    tmpfs: '/run',
    environment: { NODE_ENV: 'production', DEBUG: null, PORT: 80 },
    env_file: ['.env', { path: 'optional.env', required: false }],
    depends_on: { db: { condition: 'service_healthy' } },
    deploy: {
      replicas: 2,
      resources: { limits: { memory: '512m', cpus: '0.5' } },
      restart_policy: { condition: 'on-failure' },
    },
    healthcheck: { test: 'curl -f http://localhost/', interval: '30s', timeout: '5s', retries: 3, start_period: '10s' },
    restart: 'unless-stopped',
    networks: { front: { aliases: ['web'], ipv4_address: '172.20.0.5' }, back: null },
    secrets: ['db_password', { source: 'api_key', target: 'api.key' }, { source: 'cert', target: '/etc/ssl/cert.pem' }],
    configs: ['nginx_conf', { source: 'app_conf', target: '/etc/app.conf' }],
    profiles: ['prod'],
    labels: ['traefik.enable=true', 'team'],
    user: '1000:1000',
  };
  const { service, findings } = normalizeService('web', raw, {
    workingDir: '/srv/shop',
    envFileValues: { NODE_ENV: 'development', FROM_FILE: 'yes', DEBUG: '1' },
  });
  assert.deepEqual(findings, []);
  assert.deepEqual(service, {
    name: 'web',
    image: 'shop/web:1.2',
    build: { context: './web', dockerfile: 'Dockerfile.prod', target: 'runtime', args: { A: '1' } },
    containerName: 'shop-web',
    command: ['node', 'server.js'],
    entrypoint: '/entrypoint.sh',
    ports: [
      {
        hostIp: '127.0.0.1',
        target: 80,
        targetEnd: 80,
        protocol: 'tcp',
        published: 8080,
        publishedEnd: 8080,
        index: 0,
      },
    ],
    expose: ['9000', '9001'],
    volumes: [
      { type: 'bind', source: '/srv/shop/static', target: '/app/static', readOnly: true, index: 0, key: 'volumes' },
      { type: 'volume', source: 'uploads', target: '/app/uploads', readOnly: false, index: 1, key: 'volumes' },
      { type: 'tmpfs', target: '/run', readOnly: false, index: 0, key: 'tmpfs' },
    ],
    environment: { NODE_ENV: 'production', FROM_FILE: 'yes', DEBUG: null, PORT: '80' },
    inlineEnvironment: { NODE_ENV: 'production', DEBUG: null, PORT: '80' },
    envFiles: [
      { path: '/srv/shop/.env', required: true },
      { path: '/srv/shop/optional.env', required: false },
    ],
    dependsOn: { db: { condition: 'service_healthy', required: true, restart: false } },
    resources: { memoryLimit: 536870912, cpuLimit: 0.5 },
    replicas: 2,
    healthcheck: {
      test: ['CMD-SHELL', 'curl -f http://localhost/'],
      interval: '30s',
      timeout: '5s',
      retries: 3,
      startPeriod: '10s',
      disabled: false,
    },
    restart: 'unless-stopped',
    deployRestartCondition: 'on-failure',
    networks: { front: { aliases: ['web'], ipv4Address: '172.20.0.5' }, back: null },
    secrets: [
      { source: 'db_password', target: '/run/secrets/db_password' },
      { source: 'api_key', target: '/run/secrets/api.key' },
      { source: 'cert', target: '/etc/ssl/cert.pem' },
    ],
    configs: [
      { source: 'nginx_conf', target: '/nginx_conf' },
      { source: 'app_conf', target: '/etc/app.conf' },
    ],
    profiles: ['prod'],
    labels: { 'traefik.enable': 'true', team: '' },
    user: '1000:1000',
    raw,
  });
  assert.equal('networkMode' in service, false, 'absent optional fields are left out');
});

test('a minimal service', () => {
  const { service, findings } = normalizeService('cache', { image: 'redis' }, opts);
  assert.deepEqual(findings, []);
  assert.deepEqual(service, {
    name: 'cache',
    image: 'redis',
    ports: [],
    expose: [],
    volumes: [],
    environment: {},
    inlineEnvironment: {},
    envFiles: [],
    dependsOn: {},
    resources: {},
    replicas: 1,
    networks: {},
    secrets: [],
    configs: [],
    profiles: [],
    labels: {},
    raw: { image: 'redis' },
  });
});

const norm = (raw: Record<string, unknown>) => normalizeService('s', raw, opts);

test('build: a string is the context; a mapping defaults context to "."', () => {
  assert.deepEqual(norm({ build: '.' }).service.build, { context: '.' });
  assert.deepEqual(norm({ build: { dockerfile: 'Dockerfile.dev' } }).service.build, {
    context: '.',
    dockerfile: 'Dockerfile.dev',
  });
});

test('command and entrypoint keep the form they were written in', () => {
  const { service } = norm({ command: 'npm start', entrypoint: ['tini', '--'] });
  assert.equal(service.command, 'npm start');
  assert.deepEqual(service.entrypoint, ['tini', '--']);
});

test('env_file: a string, a list, long syntax; ~ and relative paths resolved', () => {
  assert.deepEqual(norm({ env_file: '.env' }).service.envFiles, [{ path: '/srv/shop/.env', required: true }]);
  assert.deepEqual(
    norm({ env_file: ['env/a.env', '/etc/b.env', '~/c.env', { path: './d.env', required: 'false' }] }).service.envFiles,
    [
      { path: '/srv/shop/env/a.env', required: true },
      { path: '/etc/b.env', required: true },
      { path: '/home/tester/c.env', required: true },
      { path: '/srv/shop/d.env', required: false },
    ],
  );
});

test('replicas: deploy.replicas, else scale, else 1; 0 allowed', () => {
  assert.equal(norm({ deploy: { replicas: 3 } }).service.replicas, 3);
  assert.equal(norm({ deploy: { replicas: '4' } }).service.replicas, 4);
  assert.equal(norm({ scale: 2 }).service.replicas, 2);
  assert.equal(norm({ deploy: { replicas: 0 } }).service.replicas, 0);
  assert.equal(norm({ scale: 0 }).service.replicas, 0);
  assert.equal(norm({ deploy: { replicas: 2 }, scale: 2 }).findings.length, 0);
  assert.equal(norm({}).service.replicas, 1);
});

test('replicas: distinct scale and deploy.replicas, and malformed counts', () => {
  const both = norm({ deploy: { replicas: 3 }, scale: 2 });
  assert.equal(both.service.replicas, 3);
  assert.deepEqual(
    both.findings.map((f) => [f.where.path, f.message]),
    [['services/s/scale', 'scale (2) and deploy.replicas (3) differ']],
  );
  const bad = norm({ deploy: { replicas: 'three' }, scale: -1 });
  assert.equal(bad.service.replicas, 1);
  assert.deepEqual(
    bad.findings.map((f) => [f.where.path, f.message]),
    [
      ['services/s/deploy/replicas', 'deploy.replicas "three" is not a whole number of containers'],
      ['services/s/scale', 'scale -1 is not a whole number of containers'],
    ],
  );
});

test('healthcheck: list kept, disable and NONE disable', () => {
  assert.deepEqual(norm({ healthcheck: { test: ['CMD', 'pg_isready'], retries: '5' } }).service.healthcheck, {
    test: ['CMD', 'pg_isready'],
    retries: 5,
    disabled: false,
  });
  assert.deepEqual(norm({ healthcheck: { disable: true } }).service.healthcheck, { disabled: true });
  assert.deepEqual(norm({ healthcheck: { disable: 'true' } }).service.healthcheck, { disabled: true });
  assert.deepEqual(norm({ healthcheck: { test: ['NONE'] } }).service.healthcheck, { test: ['NONE'], disabled: true });
  assert.equal(norm({}).service.healthcheck, undefined);
});

test('healthcheck: malformed values', () => {
  const r = norm({ healthcheck: { test: ['curl', '-f', 'http://x'], retries: 'many', disable: 'perhaps' } });
  assert.deepEqual(
    r.findings.map((f) => [f.where.path, f.message]),
    [
      ['services/s/healthcheck/test', 'healthcheck test starts with "curl", not "CMD", "CMD-SHELL" or "NONE"'],
      ['services/s/healthcheck/disable', 'healthcheck disable "perhaps" is not a boolean'],
      ['services/s/healthcheck/retries', 'healthcheck retries "many" is not a whole number'],
    ],
  );
});

test('networks: list or mapping; network_mode', () => {
  assert.deepEqual(norm({ networks: ['front', 'back'] }).service.networks, { front: null, back: null });
  assert.deepEqual(norm({ networks: { front: {} } }).service.networks, { front: {} });
  assert.equal(norm({ network_mode: 'host' }).service.networkMode, 'host');
});

test('labels: mapping values become strings', () => {
  assert.deepEqual(norm({ labels: { a: 'x', b: 1, c: true, d: null } }).service.labels, {
    a: 'x',
    b: '1',
    c: 'true',
    d: '',
  });
  assert.deepEqual(norm({ labels: ['a=b=c'] }).service.labels, { a: 'b=c' });
});

test('user written as a number is kept as its string', () => {
  assert.equal(norm({ user: 1000 }).service.user, '1000');
});

test('findings carry the service name and only a key path', () => {
  const { findings } = norm({
    ports: ['80:abc'],
    mem_limit: '12 parsecs',
    cpus: 'many',
    image: ['x'],
    command: { run: 'x' },
    secrets: [{ target: '/x' }],
    configs: 'cfg',
    env_file: [{ required: true }],
    networks: 'front',
    labels: [1],
    expose: [{}],
    build: 3,
  });
  assert.deepEqual(
    findings.map((f) => [f.where.path, f.message]),
    [
      ['services/s/ports/0', 'port "80:abc" is malformed: container port "abc" is not a port or range in 0-65535'],
      ['services/s/expose/0', 'expose entry is a mapping, not a string'],
      ['services/s/env_file/0', 'env_file entry is a mapping without a path'],
      ['services/s/mem_limit', 'mem_limit "12 parsecs" is not a memory size'],
      ['services/s/cpus', 'cpus "many" is not a number of CPUs'],
      ['services/s/networks', 'networks is a string, not a list or a mapping'],
      ['services/s/secrets/0', 'secrets entry is a mapping without a source'],
      ['services/s/configs', 'configs is a string, not a list'],
      ['services/s/labels/0', 'label is an integer, not a "key=value" string'],
      ['services/s/image', 'image is a list, not a string'],
      ['services/s/build', 'build is an integer, not a path or a mapping'],
      ['services/s/command', 'command is a mapping, not a string or a list of strings'],
    ],
  );
  for (const f of findings) {
    assert.equal(f.code, 'schema');
    assert.equal(f.severity, 'error');
    assert.equal(f.service, 's');
    assert.deepEqual(Object.keys(f.where), ['path']);
    assert.ok(f.hint.length > 0);
  }
});

test('build.args: a mapping or KEY=VALUE entries; KEY alone and non-scalar values are left to the Dockerfile', () => {
  assert.deepEqual(norm({ build: { args: ['A=1', 'B', 'C=x=y', '=z'] } }).service.build, {
    context: '.',
    args: { A: '1', C: 'x=y' },
  });
  assert.deepEqual(norm({ build: { args: { A: 1, B: null, C: true, D: { x: 1 } } } }).service.build, {
    context: '.',
    args: { A: '1', C: 'true' },
  });
});
