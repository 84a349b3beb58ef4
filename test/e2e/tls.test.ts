/**
 * A real certificate for a stack on host5 from pebble running on this machine, through
 * certbot's webroot and the real HTTP-01 challenge (pebble fetches the token from nginx
 * on host5, its name resolved by pebble-challtestsrv): the certificate is issued and
 * served with the chain to pebble's root, HTTP redirects to HTTPS except ACME challenges,
 * HSTS is sent, a second run changes nothing, and a renewal with certbot.service's own
 * environment gets a new certificate that nginx serves after the deploy hook.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Redactor } from '../../src/core/redact.js';
import type { RunEvent } from '../../src/engine/events.js';
import { makePlan } from '../../src/engine/plan.js';
import { runPlan } from '../../src/engine/run.js';
import { DEFAULT_DEPLOY, type AcmeDef, type ProxyDef, type StackDef } from '../../src/model/fleet.js';
import {
  ACME_CA_PATH,
  ACME_WEBROOT,
  CERTBOT_DROPIN_PATH,
  certificatePaths,
  RENEW_HOOK_PATH,
  sitePath,
  upstreamName,
} from '../../src/proxy/names.js';
import { proxySteps } from '../../src/proxy/steps.js';
import { SshPool } from '../../src/transport/ssh/index.js';
import { NETWORK, testbedInfo } from '../../scripts/testbed/lib.mjs';
import { loadImages, NGINX_HOST, nginxHost, onHost, sshTarget, testbedIsUp, type TestbedHost } from './helpers.js';
import { gatewayOf, oneAtATime, pathsUnder, removeAdded, startPebble, until, type Pebble } from './pebble.js';

const STACK = 'tlsshop';
const DOMAINS = ['shop.ferry.test', 'www.shop.ferry.test'];
const CONTAINER = 'ferry-tb-tls-e2e';
const IMAGE = 'ferry-tb-app:1';
/** Where the steps and certbot write on the host: anything new there is removed afterwards. */
const TOUCHED = [
  '/etc/letsencrypt',
  '/etc/ferry',
  '/etc/systemd/system/certbot.service.d',
  '/etc/nginx/ferry',
  '/etc/nginx/sites-enabled',
  ACME_WEBROOT,
];

const proxy: ProxyDef = {
  domains: DOMAINS,
  tls: 'acme',
  hsts: true,
  securityHeaders: true,
  routes: [{ path: '/', service: 'app', port: 8000, websocket: false, sse: false }],
};
const stack: StackDef = {
  name: STACK,
  server: NGINX_HOST,
  compose: ['/srv/tlsshop/compose.yml'],
  connections: [],
  deploy: DEFAULT_DEPLOY,
  proxy,
};

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The served certificate's serial (HTTPS only). */
  serial?: string;
}

/** A request to host5's address for `name`: HTTPS verified against `ca` for that name. */
function ask(h: TestbedHost, name: string, path: string, ca?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const opts = { host: h.host, path, headers: { Host: name }, timeout: 5000 };
    const done = (res: IncomingMessage) => {
      const serial = ca ? (res.socket as TLSSocket).getPeerCertificate().serialNumber : undefined;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ...(serial ? { serial } : {}) }),
      );
      res.on('error', reject);
    };
    const req = ca
      ? httpsRequest({ ...opts, port: 443, servername: name, ca }, done)
      : httpRequest({ ...opts, port: 80 }, done);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** The serial of the certificate on host5, as openssl prints it (upper-case hex). */
const serialOnHost = (h: TestbedHost) =>
  onHost(h, `openssl x509 -noout -serial -in ${certificatePaths(STACK).fullchain}`)
    .trim()
    .replace(/^serial=/, '')
    .toUpperCase();

describe(
  'TLS from an ACME CA on the test bed (host5, pebble here)',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    test(
      "issues, serves, redirects, stays unchanged on a second run, and renews through certbot.service's environment",
      { timeout: 10 * 60_000 },
      () => oneAtATime('nginx-host5', issuesServesRenews),
    );
  },
);

