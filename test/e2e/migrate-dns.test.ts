/**
 * The DNS part of a migration against a real name server (dnsmasq, and a hook that
 * changes its records: ./dnsmasq.ts). Needs no test bed; skipped only when dnsmasq is not
 * installed (Debian package dnsmasq-base, which CI installs).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redactor } from '../../src/core/redact.js';
import type { EventError, RunEvent } from '../../src/engine/events.js';
import { makePlan } from '../../src/engine/plan.js';
import { runPlan } from '../../src/engine/run.js';
import type { Step } from '../../src/engine/step.js';
import { memoryStep, testContext } from '../../src/engine/test-helpers.js';
import type { DnsDef } from '../../src/model/fleet.js';
import { LocalTransport } from '../../src/transport/local.js';
import { readDomain, resolverLookup } from '../../src/migrate/dns.js';
import { dnsPreflight } from '../../src/migrate/dns-preflight.js';
import { dnsSteps } from '../../src/migrate/steps/dns.js';
import { Dnsmasq, freeUdpPort, skip, TTL, udpSocket, writeHook } from './dnsmasq.js';

const DOMAIN = 'shop.ferry.test';
const SOURCE = { name: 'app1', addresses: ['192.0.2.10'] };
const TARGET = { name: 'app2', addresses: ['192.0.2.20'] };

/** The name server, the hook and the helpers every test of this file uses. */
function makeBed(ns: Dnsmasq, hookDir: string, hook: string) {
  const local = new LocalTransport({ name: 'here' });
  const ask = () => resolverLookup({ resolvers: [ns.server], timeoutMs: 500, tries: 2 });
  const addressNow = async () => (await readDomain(ask(), DOMAIN)).A.addresses;
  const calls = () =>
    existsSync(join(hookDir, 'calls')) ? readFileSync(join(hookDir, 'calls'), 'utf8').trim().split('\n') : [];
  const dnsDef = (extra: Partial<DnsDef> = {}): DnsDef => ({ resolvers: [ns.server], hook, waitMs: 10_000, ...extra });
  const steps = (dns: DnsDef) =>
    dnsSteps({
      stack: 'shop',
      domains: [DOMAIN],
      source: SOURCE,
      target: TARGET,
      dns,
      id: (s) => `shop/migrate/${s}`,
      host: 'app2',
      local,
      cutoverDependsOn: ['shop/migrate/switch'],
      pollMs: 100,
    });
  const switched = () =>
    memoryStep({ id: 'shop/migrate/switch', host: 'app1', phase: 'proxy', world: new Map(), value: 'target' });
  const run = async (all: Step[]) => {
    const events: RunEvent[] = [];
    const summary = await runPlan(makePlan(all), {
      transports: () => local,
      redactor: new Redactor(),
      onEvent: (e) => events.push(e),
    });
    return {
      summary,
      errors: events.flatMap((e) => (e.kind === 'step-end' && e.error ? [e.error] : [])) as EventError[],
      observed: new Map(events.flatMap((e) => (e.kind === 'step-checked' ? [[e.stepId, e.observed] as const] : []))),
    };
  };

  return { ns, hookDir, hook, local, ask, addressNow, calls, dnsDef, steps, switched, run };
}
type Bed = ReturnType<typeof makeBed>;

/** Starts dnsmasq serving the domain at the source, and writes the hook that edits its hosts file. */
async function setUp(): Promise<Bed> {
  const ns = await Dnsmasq.start(`192.0.2.10 ${DOMAIN}\n198.51.100.7 cdn.ferry.test\n`, DOMAIN);
  const { dir, hook } = writeHook(ns);
  return makeBed(ns, dir, hook);
}

describe('migration DNS against a real name server (dnsmasq)', { skip }, () => {
  let b: Bed | undefined;
  before(async () => {
    b = await setUp();
  });

  after(async () => {
    await b?.ns.stop();
    if (b) rmSync(b.hookDir, { recursive: true, force: true });
  });

  test('the address and TTL are read as served, and judged: at the source, elsewhere, a new domain, a TTL over max_ttl', () =>
    judgedAsServed(b!));

  test('the hook moves the record and the new answer is awaited; a second run changes nothing; rollback moves it back', () =>
    hookMovesRecord(b!));

  test('a later failure of the migration undoes the DNS change through the hook', () => laterFailureUndoes(b!));

  test('a failing hook: dns-hook-failed with its exit code and redacted stderr, and the record as it was', () =>
    failingHook(b!));

  test('a name server that does not answer: dns-lookup-failed, and the preflight refuses when a hook is to change the record', () =>
    silentNameServer(b!));
});

async function judgedAsServed(b: Bed): Promise<void> {
  const { ns, ask } = b;
  assert.deepEqual(await readDomain(ask(), DOMAIN), {
    domain: DOMAIN,
    A: { addresses: ['192.0.2.10'], ttl: TTL },
    AAAA: { addresses: [] },
  });
  const seen = await dnsPreflight({
    stack: 'shop',
    domains: [DOMAIN, 'cdn.ferry.test', 'new.ferry.test'],
    source: SOURCE,
    target: TARGET,
    dns: { resolvers: [ns.server] },
  });
  assert.deepEqual(
    seen.findings.map((f) => `${f.severity} ${f.code} ${f.where.path}`),
    [
      'info dns-at-source stacks/shop/proxy/domains/0',
      'warning dns-points-elsewhere stacks/shop/proxy/domains/1',
      'warning dns-not-found stacks/shop/proxy/domains/2',
    ],
  );
  const strict = await dnsPreflight({
    stack: 'shop',
    domains: [DOMAIN],
    source: SOURCE,
    target: TARGET,
    dns: { resolvers: [ns.server], maxTtlSeconds: 60 },
  });
  assert.deepEqual(
    strict.findings.map((f) => f.code),
    ['dns-at-source', 'dns-ttl-over-max'],
  );
}

