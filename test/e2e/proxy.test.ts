/**
 * nginx in front of a stack on a real server (host5), as a non-root user with sudo:
 * the real `nginx -t` accepts every golden file; a site routes by Host header to a real
 * container; a second run changes nothing; upstreams swap to a new container; and a
 * broken configuration never reaches a reload (no reload in systemd's journal, the same
 * workers, the same answer, the same file).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redactor } from '../../src/core/redact.js';
import type { RunEvent } from '../../src/engine/events.js';
import { makePlan } from '../../src/engine/plan.js';
import { runPlan } from '../../src/engine/run.js';
import type { Step } from '../../src/engine/step.js';
import { testContext } from '../../src/engine/test-helpers.js';
import { DEFAULT_DEPLOY, type ProxyDef, type StackDef } from '../../src/model/fleet.js';
import { certificatePaths, sitePath, upstreamName, upstreamsPath } from '../../src/proxy/names.js';
import { renderSite } from '../../src/proxy/render-site.js';
import { renderUpstreams } from '../../src/proxy/render-upstreams.js';
import { nginxFileStep, proxySteps, writeNginxFile } from '../../src/proxy/steps.js';
import { GOLDEN_CASES } from '../../src/proxy/test-cases.js';
import { SshPool } from '../../src/transport/ssh/index.js';
import type { Transport } from '../../src/transport/transport.js';
import { testbedInfo } from '../../scripts/testbed/lib.mjs';
import { loadImages, NGINX_HOST, nginxHost, onHost, sshTarget, testbedIsUp, type TestbedHost } from './helpers.js';
import { oneAtATime, pathsUnder, removeAdded, until } from './pebble.js';

const GOLDEN = fileURLToPath(new URL('../golden/nginx/', import.meta.url));
const IMAGE = 'ferry-tb-app:1';
const STACK = 'e2eweb';
const DOMAIN = 'web.ferry.test';
const CONTAINERS = ['ferry-tb-proxy-e2e-1', 'ferry-tb-proxy-e2e-2'];
/** Where the tests write on the host: anything new there is removed afterwards. */
const TOUCHED = ['/etc/letsencrypt', '/etc/nginx/ferry', '/etc/nginx/sites-enabled', '/var/www/ferry-acme'];

const proxy: ProxyDef = {
  domains: [DOMAIN],
  tls: 'none',
  hsts: true,
  securityHeaders: true,
  routes: [{ path: '/', service: 'app', port: 8000, websocket: false, sse: false }],
};
const stack: StackDef = {
  name: STACK,
  server: NGINX_HOST,
  compose: ['/srv/e2eweb/compose.yml'],
  connections: [],
  deploy: DEFAULT_DEPLOY,
  proxy,
};

/** nginx -t on the host: exit code and output. */
function nginxTest(h: TestbedHost): { code: number; out: string } {
  const out = onHost(h, 'nginx -t 2>&1; echo "exit=$?"');
  return { code: Number(/exit=(\d+)\s*$/.exec(out)?.[1] ?? -1), out };
}

const put = (h: TestbedHost, path: string, content: string) =>
  onHost(h, `mkdir -p "$(dirname ${path})" && cat > ${path}`, content);
/** The pids of nginx's workers (a reload replaces them all) and how many reloads systemd has logged, tried or done. */
const nginxState = (h: TestbedHost) => ({
  workers: onHost(h, 'pgrep -P "$(cat /run/nginx.pid)" | sort -n | tr "\\n" " "').trim(),
  reloads: Number(onHost(h, 'journalctl -u nginx -o cat --no-pager | grep -c "^Reloading" || true').trim()),
});
const fetchOnHost = (h: TestbedHost, host: string) => onHost(h, `curl -s -H 'Host: ${host}' http://127.0.0.1/`).trim();

