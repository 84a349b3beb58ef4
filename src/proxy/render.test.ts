/**
 * The renderers against the golden files in test/golden/nginx/, byte for byte.
 * `UPDATE_GOLDEN=1` rewrites them after a deliberate change; review the diff before
 * committing (test/e2e/proxy.test.ts has the real nginx accept every one of them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { goldenTests } from '../render/test-helpers/golden.js';
import { certificatePaths, rateZoneName, sitePath, upstreamName, upstreamsPath } from './names.js';
import { renderSite } from './render-site.js';
import { renderUpstreams, serverAddress } from './render-upstreams.js';
import { FULL, GOLDEN_CASES, MINIMAL, TLS_NONE } from './test-cases.js';

goldenTests('nginx', GOLDEN_CASES);

test('names: nginx-safe upstream and zone names, and the files of a stack', () => {
  assert.equal(upstreamName('my-shop', 'web.v2', 8000), 'ferry_my_shop_web_v2_8000');
  assert.equal(rateZoneName('my-shop', 3), 'ferry_my_shop_rate_3');
  assert.equal(sitePath('shop'), '/etc/nginx/sites-enabled/ferry-shop.conf');
  assert.equal(upstreamsPath('shop'), '/etc/nginx/ferry/shop.upstreams.conf');
  assert.deepEqual(certificatePaths('shop'), {
    fullchain: '/etc/letsencrypt/live/shop/fullchain.pem',
    privkey: '/etc/letsencrypt/live/shop/privkey.pem',
    renewal: '/etc/letsencrypt/renewal/shop.conf',
  });
});

test('upstream addresses: the route port is added when missing, IPv6 is bracketed, anything else is refused', () => {
  assert.equal(serverAddress('172.20.0.3:8000', 80), '172.20.0.3:8000');
  assert.equal(serverAddress('172.20.0.3', 80), '172.20.0.3:80');
  assert.equal(serverAddress('fd00::3', 80), '[fd00::3]:80');
  assert.equal(serverAddress('[fd00::3]:81', 80), '[fd00::3]:81');
  assert.equal(serverAddress('web-1', 80), 'web-1:80');
  assert.throws(() => serverAddress('1.2.3.4; include /etc/passwd', 80), /not an address/);
});

test('an upstream listed twice with the same address renders it once; one with no address is a down placeholder', () => {
  const text = renderUpstreams('shop', MINIMAL.routes, { ferry_shop_web_8000: ['10.0.0.1:8000', '10.0.0.1:8000'] });
  assert.equal(text.match(/server 10\.0\.0\.1:8000;/g)?.length, 1);
  assert.match(renderUpstreams('shop', MINIMAL.routes, {}), /server 127\.0\.0\.1:1 down;/);
});

test('HTTPS only with a certificate and tls acme; HSTS only over HTTPS; security headers follow the flag', () => {
  const plain = renderSite('shop', FULL, { certificate: false });
  assert.doesNotMatch(plain, /listen 443|return 301|Strict-Transport-Security/);
  assert.match(plain, /X-Frame-Options SAMEORIGIN always/);
  const tls = renderSite('shop', FULL, { certificate: true });
  assert.match(tls, /listen 443 ssl http2;/);
  assert.match(tls, /return 301 https:\/\/\$host\$request_uri;/);
  assert.match(tls, /add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;/);
  const none = renderSite('docs', TLS_NONE, { certificate: true });
  assert.doesNotMatch(none, /443|return 301|Strict-Transport|X-Frame-Options/);
  assert.match(none, /location \^~ \/\.well-known\/acme-challenge\/ \{\n\s+root \/var\/www\/ferry-acme;/);
  const noHsts = renderSite('shop', { ...FULL, hsts: false }, { certificate: true });
  assert.doesNotMatch(noHsts, /Strict-Transport-Security/);
});

test('a location that adds its own header repeats the server headers (nginx drops inherited ones)', () => {
  const tls = renderSite('shop', FULL, { certificate: true });
  const staticBlock = /location \/static\/ \{[^}]*\}/.exec(tls)?.[0] ?? '';
  for (const h of [
    'Cache-Control public',
    'Strict-Transport-Security',
    'X-Content-Type-Options',
    'X-Frame-Options',
    'Referrer-Policy',
  ])
    assert.match(staticBlock, new RegExp(h));
});

test('an SSE route with a longer timeout keeps the longer read timeout, and a path nginx would split is quoted', () => {
  const proxy = {
    ...MINIMAL,
    routes: [{ path: '/a;b', service: 'web', port: 80, websocket: false, sse: true, timeoutSeconds: 7200 }],
  };
  const text = renderSite('blog', proxy, { certificate: false });
  assert.match(text, /location "\/a;b" \{/);
  assert.match(text, /proxy_read_timeout 7200s;/);
  assert.equal(text.match(/proxy_read_timeout/g)?.length, 1);
});

test('upstreams for held requests: each server listed `tries` times, never marked down, so nginx retries it a connect timeout apart', () => {
  const text = renderUpstreams(
    'blog',
    MINIMAL.routes,
    { [upstreamName('blog', MINIMAL.routes[0]!.service, MINIMAL.routes[0]!.port)]: ['10.0.0.2:80', '10.0.0.2:80'] },
    3,
  );
  assert.equal(text.match(/server 10\.0\.0\.2:80 max_fails=0;/g)?.length, 3);
  assert.doesNotMatch(
    renderUpstreams('blog', MINIMAL.routes, {
      [upstreamName('blog', MINIMAL.routes[0]!.service, MINIMAL.routes[0]!.port)]: ['10.0.0.2:80'],
    }),
    /max_fails/,
  );
  assert.match(renderSite('blog', MINIMAL, { certificate: false }), /proxy_connect_timeout 3s;/);
});
