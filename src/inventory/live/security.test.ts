/**
 * The hardening audit on real output of the security probe, captured from a test bed host as
 * it boots (security.out) and from one that `ferry apply` hardened (security-hardened.out):
 * the facts, the controls that pass and fail, the score, the findings and the inventory line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hardeningAudit } from '../../check/live/hardening.js';
import { HARDENING_AUDIT_CODES } from '../../core/codes.js';
import type { LoadedFleet } from '../../model/loaded.js';
import { emptyFacts, type ContainerFacts, type HostFacts } from './facts.js';
import { sections } from './probe.js';
import { parseSecurity } from './probes/security.js';
import { hardeningLine } from './render.js';
import { jailsOnWrongPort, openPublishedPorts, securityReport } from './security.js';

const read = (name: string) =>
  parseSecurity(sections(readFileSync(new URL(`../../../test/fixtures/probes/${name}`, import.meta.url), 'utf8')));

const container = (name: string, hostPort: number): ContainerFacts =>
  ({
    name,
    state: 'running',
    ports: [{ hostIp: '0.0.0.0', hostPort, containerPort: 8000, protocol: 'tcp' }],
  }) as ContainerFacts;

/** A server as the test bed boots it, or as hardening leaves it, with the published ports 8081 and 8082. */
function server(hardened: boolean): HostFacts {
  const f = emptyFacts('box', '203.0.113.10', '2026-12-02T18:00:00Z');
  f.security = read(hardened ? 'security-hardened.out' : 'security.out');
  f.docker = { installed: true } as HostFacts['docker'];
  f.containers = [container('web-opened-1', 8081), container('web-closed-1', 8082)];
  f.ufw = hardened
    ? {
        installed: true,
        active: true,
        defaultIncoming: 'deny',
        rules: [{ to: '2222/tcp', action: 'ALLOW IN', from: 'Anywhere' }],
      }
    : { installed: true, active: false, rules: [] };
  f.fail2ban = { installed: true, running: hardened, jails: hardened ? ['nginx-http-auth', 'sshd'] : [] };
  return f;
}

test('the probe reads sshd, swap, upgrades, pending updates, the jails and DOCKER-USER, bare and hardened', () => {
  const bare = read('security.out');
  assert.deepEqual(bare.sshd, { ports: [22], permitRootLogin: 'without-password', passwordLogin: true });
  assert.equal(bare.swapBytes, 0);
  assert.equal(bare.autoUpgrades, false);
  assert.equal(bare.pendingSecurity, 0);
  assert.deepEqual(bare.fail2banPorts, { sshd: ['ssh'] });
  assert.deepEqual(bare.dockerUser, ['-A DOCKER-USER -j RETURN']);

  const hard = read('security-hardened.out');
  assert.deepEqual(hard.sshd, { ports: [2222], permitRootLogin: 'no', passwordLogin: false });
  assert.equal(hard.autoUpgrades, true);
  assert.ok(hard.fail2banPorts.sshd!.includes('2222'), JSON.stringify(hard.fail2banPorts));
  assert.ok(hard.fail2banPorts['nginx-http-auth']!.includes('http'), JSON.stringify(hard.fail2banPorts));
  assert.ok(hard.dockerUser.includes('-A DOCKER-USER -j FERRY-HARDEN'));
  assert.ok(
    hard.dockerUser.includes('-A FERRY-HARDEN -p tcp -m conntrack --ctorigdstport 8081 --ctdir ORIGINAL -j RETURN'),
  );
});

test('a bare server fails the controls hardening fixes; a hardened one only lacks swap (none was asked)', () => {
  assert.deepEqual(securityReport(server(false)), {
    score: 13,
    passed: ['pending-security-updates'],
    failed: [
      'ssh-password-login',
      'ssh-root-login',
      'firewall-off',
      'published-port-open',
      'no-fail2ban',
      'no-swap',
      'no-auto-upgrades',
    ],
  });
  assert.deepEqual(securityReport(server(true)), {
    score: 89,
    passed: HARDENING_AUDIT_CODES.filter((c) => c !== 'no-swap'),
    failed: ['no-swap'],
  });
  assert.deepEqual(securityReport(emptyFacts('x', 'x', '')), { passed: [], failed: [] }, 'not read is no score');
});

test('published ports past the firewall: 8082 with ufw off or not opened in DOCKER-USER; 8081 opened', () => {
  assert.deepEqual(
    openPublishedPorts(server(false)).map((o) => o.port.hostPort),
    [8081, 8082],
  );
  assert.deepEqual(openPublishedPorts(server(true)), []);
  const noDrop = server(true);
  noDrop.security.dockerUser = noDrop.security.dockerUser.filter((r) => !/-j DROP$/.test(r));
  assert.deepEqual(
    openPublishedPorts(noDrop).map((o) => o.port.hostPort),
    [8082],
  );
});

test('an sshd jail on port 22 while sshd listens on 2222 bans nobody: fail2ban-wrong-port, with both ports said', () => {
  const f = server(true);
  f.security.fail2banPorts = { sshd: ['ssh'], 'nginx-http-auth': ['http', 'https'] };
  assert.deepEqual(jailsOnWrongPort(f), [{ jail: 'sshd', ports: ['ssh'] }]);
  const findings = hardeningAudit({} as LoadedFleet, new Map([['box', f]]));
  assert.deepEqual(
    findings.map((x) => [x.code, x.severity, x.server]),
    [
      ['fail2ban-wrong-port', 'warning', 'box'],
      ['no-swap', 'warning', 'box'],
    ],
  );
  assert.equal(
    findings[0]!.message,
    'fail2ban on box bans nobody who reaches sshd: jail sshd watches port ssh, sshd listens on 2222',
  );
  assert.equal(hardeningLine(f), 'Hardening: 78/100, failing: fail2ban-wrong-port, no-swap');
});

test('the audit of a bare server names what it read', () => {
  const byCode = new Map(
    hardeningAudit({} as LoadedFleet, new Map([['box', server(false)]])).map((x) => [x.code, x.message]),
  );
  assert.equal(byCode.get('ssh-root-login'), 'sshd on box lets root log in (PermitRootLogin without-password)');
  assert.equal(byCode.get('firewall-off'), 'box has no firewall that denies by default: ufw is inactive');
  assert.equal(
    byCode.get('published-port-open'),
    'published ports on box reach other hosts past the firewall: 8081/tcp (web-opened-1), 8082/tcp (web-closed-1)',
  );
  assert.equal(byCode.get('no-fail2ban'), 'box has no fail2ban jail for sshd: fail2ban is not running');
  assert.equal(hardeningLine(server(false)).startsWith('Hardening: 13/100, failing: ssh-password-login'), true);
});
