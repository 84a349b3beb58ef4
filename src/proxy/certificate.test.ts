import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../engine/test-helpers.js';
import { RecordingTransport } from '../transport/recording.js';
import { certificateStep, type CertificateObserved } from './certificate.js';
import { FULL } from './test-cases.js';
import { described } from './test-host.js';

const LIVE = '/etc/letsencrypt/live/shop/fullchain.pem';
const EXISTS = `test -e ${LIVE}`;
const READ = `openssl x509 -in ${LIVE} -noout -enddate -ext subjectAltName`;
const CHECKEND = `openssl x509 -in ${LIVE} -noout -checkend 2592000 2>/dev/null`;
const SERVER = "grep -E '^server *=' /etc/letsencrypt/renewal/shop.conf 2>/dev/null";
const CERTBOT =
  'certbot certonly --webroot -w /var/www/ferry-acme --cert-name shop -d shop.example.com -d www.shop.example.com --non-interactive --agree-tos -m a@b.c --server https://ca.test/dir';
const DELETE = 'certbot delete --cert-name shop --non-interactive';
const INSPECT = [EXISTS, READ, CHECKEND, SERVER];

/** A host whose lineage exists or not, made by certbot certonly and removed by certbot delete. */
function lineageHost(o: { exists: boolean; server?: string; certbot?: { code: number; stderr: string } }) {
  let exists = o.exists;
  return new RecordingTransport('web1')
    .when(EXISTS, () => ({ code: exists ? 0 : 1 }))
    .when(READ, {
      stdout:
        'notAfter=Mar  1 00:00:00 2031 GMT\nX509v3 Subject Alternative Name: \n    DNS:shop.example.com, DNS:www.shop.example.com\n',
    })
    .when(CHECKEND, {})
    .when(SERVER, { stdout: `server = ${o.server ?? 'https://ca.test/dir'}\n` })
    .when(/^certbot certonly /, () => {
      if (o.certbot) return o.certbot;
      exists = true;
      return {};
    })
    .when(DELETE, () => {
      exists = false;
      return {};
    });
}

const step = () =>
  certificateStep({
    id: 'shop/proxy/certificate',
    host: 'web1',
    stack: 'shop',
    domains: FULL.domains,
    acme: { email: 'a@b.c', directory: 'https://ca.test/dir' },
    caBundle: false,
    sudo: true,
    dependsOn: [],
  });

const lines = (t: RecordingTransport, from = 0) => t.calls.slice(from).map(described);

test('a certificate covering the domains from the CA, valid for 30 days: nothing to do, after reading it with openssl', async () => {
  const t = lineageHost({ exists: true });
  assert.deepEqual(await step().check(testContext(t)), { needed: false, observed: { existed: true, force: false } });
  assert.deepEqual(lines(t), INSPECT);
  assert.ok(t.calls.every((c) => c.sudo));
});

test('no certificate: check, certbot, verify by openssl, and rollback deletes the new lineage', async () => {
  const t = lineageHost({ exists: false });
  const { checked, verified } = await drive(step(), testContext(t), { rollback: true });
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'issue a certificate for shop.example.com, www.shop.example.com from https://ca.test/dir' },
    observed: { existed: false, force: false },
  });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(lines(t), [EXISTS, CERTBOT, ...INSPECT, EXISTS, DELETE]);
});

test('a certificate from another CA is replaced with --force-renewal, and rollback keeps the lineage', async () => {
  const t = lineageHost({ exists: true, server: 'https://old.test/dir' });
  const s = step();
  const checked = await s.check(testContext(t));
  assert.deepEqual(checked.observed, { existed: true, force: true });
  await s.apply(testContext(t), checked.observed!);
  await s.rollback(testContext(t), checked.observed!);
  assert.deepEqual(lines(t), [...INSPECT, `${CERTBOT} --force-renewal`]);
});

test('certbot refused: acme-failed with the host, the domains and the CA, and rollback finds no lineage to delete', async () => {
  const t = lineageHost({
    exists: false,
    certbot: { code: 1, stderr: 'Some challenges have failed.\nAsk for help at https://community.letsencrypt.org\n' },
  });
  const s = step();
  const observed: CertificateObserved = { existed: false, force: false };
  await assert.rejects(s.apply(testContext(t), observed), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'acme-failed');
    assert.equal(
      e.message,
      'web1: getting a certificate for shop.example.com, www.shop.example.com from https://ca.test/dir: certbot failed (exit 1):\nSome challenges have failed.\nAsk for help at https://community.letsencrypt.org',
    );
    assert.match(e.hint ?? '', /port 80 must be reachable/);
    return true;
  });
  await s.rollback(testContext(t), observed);
  assert.deepEqual(lines(t), [CERTBOT, EXISTS]);
});

test('resumed after a kill in certbot: the lineage did not exist before (prior), so rollback deletes it', async () => {
  const t = lineageHost({ exists: true });
  const ctx = testContext(t, { prior: { existed: false, force: false } });
  const checked = await step().check(ctx);
  assert.deepEqual(checked, { needed: false, observed: { existed: false, force: false } });
  await step().rollback(ctx, checked.observed!);
  assert.deepEqual(lines(t), [...INSPECT, EXISTS, DELETE]);
});

test('a failed delete in rollback is acme-failed', async () => {
  const t = new RecordingTransport('web1')
    .when(EXISTS, {})
    .when(DELETE, { code: 1, stderr: 'No certificate found with name shop\n' });
  await assert.rejects(
    step().rollback(testContext(t), { existed: false, force: false }),
    (e: Error & { code?: string }) =>
      e.code === 'acme-failed' && e.message.startsWith('web1: deleting the new certificate shop: certbot failed'),
  );
});
