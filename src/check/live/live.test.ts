import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyFacts, type ContainerFacts, type HostFacts } from '../../inventory/live/facts.js';
import { brief, fleet, port, project, server, service, stack } from '../test-helpers/make.js';
import { runLiveChecks } from './index.js';

const GiB = 1024 ** 3;

function facts(over: Partial<HostFacts> = {}): HostFacts {
  return { ...emptyFacts('app', '203.0.113.20', '2026-11-22T00:00:00Z'), ...over };
}

function container(name: string, over: Partial<ContainerFacts> = {}): ContainerFacts {
  return {
    name,
    id: 'abc',
    image: 'x:1',
    imageId: 'sha256:1',
    state: 'running',
    ports: [],
    mounts: [],
    memoryLimit: 0,
    ...over,
  };
}

const web = (published: number, over = {}) =>
  service('web', {
    image: 'example/web:1',
    ports: [port(0, published, 80)],
    resources: { memoryLimit: 2 * GiB },
    ...over,
  });

test('port-in-use: a host process or another project holds the port; the stack itself does not count', () => {
  const f = fleet([stack('shop', project([web(80)], { name: 'shop' }), { server: 'app' })], [server('app')]);
  const byNginx = runLiveChecks(
    f,
    new Map([['app', facts({ listening: [{ protocol: 'tcp', address: '0.0.0.0', port: 80, process: 'nginx' }] })]]),
  );
  assert.deepEqual(
    brief(byNginx).filter((x) => x.code === 'port-in-use'),
    [
      {
        code: 'port-in-use',
        severity: 'error',
        message: 'shop/web publishes 80/tcp, but on server app it is already used by nginx listening on 0.0.0.0:80',
        path: 'services/web/ports/0',
      },
    ],
  );
  const other = facts({
    containers: [
      container('blog-web-1', {
        project: 'blog',
        ports: [{ hostIp: '0.0.0.0', hostPort: 80, containerPort: 8080, protocol: 'tcp' }],
      }),
    ],
  });
  assert.match(
    runLiveChecks(f, new Map([['app', other]]))[0]!.message,
    /already used by container blog-web-1 \(project blog\)/,
  );
  const itself = facts({
    containers: [
      container('shop-web-1', {
        project: 'shop',
        ports: [{ hostIp: '0.0.0.0', hostPort: 80, containerPort: 80, protocol: 'tcp' }],
      }),
    ],
  });
  assert.deepEqual(
    runLiveChecks(f, new Map([['app', itself]])).filter((x) => x.code === 'port-in-use'),
    [],
  );
  const loopbackOnly = facts({ listening: [{ protocol: 'tcp', address: '127.0.0.1', port: 80, process: 'nginx' }] });
  const bound = fleet(
    [
      stack('shop', project([web(80, { ports: [port(0, 80, 80, { hostIp: '10.0.0.5' })] })], { name: 'shop' }), {
        server: 'app',
      }),
    ],
    [server('app')],
  );
  assert.deepEqual(runLiveChecks(bound, new Map([['app', loopbackOnly]])), []);
});

test('capacity: limits against measured memory, pending stacks against what is free now', () => {
  const f = fleet([stack('shop', project([web(8080)], { name: 'shop' }), { server: 'app' })], [server('app')]);
  const small = facts({ system: { disks: [], memory: { total: 1 * GiB, available: 0.5 * GiB } } });
  assert.deepEqual(brief(runLiveChecks(f, new Map([['app', small]]))), [
    {
      code: 'capacity',
      severity: 'error',
      message: 'server app: memory limits × replicas total 2 GiB, more than its measured 1 GiB of memory',
      path: 'servers/app',
    },
  ]);
  const busy = facts({ system: { disks: [], memory: { total: 4 * GiB, available: 1 * GiB } } });
  assert.deepEqual(brief(runLiveChecks(f, new Map([['app', busy]]))), [
    {
      code: 'capacity',
      severity: 'warning',
      message: 'server app: stacks not running yet (shop) may use up to 2 GiB, more than the 1 GiB available now',
      path: 'servers/app',
    },
  ]);
  const roomy = facts({ system: { disks: [], memory: { total: 8 * GiB, available: 6 * GiB } } });
  assert.deepEqual(runLiveChecks(f, new Map([['app', roomy]])), []);
});

test('exposed-port from running containers, saying what ufw does', () => {
  const pg = container('db-postgres-1', {
    image: 'postgres:16',
    project: 'db',
    service: 'postgres',
    ports: [
      { hostIp: '0.0.0.0', hostPort: 5432, containerPort: 5432, protocol: 'tcp' },
      { hostIp: '::', hostPort: 5432, containerPort: 5432, protocol: 'tcp' },
    ],
  });
  const f = facts({
    containers: [pg],
    ufw: {
      installed: true,
      active: true,
      defaultIncoming: 'deny',
      rules: [{ to: '22/tcp', action: 'ALLOW IN', from: 'Anywhere' }],
    },
  });
  const out = runLiveChecks(fleet([], [server('app')]), new Map([['app', f]]));
  assert.equal(out.length, 1);
  assert.equal(out[0]!.code, 'exposed-port');
  assert.match(
    out[0]!.message,
    /container db-postgres-1 \(PostgreSQL\) is published on all interfaces at port 5432\/tcp; ufw does not allow 5432, but Docker's rules come first/,
  );
  const local = container('db-postgres-1', {
    image: 'postgres:16',
    ports: [{ hostIp: '127.0.0.1', hostPort: 5432, containerPort: 5432, protocol: 'tcp' }],
  });
  assert.deepEqual(runLiveChecks(fleet([]), new Map([['app', facts({ containers: [local] })]])), []);
});

test('certificates within 21 days and disks over 80 %', () => {
  const f = facts({
    certificates: [
      {
        path: '/etc/letsencrypt/live/a/fullchain.pem',
        subject: 'CN=a.example.com',
        names: ['a.example.com'],
        notAfter: '2026-12-01T00:00:00.000Z',
        daysLeft: 9,
      },
      { path: '/etc/ssl/b.pem', subject: 'CN=b', names: [], notAfter: '2026-11-01T00:00:00.000Z', daysLeft: -21 },
      { path: '/etc/ssl/c.pem', subject: 'CN=c', names: ['c'], notAfter: '2027-02-01T00:00:00.000Z', daysLeft: 71 },
    ],
    system: {
      disks: [
        { mount: '/', filesystem: '/dev/vda1', size: 100, used: 85, available: 15, usePercent: 85 },
        { mount: '/data', filesystem: '/dev/vdb', size: 100, used: 97, available: 3, usePercent: 97 },
        { mount: '/boot', filesystem: '/dev/vda2', size: 100, used: 10, available: 90, usePercent: 10 },
      ],
    },
  });
  assert.deepEqual(
    runLiveChecks(fleet([]), new Map([['app', f]])).map((x) => [x.code, x.severity, x.message]),
    [
      ['disk-usage', 'error', 'disk /data on app is 97% full'],
      ['certificate-expiry', 'error', 'certificate for CN=b on app expired on 2026-11-01'],
      ['disk-usage', 'warning', 'disk / on app is 85% full'],
      ['certificate-expiry', 'warning', 'certificate for a.example.com on app expires in 9 days (2026-12-01)'],
    ],
  );
});
