import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DEPLOY, type StackDef } from '../model/fleet.js';
import { render } from '../shell/command.js';
import { certificateProblem } from './certificate.js';
import { drive, testContext } from '../engine/test-helpers.js';
import { certbotCommand, CERTBOT_DROPIN, daemonReloadCommand } from './commands.js';
import { CERTBOT_DROPIN_PATH } from './names.js';
import { FileHost } from './test-host.js';
import { proxySteps } from './steps.js';
import { FULL, TLS_NONE } from './test-cases.js';

const stack = (proxy = FULL): StackDef => ({
  name: 'shop',
  server: 'web1',
  compose: ['/srv/shop/compose.yml'],
  connections: [],
  deploy: DEFAULT_DEPLOY,
  proxy,
});
const upstreams = async () => ({});

test('proxySteps with tls acme and a CA bundle: every step, in order, each documented for the runbook', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-proxy-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\n');
    const steps = proxySteps({
      stack: stack(),
      host: 'web1',
      sudo: true,
      acme: { email: 'ops@example.com', directory: 'https://ca.test/dir', caBundle: join(dir, 'ca.pem') },
      upstreams,
      dependsOn: ['shop/up'],
    });
    assert.deepEqual(
      steps.map((s) => `${s.id} <- ${s.dependsOn.join(',')}`),
      [
        'shop/proxy/nginx <- shop/up',
        'shop/proxy/webroot <- shop/proxy/nginx',
        'shop/proxy/upstreams <- shop/proxy/nginx',
        'shop/proxy/site <- shop/proxy/upstreams,shop/proxy/webroot',
        'shop/proxy/acme-ca <- shop/up',
        'shop/proxy/certbot-env <- shop/proxy/acme-ca',
        'shop/proxy/certificate <- shop/proxy/site,shop/proxy/acme-ca,shop/proxy/certbot-env',
        'shop/proxy/renew-hook <- shop/proxy/nginx',
        'shop/proxy/renew-timer <- shop/proxy/renew-hook,shop/proxy/acme-ca,shop/proxy/certbot-env',
        'shop/proxy/site-tls <- shop/proxy/certificate,shop/proxy/renew-timer',
      ],
    );
    for (const s of steps) {
      const d = s.doc();
      assert.equal(s.phase, 'proxy', s.id);
      assert.ok(d.purpose.length > 20 && d.verify.length > 5 && d.undo.length > 5 && d.commands.length > 0, s.id);
      assert.ok(
        d.commands.every((c) => c.startsWith('sudo ')),
        `${s.id}: ${d.commands.join(' / ')}`,
      );
    }
    const cert = steps
      .find((s) => s.id === 'shop/proxy/certificate')!
      .doc()
      .commands.at(-1);
    assert.equal(
      cert,
      'sudo env REQUESTS_CA_BUNDLE=/etc/ferry/acme-ca.pem certbot certonly --webroot -w /var/www/ferry-acme --cert-name shop -d shop.example.com -d www.shop.example.com --non-interactive --agree-tos -m ops@example.com --server https://ca.test/dir',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('proxySteps with tls none: nginx, webroot, upstreams and site only; no proxy, no steps', () => {
  assert.deepEqual(
    proxySteps({ stack: stack(TLS_NONE), host: 'web1', upstreams, dependsOn: [] }).map((s) => s.id),
    ['shop/proxy/nginx', 'shop/proxy/webroot', 'shop/proxy/upstreams', 'shop/proxy/site'],
  );
  const { proxy: _, ...bare } = stack();
  assert.deepEqual(proxySteps({ stack: bare, host: 'web1', upstreams, dependsOn: [] }), []);
});

test('tls acme without the fleet acme, or with an unreadable CA bundle, is refused when planning', () => {
  assert.throws(
    () => proxySteps({ stack: stack(), host: 'web1', upstreams, dependsOn: [] }),
    (e: Error & { code?: string }) => e.code === 'acme-missing',
  );
  assert.throws(
    () =>
      proxySteps({
        stack: stack(),
        host: 'web1',
        acme: { email: 'a@b.c', caBundle: '/nonexistent/ca.pem' },
        upstreams,
        dependsOn: [],
      }),
    (e: Error & { code?: string }) =>
      e.code === 'acme-ca-unreadable' && /file not found: \/nonexistent\/ca\.pem/.test(e.message),
  );
});

test("certbot command: Let's Encrypt by default, forced only to replace a lineage from another CA", () => {
  assert.equal(
    render(
      certbotCommand({
        stack: 'blog',
        domains: ['blog.example.com'],
        acme: { email: 'ops@example.com' },
        caBundle: false,
      }),
    ),
    'certbot certonly --webroot -w /var/www/ferry-acme --cert-name blog -d blog.example.com --non-interactive --agree-tos -m ops@example.com',
  );
  assert.match(
    render(
      certbotCommand({
        stack: 'blog',
        domains: ['blog.example.com'],
        acme: { email: 'ops@example.com' },
        caBundle: false,
        force: true,
      }),
    ),
    / --force-renewal$/,
  );
});

test('a certificate is left alone only when it covers exactly the domains, came from the CA and is valid for 30 days', () => {
  const dir = 'https://ca.test/dir';
  const ok = {
    exists: true as const,
    domains: ['b.test', 'a.test'],
    notAfter: 'Jan  1 00:00:00 2030 GMT',
    valid: true,
    server: dir,
  };
  assert.equal(certificateProblem(ok, ['a.test', 'b.test'], dir), undefined);
  assert.deepEqual(certificateProblem({ exists: false }, ['a.test'], dir), {
    summary: 'issue a certificate for a.test from https://ca.test/dir',
    force: false,
  });
  assert.deepEqual(certificateProblem(ok, ['a.test'], dir), {
    summary: 'replace the certificate: domains b.test, a.test -> a.test',
    force: false,
  });
  assert.deepEqual(certificateProblem({ ...ok, valid: false }, ['a.test', 'b.test'], dir), {
    summary: 'renew the certificate: it expires within 30 days (Jan  1 00:00:00 2030 GMT)',
    force: false,
  });
  assert.deepEqual(certificateProblem(ok, ['a.test', 'b.test'], 'https://other.test/dir'), {
    summary: 'replace the certificate from https://ca.test/dir with one from https://other.test/dir',
    force: true,
  });
});

test('the two site steps write one file but keep their own copies of what they replaced', () => {
  const steps = proxySteps({
    stack: stack(),
    host: 'web1',
    acme: { email: 'ops@example.com' },
    upstreams,
    dependsOn: [],
  });
  const copies = ['shop/proxy/site', 'shop/proxy/site-tls'].map((id) =>
    steps
      .find((s) => s.id === id)!
      .doc()
      .commands.find((c) => c.includes('cp -p'))!,
  );
  assert.deepEqual(copies, [
    'mkdir -p -m 700 /etc/nginx/ferry/previous && cp -p /etc/nginx/sites-enabled/ferry-shop.conf /etc/nginx/ferry/previous/shop%2Fproxy%2Fsite',
    'mkdir -p -m 700 /etc/nginx/ferry/previous && cp -p /etc/nginx/sites-enabled/ferry-shop.conf /etc/nginx/ferry/previous/shop%2Fproxy%2Fsite-tls',
  ]);
});

test("certbot's drop-in: its directory made before the write, systemd reloaded after the write and after its rollback", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-proxy-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), 'CA\n');
    const steps = proxySteps({
      stack: stack(),
      host: 'web1',
      sudo: true,
      acme: { email: 'ops@example.com', caBundle: join(dir, 'ca.pem') },
      upstreams,
      dependsOn: [],
    });
    const dropin = steps.find((s) => s.id === 'shop/proxy/certbot-env')!;
    const t: FileHost = new FileHost('web1');
    t.when(/^stat -c /, (line) => {
      const path = line.split(' ').at(-1)!;
      const content = t.fs.get(path);
      return content === undefined
        ? { code: 1, stderr: `stat: cannot statx '${path}': No such file or directory\n` }
        : { stdout: `644 root:root ${content.length}\n` };
    })
      .when('mkdir -p -m 755 /etc/systemd/system/certbot.service.d', {})
      .when(render(daemonReloadCommand), {});
    await drive(dropin, testContext(t), { rollback: true });
    assert.deepEqual(
      t.take().filter((l) => !/^(stat|sha256sum) /.test(l)),
      [
        'mkdir -p -m 755 /etc/systemd/system/certbot.service.d',
        `upload ${CERTBOT_DROPIN_PATH} 644 ${JSON.stringify(CERTBOT_DROPIN)}`,
        render(daemonReloadCommand),
        `rm -f ${CERTBOT_DROPIN_PATH}`,
        render(daemonReloadCommand),
      ],
    );
    assert.equal(t.fs.has(CERTBOT_DROPIN_PATH), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
