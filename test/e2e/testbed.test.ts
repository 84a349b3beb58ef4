/**
 * The test bed (`npm run testbed:up`) gives real servers: each host answers SSH with the run's
 * key and a known host key, runs Docker on overlay2 with Compose (v2 on Debian 13, v1 on the
 * Debian 12 host), serves nginx under systemd,
 * and has a `deploy` user with passwordless sudo. Skipped when the test bed is not up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { sshArgs, testbedHosts, testbedInfo, testbedIsUp } from '../../scripts/testbed/lib.mjs';

function ssh(args: string[], command: string): { code: number | null; out: string } {
  const r = spawnSync('ssh', [...args, command], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

if (!testbedIsUp()) {
  test('test bed hosts', (t) => {
    t.skip('the test bed is not up: run `npm run testbed:up` first (CI does)');
  });
} else {
  const { deployUser } = testbedInfo();
  for (const host of testbedHosts()) {
    test(`test bed ${host.name} (${host.container}, ${host.host})`, async (t) => {
      const root = sshArgs(host);
      await t.test('ssh as root with the run key and a known host key', () => {
        const r = ssh(root, 'hostname');
        assert.equal(r.code, 0, r.out);
        assert.equal(r.out, host.container);
      });
      await t.test('docker uses overlay2', () => {
        const r = ssh(root, "docker info --format '{{.Driver}}'");
        assert.equal(r.code, 0, r.out);
        assert.equal(r.out, 'overlay2');
      });
      if (host.os === 'debian-12')
        await t.test('Debian 12 with Compose v1 (docker-compose)', () => {
          const r = ssh(root, '. /etc/os-release && echo $VERSION_ID && docker-compose version --short');
          assert.equal(r.code, 0, r.out);
          assert.match(r.out, /^12\n1\.\d+\.\d+$/);
        });
      else
        await t.test('Debian 13 with Compose v2 (the docker compose plugin)', () => {
          const r = ssh(root, '. /etc/os-release && echo $VERSION_ID && docker compose version --short');
          assert.equal(r.code, 0, r.out);
          assert.match(r.out, /^13\n2\.\d+\.\d+(-\S+)?$/);
        });
      await t.test('nginx is active under systemd', () => {
        const r = ssh(root, 'systemctl is-active nginx');
        assert.equal(r.out, 'active');
      });
      await t.test(`${deployUser} has passwordless sudo`, () => {
        const r = ssh(sshArgs(host, deployUser), 'sudo -n true && id -un');
        assert.equal(r.code, 0, r.out);
        assert.equal(r.out, deployUser);
      });
    });
  }
}
