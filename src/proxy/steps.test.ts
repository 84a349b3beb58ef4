import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../core/redact.js';
import { DEFAULT_DEPLOY, type StackDef } from '../model/fleet.js';
import { render } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { certificateProblem, certificateStep } from './certificate.js';
import { certbotCommand } from './commands.js';
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
    (e: Error & { code?: string }) => e.code === 'acme-ca-unreadable' && /ENOENT/.test(e.message),
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

test('the certificate step reads the certificate with openssl and finds nothing to do', async () => {
  const live = '/etc/letsencrypt/live/shop/fullchain.pem';
  const t = new RecordingTransport('web1')
    .when(`test -e ${live}`, {})
    .when(`openssl x509 -in ${live} -noout -enddate -ext subjectAltName`, {
      stdout:
        'notAfter=Mar  1 00:00:00 2031 GMT\nX509v3 Subject Alternative Name: \n    DNS:shop.example.com, DNS:www.shop.example.com\n',
    })
    .when(`openssl x509 -in ${live} -noout -checkend 2592000 2>/dev/null`, {})
    .when("grep -E '^server *=' /etc/letsencrypt/renewal/shop.conf 2>/dev/null", {
      stdout: 'server = https://ca.test/dir\n',
    });
  const step = certificateStep({
    id: 'c',
    host: 'web1',
    stack: 'shop',
    domains: FULL.domains,
    acme: { email: 'a@b.c', directory: 'https://ca.test/dir' },
    caBundle: false,
    sudo: false,
    dependsOn: [],
  });
  assert.deepEqual(await step.check({ transport: t, redactor: new Redactor() }), { needed: false });
});

test('a host without nginx: the check says it will be installed, apply installs and starts it', async () => {
  const t = new RecordingTransport('web1')
    .when('nginx -v', { code: 127, stderr: 'sh: 1: nginx: not found\n' }, { times: 1 })
    .when('nginx -v', { stderr: 'nginx version: nginx/1.22.1\n' })
    .when(/pgrep -x nginx|systemctl is-active/, {})
    .when(/apt-get install/, {})
    .when(/enable --now nginx/, {});
  const [nginx] = proxySteps({ stack: stack(TLS_NONE), host: 'web1', sudo: true, upstreams, dependsOn: [] });
  const ctx = { transport: t, redactor: new Redactor() };
  assert.deepEqual(await nginx!.check(ctx), {
    needed: true,
    change: { summary: 'install nginx (apt-get install -y nginx) and start it' },
  });
  await nginx!.apply(ctx);
  assert.deepEqual(await nginx!.verify(ctx), { ok: true });
  assert.deepEqual(t.lines.slice(1, 3), [
    'apt-get update -qq && env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx',
    'if [ -d /run/systemd/system ]; then systemctl enable --now nginx; else nginx; fi',
  ]);
  assert.ok(t.calls.every((c) => c.sudo));
});
