/** Each probe's parser on real output captured from a test bed host (test/fixtures/probes/*.out). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ExecResult } from '../../transport/transport.js';
import { PROBES } from './collect.js';
import { emptyFacts, type HostFacts } from './facts.js';
import { parseDf } from './probes/system.js';
import { dockerSize } from './probes/docker.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../test/fixtures/probes/${name}`, import.meta.url), 'utf8');
const now = new Date('2026-11-22T11:40:00Z');

function applyAll(): HostFacts {
  const facts = emptyFacts('host1', '203.0.113.10', now.toISOString());
  for (const p of PROBES) {
    const result: ExecResult = { code: 0, stdout: fixture(`${p.name}.out`), stderr: '', durationMs: 1, command: '' };
    p.apply(facts, result, { now });
  }
  return facts;
}

test('system: OS, kernel, CPUs, memory, real disks only, load, uptime', () => {
  const f = applyAll();
  assert.deepEqual(f.system.os, { id: 'debian', version: '12', name: 'Debian GNU/Linux 12 (bookworm)' });
  assert.equal(f.system.kernel, '6.18.44-fc-v445');
  assert.equal(f.system.arch, 'x86_64');
  assert.equal(f.system.cpus, 2);
  assert.ok(f.system.memory!.total > 20 * 1024 ** 3 && f.system.memory!.available <= f.system.memory!.total);
  assert.deepEqual(f.system.disks, [
    {
      mount: '/',
      filesystem: 'overlay',
      size: 270553174016,
      used: 26634838016,
      available: 82309455872,
      usePercent: 25,
    },
  ]);
  assert.deepEqual(f.system.load, [1.19, 2.15, 2.31]);
  assert.equal(f.system.uptimeSeconds, 4304);
});

test('docker: engine, Compose v1, Swarm, the container from docker inspect, volumes with sizes, live use', () => {
  const f = applyAll();
  assert.deepEqual(f.docker, {
    installed: true,
    version: '20.10.24+dfsg1',
    compose: { flavor: 'standalone', version: '1.29.2' },
    swarm: 'inactive',
  });
  assert.equal(f.containers.length, 1);
  const c = f.containers[0]!;
  assert.deepEqual(
    {
      name: c.name,
      image: c.image,
      state: c.state,
      project: c.project,
      service: c.service,
      ports: c.ports,
      memoryLimit: c.memoryLimit,
      restartPolicy: c.restartPolicy,
    },
    {
      name: 'cap',
      image: 'ferry-tb-redis:1',
      state: 'running',
      project: 'capture',
      service: 'cache',
      ports: [
        { hostIp: '127.0.0.1', hostPort: 6390, containerPort: 6379, protocol: 'tcp' },
        { hostIp: '0.0.0.0', hostPort: 8089, containerPort: 6379, protocol: 'tcp' },
      ],
      memoryLimit: 64 * 1024 * 1024,
      restartPolicy: 'unless-stopped',
    },
  );
  assert.deepEqual(
    c.mounts.find((m) => m.name === 'capvol'),
    { type: 'volume', source: '/var/lib/docker/volumes/capvol/_data', destination: '/data', name: 'capvol' },
  );
  assert.equal(c.digest, undefined, 'a locally built image has no repo digest');
  assert.equal(c.cpuPercent, 0.17);
  assert.equal(c.memoryUsage, Math.round(3.977 * 1024 * 1024));
  assert.deepEqual(
    f.volumes.find((v) => v.name === 'capvol'),
    { name: 'capvol', driver: 'local', sizeBytes: 4096 },
  );
  assert.equal(f.volumes.length, 3);
});

test('network: listeners with processes (docker-proxy included), ufw rules, fail2ban jails', () => {
  const f = applyAll();
  assert.deepEqual(
    f.listening.map((l) => `${l.protocol} ${l.address}:${l.port} ${l.process ?? '-'}`),
    // By port, then protocol, then address.
    [
      'tcp :::22 sshd',
      'tcp 0.0.0.0:22 sshd',
      'tcp :::80 nginx',
      'tcp 0.0.0.0:80 nginx',
      'tcp 0.0.0.0:443 nginx',
      'tcp 127.0.0.1:6390 docker-proxy',
      'tcp 0.0.0.0:8089 docker-proxy',
      'udp 127.0.0.11:39892 -',
      'tcp 127.0.0.1:40607 containerd',
      'tcp 127.0.0.11:43889 -',
    ],
  );
  assert.deepEqual(f.ufw, {
    installed: true,
    active: true,
    defaultIncoming: 'deny',
    rules: [
      { to: '22/tcp', action: 'ALLOW IN', from: 'Anywhere' },
      { to: '80,443/tcp', action: 'ALLOW IN', from: 'Anywhere' },
      { to: '22/tcp (v6)', action: 'ALLOW IN', from: 'Anywhere (v6)' },
      { to: '80,443/tcp (v6)', action: 'ALLOW IN', from: 'Anywhere (v6)' },
    ],
  });
  assert.deepEqual(f.fail2ban, { installed: true, running: true, jails: ['sshd'] });
});

test('web: nginx sites from nginx -T, the certificate nginx names with its expiry', () => {
  const f = applyAll();
  assert.deepEqual(f.nginx.sites, [
    {
      file: '/etc/nginx/sites-enabled/default',
      serverNames: ['_'],
      listen: ['80 default_server', '[::]:80 default_server'],
      certificates: [],
    },
    {
      file: '/etc/nginx/sites-enabled/shop',
      serverNames: ['shop.example.test', 'www.shop.example.test'],
      listen: ['443 ssl'],
      certificates: ['/etc/ssl/ferry-test/cert.pem'],
    },
  ]);
  assert.deepEqual(f.certificates, [
    {
      path: '/etc/ssl/ferry-test/cert.pem',
      subject: 'CN = shop.example.test',
      names: ['shop.example.test', 'www.shop.example.test'],
      notAfter: '2026-12-02T11:39:43.000Z',
      daysLeft: 9,
    },
  ]);
});

test('schedule: crontab and cron.d entries, compose units with their states', () => {
  const f = applyAll();
  assert.deepEqual(
    f.cron.map((c) => c.source),
    ['crontab', '/etc/cron.d/e2scrub_all', '/etc/cron.d/e2scrub_all'],
  );
  assert.equal(f.cron[0]!.line, '15 3 * * * /usr/local/bin/ferry-backup shop');
  assert.deepEqual(f.composeUnits, [{ unit: 'compose-shop.service', enabled: 'enabled', active: 'inactive' }]);
});

test("backups: the metrics files of runs and drills, and each stack's backup and drill timers", () => {
  const f = applyAll();
  assert.deepEqual(f.backups.runs, [
    { stack: 'shop', repository: 'local', lastRun: 1764730800, ok: false, lastSuccess: 1764644400 },
  ]);
  assert.deepEqual(f.backups.drills, [{ stack: 'shop', repository: 'local', at: 1764734400, ok: true }]);
  assert.deepEqual(f.backups.schedules, {
    shop: { timer: 'active', next: '2026-12-04T03:00:00Z', intervalMs: 24 * 3600_000 },
  });
  assert.deepEqual(f.backups.drillSchedules, {
    shop: {
      timer: 'active',
      next: '2026-12-06T04:00:00Z',
      lastResult: 'exit-code',
      lastExit: '2026-12-03T08:18:18Z',
      intervalMs: 7 * 24 * 3600_000,
    },
  });
});

test('inactive ufw and edge cases of the small parsers', () => {
  const facts = emptyFacts('h', 'h', now.toISOString());
  PROBES.find((p) => p.name === 'network')!.apply(
    facts,
    {
      code: 0,
      stdout: `@@ufw_path\n/usr/sbin/ufw\n@@ufw\n${fixture('ufw-status-inactive.txt')}@@fail2ban_path\n/usr/bin/fail2ban-client\n@@fail2ban\n`,
      stderr: '',
      durationMs: 1,
      command: '',
    },
    { now },
  );
  assert.deepEqual(facts.ufw, { installed: true, active: false, rules: [] });
  assert.deepEqual(facts.fail2ban, { installed: true, running: false, jails: [] });
  assert.deepEqual(
    parseDf(fixture('df.txt')).map((d) => d.mount),
    ['/'],
  );
  assert.equal(dockerSize('1.5GiB'), 1610612736);
  assert.equal(dockerSize('512kB'), 512000);
  assert.equal(dockerSize('garbage'), 0);
});
