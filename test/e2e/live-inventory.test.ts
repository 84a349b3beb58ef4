/**
 * `ferry inventory --live` and `ferry check --live` against the test bed's real hosts:
 * host1 runs a compose stack, host2 a Postgres installed on the host, host3 nothing (all
 * Debian 13, Compose v2), and a Debian 12 host with Compose v1 is read besides.
 * Inventory must report exactly what is there; a changed host key is refused; an
 * unreachable host is reported while the others complete; a canary secret never shows.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ferry } from '../cli/run.js';
import { composeOn, loadImages, onHost, testbedHosts, testbedIsUp, type TestbedHost } from './helpers.js';
import type { HostFacts } from '../../src/inventory/live/facts.js';

const CANARY = 'canary-live-3b8e51';
const up = testbedIsUp();

interface Live {
  servers: { server: string; facts?: HostFacts; error?: { code: string; message: string; hint: string } }[];
}

/** What every test of this file works with, once `before` set it up. */
interface Bed {
  hosts: TestbedHost[];
  h1: TestbedHost;
  h2: TestbedHost;
  h3: TestbedHost;
  dir: string;
  state: string;
  sshFlags: () => string[];
}

/**
 * host1: a compose stack with a canary secret in its environment; host2: Postgres on the
 * host; host3 bare; and the Debian 12 host as it is.
 */
function setUp(): Bed {
  const [h1, h2, h3] = testbedHosts('debian-13') as [TestbedHost, TestbedHost, TestbedHost];
  const hosts = [h1, h2, h3, ...testbedHosts('debian-12').slice(0, 1)];
  const dir = mkdtempSync(join(tmpdir(), 'ferry-live-'));
  const state = join(dir, 'state');
  loadImages(h1, ['ferry-tb-app:1', 'ferry-tb-redis:1']);
  const compose = `services:\n  web:\n    image: ferry-tb-app:1\n    ports: ["8080:8080"]\n    environment:\n      POSTGRES_PASSWORD: ${CANARY}\n      DATABASE_URL: postgresql://app:${CANARY}@db:5432/app\n    mem_limit: 256m\n  redis:\n    image: ferry-tb-redis:1\n    ports: ["127.0.0.1:6379:6379"]\n    volumes: ["redis-data:/data"]\nvolumes:\n  redis-data: {}\n`;
  onHost(
    h1,
    'mkdir -p /srv/tbshop && cat > /srv/tbshop/docker-compose.yml && cd /srv/tbshop && docker compose -p tbshop up -d 2>&1',
    compose,
  );
  onHost(h2, 'systemctl start postgresql && for i in $(seq 1 30); do pg_isready -q && exit 0; sleep 1; done; exit 1');
  writeFileSync(
    join(dir, 'ferry.yml'),
    `servers:\n${hosts.map((h) => `  ${h.name}: { host: ${h.host}, user: root, port: ${h.port} }`).join('\n')}\nstacks: {}\n`,
  );
  writeFileSync(join(dir, '.env'), `SECRET_KEY=${CANARY}\n`);
  const sshFlags = (): string[] => [
    '-i',
    h1.identityFile,
    '--known-hosts',
    h1.knownHostsFile,
    '--ssh-config',
    '/dev/null',
  ];
  return { hosts, h1, h2, h3, dir, state, sshFlags };
}

describe('live inventory on the test bed', { skip: up ? false : 'test bed not up (npm run testbed:up)' }, () => {
  let b: Bed | undefined;
  before(() => {
    b = setUp();
  });

  after(() => {
    if (!b) return;
    onHost(b.h1, 'cd /srv/tbshop && docker compose -p tbshop down -v 2>&1; rm -rf /srv/tbshop');
    onHost(b.h2, 'systemctl stop postgresql');
  });

  test('reports exactly what runs on each host', () => reportsWhatRuns(b!));

  test('check --live: a port nginx already holds, and a datastore Docker really publishes on every interface', () =>
    checkLive(b!));

  test('a non-root user reads everything through sudo, and is told what is missing without it', () => sudoUser(b!));

  test('an ~/.ssh/config alias gives the address, user and key', () => sshConfigAlias(b!));

  test('a changed host key is refused for that host only', () => changedHostKey(b!));

  test('unreachable hosts are reported with their codes while the others complete', () => unreachableHosts(b!));
});