function startApp(h: TestbedHost, name: string, version: string): string {
  onHost(
    h,
    `docker rm -f ${name} >/dev/null 2>&1; docker run -d --name ${name} -e APP_VERSION=${version} ${IMAGE} >/dev/null`,
  );
  return onHost(h, `docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' ${name}`).trim();
}

async function run(transport: Transport, steps: Step[]) {
  const events: RunEvent[] = [];
  const summary = await runPlan(makePlan(steps), {
    transports: () => transport,
    redactor: new Redactor(),
    onEvent: (e) => events.push(e),
  });
  const errors = events.flatMap((e) =>
    e.kind === 'step-end' && e.error ? [`${e.stepId}: ${e.error.code}: ${e.error.message}`] : [],
  );
  return { summary, events, errors };
}

describe(
  'nginx proxy on the test bed (host5)',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    test('the real nginx -t accepts every golden file, alone and together', () =>
      oneAtATime('nginx-host5', goldenFilesAccepted));

    test('a site serves a real container by Host header; a second run changes nothing; upstreams swap; a broken file never reaches a reload', () =>
      oneAtATime('nginx-host5', siteServesAndSwaps));
  },
);

async function goldenFilesAccepted(): Promise<void> {
  const h = nginxHost();
  const sites = GOLDEN_CASES.filter((c) => c.kind === 'site');
  const stacks = [...new Set(sites.map((c) => c.stack))];
  const cert = certificatePaths('shop');
  const sh = (line: string) => onHost(h, line);
  const before = pathsUnder(sh, TOUCHED);
  const ours = [...stacks.flatMap((s) => [sitePath(s), upstreamsPath(s)]), cert.fullchain];
  assert.deepEqual(
    ours.filter((p) => before.has(p)),
    [],
    'these paths already exist on host5; the test would overwrite them',
  );
  try {
    // The shop upstreams are the golden upstreams file; the other stacks' are rendered with no container yet.
    put(h, upstreamsPath('shop'), readFileSync(`${GOLDEN}upstreams.conf`, 'utf8'));
    for (const c of sites.filter((x) => x.stack !== 'shop'))
      put(h, upstreamsPath(c.stack), renderUpstreams(c.stack, c.proxy.routes, {}));
    onHost(
      h,
      `mkdir -p ${cert.fullchain.replace(/\/fullchain\.pem$/, '')} && cd "$_" && openssl req -x509 -newkey rsa:2048 -nodes -keyout privkey.pem -out fullchain.pem -days 1 -subj /CN=shop.example.com 2>/dev/null`,
    );
    for (const c of sites) {
      put(h, sitePath(c.stack), readFileSync(`${GOLDEN}${c.file}`, 'utf8'));
      const r = nginxTest(h);
      assert.equal(r.code, 0, `${c.file}: ${r.out}`);
      onHost(h, `rm -f ${sitePath(c.stack)}`);
    }
    for (const file of ['minimal.conf', 'full-tls.conf', 'tls-none.conf']) {
      const c = sites.find((x) => x.file === file)!;
      put(h, sitePath(c.stack), readFileSync(`${GOLDEN}${file}`, 'utf8'));
    }
    const together = nginxTest(h);
    assert.equal(together.code, 0, `minimal, full-tls and tls-none together: ${together.out}`);
  } finally {
    removeAdded(sh, TOUCHED, before, [...stacks, 'shop']);
  }
  assert.equal(nginxTest(h).code, 0, 'host5 nginx -t after cleanup');
}