async function issuesServesRenews(): Promise<void> {
  const h = nginxHost();
  const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
  const transport = pool.get({ ...sshTarget(h), user: testbedInfo().deployUser });
  const run = (line: string) => onHost(h, line);
  const before = pathsUnder(run, TOUCHED);
  assert.equal(
    before.has(sitePath(STACK)) || before.has(certificatePaths(STACK).fullchain),
    false,
    `host5 already has ${STACK}'s site or certificate`,
  );
  let pebble: Pebble | undefined;
  try {
    pebble = await startPebble(gatewayOf(NETWORK));
    for (const d of DOMAINS) await pebble.addA(d, h.host);
    const acme: AcmeDef = { email: 'ops@ferry.test', directory: pebble.directory, caBundle: pebble.caBundle };
    loadImages(h, [IMAGE]);
    onHost(
      h,
      `docker rm -f ${CONTAINER} >/dev/null 2>&1; docker run -d --name ${CONTAINER} -e APP_VERSION=tls ${IMAGE} >/dev/null`,
    );
    const ip = onHost(
      h,
      `docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' ${CONTAINER}`,
    ).trim();
    const apply = async () => {
      const events: RunEvent[] = [];
      const steps = proxySteps({
        stack,
        host: NGINX_HOST,
        sudo: true,
        acme,
        upstreams: async () => ({ [upstreamName(STACK, 'app', 8000)]: [`${ip}:8000`] }),
        dependsOn: [],
      });
      const summary = await runPlan(makePlan(steps), {
        transports: () => transport,
        redactor: new Redactor(),
        onEvent: (e) => events.push(e),
      });
      const errors = events.flatMap((e) =>
        e.kind === 'step-end' && e.error ? [`${e.stepId}: ${e.error.code}: ${e.error.message}`] : [],
      );
      assert.deepEqual(errors, [], pebble?.logs());
      return summary;
    };

    const first = await apply();
    for (const s of ['site', 'certificate', 'site-tls'])
      assert.equal(first.outcomes[`${STACK}/proxy/${s}`], 'changed', s);
    const sans = onHost(h, `openssl x509 -noout -issuer -ext subjectAltName -in ${certificatePaths(STACK).fullchain}`);
    assert.match(sans, /issuer=.*Pebble Intermediate/);
    assert.deepEqual([...sans.matchAll(/DNS:([^,\s]+)/g)].map((m) => m[1]).sort(), [...DOMAINS].sort());

    const root = await pebble.root();
    const https = await until('HTTPS with the issued certificate', 30_000, async () => {
      const r = await ask(h, DOMAINS[0]!, '/', root);
      assert.equal(r.status, 200);
      return r;
    });
    assert.match(https.body, /^ferry-tb-app tls on /);
    assert.equal(https.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
    assert.equal(https.headers['x-content-type-options'], 'nosniff');
    assert.equal(https.serial, serialOnHost(h));
    assert.equal(
      (await ask(h, DOMAINS[1]!, '/', root)).status,
      200,
      'the second domain is served with the same certificate',
    );

    const redirect = await ask(h, DOMAINS[0]!, '/some/page?x=1');
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, `https://${DOMAINS[0]}/some/page?x=1`);
    onHost(
      h,
      `mkdir -p ${ACME_WEBROOT}/.well-known/acme-challenge && echo probe-token > ${ACME_WEBROOT}/.well-known/acme-challenge/ferry-e2e-probe`,
    );
    const challenge = await ask(h, DOMAINS[0]!, '/.well-known/acme-challenge/ferry-e2e-probe');
    onHost(h, `rm -f ${ACME_WEBROOT}/.well-known/acme-challenge/ferry-e2e-probe`);
    assert.deepEqual(
      [challenge.status, challenge.body],
      [200, 'probe-token\n'],
      'ACME challenges are answered on port 80, not redirected',
    );

    const second = await apply();
    assert.equal(second.changed, 0, JSON.stringify(second.outcomes));
    assert.equal(onHost(h, 'systemctl is-active certbot.timer').trim(), 'active');
    assert.equal(onHost(h, 'systemctl is-enabled certbot.timer').trim(), 'enabled');

    // Renewal as certbot.service runs it: with the drop-in's environment (trusting the test CA).
    assert.ok(
      run('systemctl cat certbot.service').includes(`# ${CERTBOT_DROPIN_PATH}`),
      'certbot.service includes the drop-in',
    );
    assert.equal(run(`stat -c %a ${RENEW_HOOK_PATH}`).trim(), '755');
    const environment = onHost(h, 'systemctl show certbot.service -p Environment --value').trim();
    assert.equal(environment, `REQUESTS_CA_BUNDLE=${ACME_CA_PATH}`);
    const old = serialOnHost(h);
    onHost(h, `env ${environment} certbot renew --force-renewal --no-random-sleep-on-renew --cert-name ${STACK} -q`);
    const renewed = serialOnHost(h);
    assert.notEqual(renewed, old, 'certbot renew must have replaced the certificate');
    await until('nginx serving the renewed certificate (deploy hook)', 30_000, async () =>
      assert.equal((await ask(h, DOMAINS[0]!, '/', root)).serial, renewed),
    );
    assert.equal((await apply()).changed, 0, 'a renewed certificate needs no change');
  } finally {
    await pool.close();
    // The site goes before its certificate: nginx -t (other stacks' too) never meets a site without its certificate.
    removeAdded(run, TOUCHED, before, [STACK]);
    run(
      `docker rm -f ${CONTAINER} >/dev/null 2>&1; certbot delete --cert-name ${STACK} --non-interactive >/dev/null 2>&1; true`,
    );
    run('systemctl daemon-reload; nginx -t -q && systemctl reload nginx');
    await pebble?.stop();
  }
}