async function reportsWhatRuns(b: Bed): Promise<void> {
  const { h1, hosts, dir, state, sshFlags } = b;
  const r = await ferry(['inventory', '-f', 'ferry.yml', '--live', '--json', ...sshFlags()], {
    cwd: dir,
    env: { FERRY_STATE_DIR: state },
  });
  assert.equal(r.code, 0, r.err);
  const live = JSON.parse(r.out) as Live;
  const f = (name: string): HostFacts => live.servers.find((s) => s.server === name)!.facts!;

  // Versions, compared with what each host says through plain ssh: Debian 13 with the Compose
  // plugin (v2), Debian 12 with docker-compose (v1).
  const kernel = onHost(h1, 'uname -r').trim();
  for (const h of hosts) {
    const facts = f(h.name);
    const old = h.os === 'debian-12';
    assert.equal(facts.system.os?.id, 'debian');
    assert.equal(facts.system.os?.version, old ? '12' : '13');
    assert.equal(facts.system.kernel, kernel);
    assert.equal(facts.docker.version, onHost(h, "docker version --format '{{.Server.Version}}'").trim());
    assert.deepEqual(facts.docker.compose, {
      flavor: old ? 'standalone' : 'plugin',
      version: onHost(h, `${composeOn(h)} version --short`).trim(),
    });
    assert.equal(facts.docker.swarm, 'inactive');
    assert.equal(facts.nginx.installed, true);
    // Other suites may add sites to a shared host while this one runs: the report must match
    // what the host itself lists, and the distribution's default site is always there.
    assert.deepEqual(
      facts.nginx.sites.map((s) => s.file).sort(),
      onHost(h, 'ls -1 /etc/nginx/sites-enabled/')
        .trim()
        .split('\n')
        .map((n) => `/etc/nginx/sites-enabled/${n}`)
        .sort(),
    );
    assert.ok(facts.nginx.sites.some((s) => s.file === '/etc/nginx/sites-enabled/default'));
    assert.ok(facts.listening.some((l) => l.port === 22 && l.process === 'sshd'));
    assert.deepEqual(facts.problems, []);
  }

  // Suites run side by side put their own stacks on these hosts: this test looks at its own, and
  // at containers Compose did not make.
  const ours = (c: { project?: string }) => c.project === undefined || c.project === 'tbshop';
  const one = f('host1');
  assert.deepEqual(
    one.containers
      .filter(ours)
      .map((c) => [
        c.name,
        c.image,
        c.state,
        c.project,
        c.service,
        c.ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`),
        c.memoryLimit,
      ])
      .sort(),
    [
      ['tbshop-redis-1', 'ferry-tb-redis:1', 'running', 'tbshop', 'redis', ['127.0.0.1:6379->6379/tcp'], 0],
      ['tbshop-web-1', 'ferry-tb-app:1', 'running', 'tbshop', 'web', ['0.0.0.0:8080->8080/tcp'], 256 * 1024 * 1024],
    ],
  );
  const vol = one.volumes.find((v) => v.name === 'tbshop_redis-data');
  assert.ok(vol, JSON.stringify(one.volumes));
  assert.equal(vol.project, 'tbshop');
  assert.equal(typeof vol.sizeBytes, 'number');
  assert.ok(
    one.containers
      .find((c) => c.service === 'redis')!
      .mounts.some((m) => m.name === 'tbshop_redis-data' && m.destination === '/data'),
  );

  const two = f('host2');
  assert.deepEqual(two.containers.filter(ours), []);
  assert.ok(
    two.listening.some((l) => l.port === 5432 && l.process === 'postgres'),
    JSON.stringify(two.listening),
  );
  const three = f('host3');
  assert.deepEqual(three.containers.filter(ours), []);
  assert.equal(
    three.listening.some((l) => l.port === 5432),
    false,
  );

  // The snapshot is kept, with its time, and holds no secret.
  const snap = JSON.parse(readFileSync(join(state, 'inventory', 'latest.json'), 'utf8')) as {
    collectedAt: string;
    servers: unknown[];
  };
  assert.equal(snap.servers.length, hosts.length);
  assert.ok(!Number.isNaN(Date.parse(snap.collectedAt)));
  for (const file of readdirSync(join(state, 'inventory')))
    assert.ok(!readFileSync(join(state, 'inventory', file), 'utf8').includes(CANARY), file);
  assert.ok(!r.out.includes(CANARY) && !r.err.includes(CANARY));

  const text = await ferry(['inventory', '-f', 'ferry.yml', '--live', ...sshFlags()], {
    cwd: dir,
    env: { FERRY_STATE_DIR: state },
  });
  assert.equal(text.code, 0);
  assert.match(text.out, /tbshop-web-1\s+ferry-tb-app:1\s+running/);
  assert.ok(!text.out.includes(CANARY));
}

async function checkLive(b: Bed): Promise<void> {
  const { h1, h3, dir, state, sshFlags } = b;
  onHost(
    h1,
    'docker rm -f tb-exposed >/dev/null 2>&1; docker run -d --name tb-exposed -p 6380:6379 ferry-tb-redis:1 >/dev/null',
  );
  try {
    writeFileSync(
      join(dir, 'web.yml'),
      'services:\n  proxy:\n    image: ferry-tb-app:1\n    ports: ["80:8080"]\n    mem_limit: 128m\n    restart: always\n    healthcheck: { test: ["CMD", "true"] }\n',
    );
    writeFileSync(
      join(dir, 'check.yml'),
      `servers:\n  host1: { host: ${h1.host} }\n  host3: { host: ${h3.host} }\nstacks:\n  web: { server: host3, compose: web.yml }\n`,
    );
    const r = await ferry(['check', '-f', 'check.yml', '--live', '--json', ...sshFlags()], {
      cwd: dir,
      env: { FERRY_STATE_DIR: state },
    });
    assert.equal(r.code, 1, r.err);
    const findings = (
      JSON.parse(r.out) as { findings: { code: string; message: string; where: { line?: number; host?: string } }[] }
    ).findings;
    const inUse = findings.filter((x) => x.code === 'port-in-use');
    assert.equal(inUse.length, 1, JSON.stringify(findings));
    assert.match(
      inUse[0]!.message,
      /web\/proxy publishes 80\/tcp, but on server host3 it is already used by nginx listening on/,
    );
    assert.equal(inUse[0]!.where.line, 4);
    // tbshop's redis is bound to 127.0.0.1 and is not reported; tb-exposed is, with what ufw does.
    const exposed = findings.filter((x) => x.code === 'exposed-port');
    assert.deepEqual(
      exposed.map((x) => x.where.host),
      ['host1'],
    );
    assert.match(
      exposed[0]!.message,
      /container tb-exposed \(Redis\) is published on all interfaces at port 6380\/tcp; ufw is inactive/,
    );
  } finally {
    onHost(h1, 'docker rm -f tb-exposed >/dev/null 2>&1 || true');
  }
}

async function sudoUser(b: Bed): Promise<void> {
  const { h3, dir, state, sshFlags } = b;
  writeFileSync(
    join(dir, 'deploy.yml'),
    `servers:\n  sudo: { host: ${h3.host}, user: deploy, sudo: true }\n  nosudo: { host: ${h3.host}, user: deploy }\nstacks: {}\n`,
  );
  const r = await ferry(['inventory', '-f', 'deploy.yml', '--live', '--json', ...sshFlags()], {
    cwd: dir,
    env: { FERRY_STATE_DIR: state },
  });
  assert.equal(r.code, 0, r.err);
  const live = JSON.parse(r.out) as Live;
  const withSudo = live.servers.find((s) => s.server === 'sudo')!.facts!;
  assert.equal(withSudo.docker.installed, true);
  assert.deepEqual(withSudo.problems, []);
  assert.ok(
    withSudo.listening.some((l) => l.port === 22 && l.process === 'sshd'),
    'ss shows processes only to root',
  );
  const without = live.servers.find((s) => s.server === 'nosudo')!.facts!;
  assert.equal(without.docker.installed, false, 'deploy is not in the docker group');
  assert.match(without.problems[0]!.message, /user deploy is not root and sudo is off/);
}

async function sshConfigAlias(b: Bed): Promise<void> {
  const { h3, dir, state } = b;
  writeFileSync(
    join(dir, 'ssh_config'),
    `Host tbalias\n  HostName ${h3.host}\n  User deploy\n  IdentityFile ${h3.identityFile}\n`,
  );
  writeFileSync(join(dir, 'alias.yml'), 'servers:\n  viaalias: { host: tbalias }\nstacks: {}\n');
  const r = await ferry(
    [
      'inventory',
      '-f',
      'alias.yml',
      '--live',
      '--json',
      '--known-hosts',
      h3.knownHostsFile,
      '--ssh-config',
      join(dir, 'ssh_config'),
    ],
    { cwd: dir, env: { FERRY_STATE_DIR: state } },
  );
  assert.equal(r.code, 0, r.err);
  const facts = (JSON.parse(r.out) as Live).servers[0]!.facts!;
  assert.equal(facts.system.os?.id, 'debian');
  // Logged in as deploy (from the alias), without sudo: told that root-only facts may be missing.
  assert.match(facts.problems[0]!.message, /user deploy is not root and sudo is off/);
}

async function changedHostKey(b: Bed): Promise<void> {
  const { h1, h2, dir, state } = b;
  // Record host2's key under host1's address: host1 now presents a different key.
  const known = readFileSync(h1.knownHostsFile, 'utf8').split('\n');
  const h2Key = known
    .find((l) => l.startsWith(`${h2.host} `))!
    .split(' ')
    .slice(1)
    .join(' ');
  const forged = [...known.filter((l) => l && !l.startsWith(`${h1.host} `)), `${h1.host} ${h2Key}`].join('\n') + '\n';
  writeFileSync(join(dir, 'known_hosts'), forged);
  const r = await ferry(
    [
      'inventory',
      '-f',
      'ferry.yml',
      '--live',
      '--json',
      '-i',
      h1.identityFile,
      '--known-hosts',
      join(dir, 'known_hosts'),
      '--trust-new-host-key',
      '--ssh-config',
      '/dev/null',
    ],
    { cwd: dir, env: { FERRY_STATE_DIR: state } },
  );
  assert.equal(r.code, 1);
  const live = JSON.parse(r.out) as Live;
  const bad = live.servers.find((s) => s.server === 'host1')!;
  assert.equal(bad.error?.code, 'host-key-changed');
  assert.match(bad.error!.message, /SHA256:[A-Za-z0-9+/]{43}/);
  assert.ok(live.servers.filter((s) => s.server !== 'host1').every((s) => s.facts && !s.error));
  assert.equal(readFileSync(join(dir, 'known_hosts'), 'utf8'), forged, 'a changed key is never recorded');
}

async function unreachableHosts(b: Bed): Promise<void> {
  const { h1, h3, dir, state, sshFlags } = b;
  const prefix = h1.host.split('.').slice(0, 3).join('.');
  writeFileSync(
    join(dir, 'unreachable.yml'),
    `servers:\n  host1: { host: ${h1.host} }\n  closed: { host: ${h3.host}, port: 2222 }\n  nobody: { host: ${prefix}.250 }\nstacks: {}\n`,
  );
  const r = await ferry(
    ['inventory', '-f', 'unreachable.yml', '--live', '--json', '--connect-timeout', '3', ...sshFlags()],
    { cwd: dir, env: { FERRY_STATE_DIR: state } },
  );
  assert.equal(r.code, 1);
  const live = JSON.parse(r.out) as Live;
  const by = (n: string) => live.servers.find((s) => s.server === n)!;
  assert.ok(by('host1').facts);
  assert.equal(by('closed').error?.code, 'host-unreachable');
  assert.ok(['connect-timeout', 'host-unreachable'].includes(by('nobody').error!.code), by('nobody').error!.code);
  assert.ok(by('nobody').error!.hint.length > 0);
}