async function hookMovesRecord(b: Bed): Promise<void> {
  const { local, addressNow, calls, dnsDef, steps, switched, run } = b;
  const first = await steps(dnsDef());
  assert.equal(first.preflight.title, `DNS: ${DOMAIN} A 192.0.2.10 TTL ${TTL} s`);
  const r = await run([first.preflight, switched(), ...first.cutover]);
  assert.deepEqual([r.summary.changed, r.summary.failed, r.errors], [2, 0, []]);
  assert.deepEqual(await addressNow(), ['192.0.2.20']);
  assert.deepEqual(calls(), [`shop ${DOMAIN} A [192.0.2.10] -> [192.0.2.20] ttl ${TTL}`]);

  const again = await run([switched(), ...(await steps(dnsDef())).cutover]);
  assert.equal(again.summary.outcomes[`shop/migrate/dns/${DOMAIN}`], 'ok');
  assert.equal(calls().length, 1);

  const cutover = first.cutover[0]!;
  await cutover.rollback(
    testContext(local, { step: cutover }),
    r.observed.get(cutover.id) as Parameters<typeof cutover.rollback>[1],
  );
  assert.deepEqual(await addressNow(), ['192.0.2.10']);
  assert.deepEqual(calls().slice(1), [`shop ${DOMAIN} A [192.0.2.20] -> [192.0.2.10] ttl ${TTL}`]);
}

async function laterFailureUndoes(b: Bed): Promise<void> {
  const { addressNow, calls, dnsDef, steps, switched, run } = b;
  const { cutover } = await steps(dnsDef());
  const later = memoryStep({
    id: 'shop/migrate/mark',
    host: 'app1',
    phase: 'verify',
    dependsOn: [cutover[0]!.id],
    world: new Map(),
    value: 'x',
    failVerify: 'simulated',
  });
  const r = await run([switched(), ...cutover, later]);
  assert.ok(r.summary.rolledBack.includes(cutover[0]!.id));
  assert.deepEqual(await addressNow(), ['192.0.2.10']);
  assert.deepEqual(
    calls()
      .slice(-2)
      .map((c) => c.split(' ').slice(3, 6).join(' ')),
    ['[192.0.2.10] -> [192.0.2.20]', '[192.0.2.20] -> [192.0.2.10]'],
  );
}

async function failingHook(b: Bed): Promise<void> {
  const { addressNow, dnsDef, steps, switched, run } = b;
  process.env['FAIL_WITH'] = '4';
  process.env['DNS_API_TOKEN'] = 'tok-5be1c09a77';
  try {
    const r = await run([switched(), ...(await steps(dnsDef())).cutover]);
    const e = r.errors[0]!;
    assert.equal(e.code, 'dns-hook-failed');
    assert.match(
      e.message,
      /failed to change A shop\.ferry\.test from 192\.0\.2\.10 to 192\.0\.2\.20: exit 4; its stderr ended with:\nPUT \/zones\/ferry\.test: 403 for token \[REDACTED\]$/,
    );
    assert.ok(!JSON.stringify(r.errors).includes('tok-5be1c09a77'));
    assert.match(e.hint, /^Run it by hand to see why: `FERRY_STACK=shop /);
  } finally {
    delete process.env['FAIL_WITH'];
    delete process.env['DNS_API_TOKEN'];
  }
  assert.deepEqual(await addressNow(), ['192.0.2.10']);
}

async function silentNameServer(b: Bed): Promise<void> {
  const { hook, local, run } = b;
  const closed = `127.0.0.1:${await freeUdpPort()}`;
  await assert.rejects(
    readDomain(resolverLookup({ resolvers: [closed], timeoutMs: 300, tries: 1 }), DOMAIN),
    (e: Error & { code?: string }) =>
      e.code === 'dns-lookup-failed' &&
      e.message ===
        `no answer for the A record of ${DOMAIN} from ${closed}: ECONNREFUSED, the connection was refused (no name server listens there)`,
  );
  const silent = await udpSocket();
  try {
    const server = `127.0.0.1:${silent.address().port}`;
    const lookup = resolverLookup({ resolvers: [server], timeoutMs: 300, tries: 1 });
    const r = await run([
      (
        await dnsSteps({
          stack: 'shop',
          domains: [DOMAIN],
          source: SOURCE,
          target: TARGET,
          dns: { resolvers: [server], hook },
          lookup,
          id: (s) => `shop/migrate/${s}`,
          host: 'app2',
          local,
          cutoverDependsOn: [],
        })
      ).preflight,
    ]);
    assert.equal(r.errors[0]!.code, 'dns-preflight-failed');
    assert.match(
      r.errors[0]!.message,
      new RegExp(
        `^dns-lookup-failed: no answer for the A record of ${DOMAIN.replace(/\./g, '\\.')} from ${server}: ETIMEOUT, no answer in time$`,
      ),
    );
    assert.match(
      r.errors[0]!.hint,
      /^Nothing was changed on app1 or app2\. Check that 127\.0\.0\.1:\d+ answers for shop\.ferry\.test/,
    );
  } finally {
    silent.close();
  }
}