async function siteServesAndSwaps(): Promise<void> {
  const h = nginxHost();
  const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
  const transport = pool.get({ ...sshTarget(h), user: testbedInfo().deployUser });
  const ctx = testContext(transport);
  const sh = (line: string) => onHost(h, line);
  const before = pathsUnder(sh, TOUCHED);
  assert.equal(before.has(sitePath(STACK)), false, `${sitePath(STACK)} already exists on host5`);
  try {
    loadImages(h, [IMAGE]);
    const first = startApp(h, CONTAINERS[0]!, 'one');
    let address = `${first}:8000`;
    const steps = () =>
      proxySteps({
        stack,
        host: NGINX_HOST,
        sudo: true,
        upstreams: async () => ({ [upstreamName(STACK, 'app', 8000)]: [address] }),
        dependsOn: [],
      });

    const one = await run(transport, steps());
    assert.deepEqual(one.errors, []);
    assert.equal(one.summary.outcomes[`${STACK}/proxy/site`], 'changed');
    assert.equal(one.summary.outcomes[`${STACK}/proxy/upstreams`], 'changed');
    await until('the app through nginx', 30_000, async () =>
      assert.match(fetchOnHost(h, DOMAIN), /^ferry-tb-app one on /),
    );
    assert.doesNotMatch(fetchOnHost(h, 'other.example.com'), /ferry-tb-app/, 'another Host must not reach the stack');
    assert.match(
      onHost(h, `curl -s -o /dev/null -D - -H 'Host: ${DOMAIN}' http://127.0.0.1/`),
      /X-Frame-Options: SAMEORIGIN/i,
    );

    const two = await run(transport, steps());
    assert.deepEqual(two.errors, []);
    assert.equal(two.summary.changed, 0, JSON.stringify(two.summary.outcomes));

    // The deploy's zero-downtime swap: the upstreams rewritten with a new container.
    const second = startApp(h, CONTAINERS[1]!, 'two');
    address = `${second}:8000`;
    await writeNginxFile(
      ctx,
      NGINX_HOST,
      upstreamsPath(STACK),
      renderUpstreams(STACK, proxy.routes, { [upstreamName(STACK, 'app', 8000)]: [address] }),
      true,
    );
    await until('the new container through nginx', 30_000, async () =>
      assert.match(fetchOnHost(h, DOMAIN), /^ferry-tb-app two on /),
    );
    assert.equal((await run(transport, steps())).summary.changed, 0);

    // A broken site: nginx -t refuses it, the previous file stays, nginx never reloads.
    const good = renderSite(STACK, proxy, { certificate: false });
    const broken = good.replace('proxy_http_version 1.1;', 'proxy_http_versoin 1.1;');
    const line = broken.split('\n').findIndex((l) => l.includes('proxy_http_versoin')) + 1;
    assert.ok(nginxState(h).reloads > 0, 'systemd logs the reloads of the earlier runs');
    const kept = {
      nginx: nginxState(h),
      body: fetchOnHost(h, DOMAIN),
      file: onHost(h, `cat ${sitePath(STACK)}`),
    };
    assert.equal(kept.file, good);
    const bad = await run(transport, [
      nginxFileStep({
        id: `${STACK}/proxy/site`,
        host: NGINX_HOST,
        path: sitePath(STACK),
        content: broken,
        sudo: true,
      }),
    ]);
    const end = bad.events.find((e) => e.kind === 'step-end');
    assert.ok(end?.kind === 'step-end' && end.error, 'the broken site must fail');
    assert.equal(end.error.code, 'nginx-config-invalid');
    assert.match(end.error.message, /^host5: nginx refused the new \/etc\/nginx\/sites-enabled\/ferry-e2eweb\.conf/);
    assert.ok(
      end.error.message.includes(`unknown directive "proxy_http_versoin" in ${sitePath(STACK)}:${line}`),
      end.error.message,
    );
    assert.deepEqual(
      { nginx: nginxState(h), body: fetchOnHost(h, DOMAIN), file: onHost(h, `cat ${sitePath(STACK)}`) },
      kept,
    );
    assert.equal(nginxTest(h).code, 0);
  } finally {
    await pool.close();
    sh(`docker rm -f ${CONTAINERS.join(' ')} >/dev/null 2>&1; true`);
    removeAdded(sh, TOUCHED, before, [STACK]);
    sh('nginx -t -q && systemctl reload nginx');
  }
}
