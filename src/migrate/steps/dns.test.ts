import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../../core/redact.js';
import type { EventError, RunEvent } from '../../engine/events.js';
import { makePlan } from '../../engine/plan.js';
import { runPlan } from '../../engine/run.js';
import type { Step } from '../../engine/step.js';
import { memoryStep, testContext } from '../../engine/test-helpers.js';
import type { DnsDef } from '../../model/fleet.js';
import { RecordingTransport } from '../../transport/recording.js';
import { DnsLookupError, type DnsLookup } from '../dns.js';
import { dnsSteps } from './dns.js';

const SOURCE = { name: 'app1', addresses: ['192.0.2.10'] };
const TARGET = { name: 'app2', addresses: ['192.0.2.20'] };
const DOMAIN = 'shop.example.com';
const HOOK = '/ops/dns-hook.sh';

/** A DNS provider in memory: `domain type` -> addresses, all with TTL 120; `down` makes every lookup fail. */
function provider(initial: Record<string, string[]>) {
  const world = new Map(Object.entries(initial));
  const state = { down: false };
  const lookup: DnsLookup = async (domain, type) => {
    if (state.down) throw new DnsLookupError(domain, type, 'ETIMEOUT', ['127.0.0.1:53']);
    const addresses = world.get(`${domain} ${type}`) ?? [];
    return addresses.length > 0 ? { addresses, ttl: 120 } : { addresses: [] };
  };
  return { world, state, lookup };
}

/** This machine, where the hook "changes the provider's record" unless told to fail or to do nothing. */
function hookHost(p: ReturnType<typeof provider>, behave: { fail?: boolean; ignore?: boolean } = {}) {
  return new RecordingTransport('local').when(/^env FERRY_STACK=/, (line) => {
    if (behave.fail) return { code: 3, stderr: 'zone locked\nAuthorization: Bearer abcdefgh12345678\n' };
    const v = (k: string) => new RegExp(`${k}=(\\S*)`).exec(line)![1]!;
    if (!behave.ignore)
      p.world.set(
        `${v('FERRY_DOMAIN')} ${v('FERRY_RECORD_TYPE')}`,
        v('FERRY_NEW_ADDRESS') ? [v('FERRY_NEW_ADDRESS')] : [],
      );
    return { code: 0 };
  });
}

async function steps(p: ReturnType<typeof provider>, local: RecordingTransport, dns: DnsDef = { hook: HOOK }) {
  return dnsSteps({
    stack: 'shop',
    domains: [DOMAIN],
    source: SOURCE,
    target: TARGET,
    dns,
    lookup: p.lookup,
    id: (s) => `shop/migrate/${s}`,
    host: 'app2',
    local,
    cutoverDependsOn: ['shop/migrate/switch'],
    pollMs: 20,
  });
}

const switchStep = () =>
  memoryStep({ id: 'shop/migrate/switch', host: 'app1', phase: 'proxy', world: new Map(), value: 'target' });

async function run(all: Step[]) {
  const events: RunEvent[] = [];
  const summary = await runPlan(makePlan(all), {
    transports: () => new RecordingTransport('unused'),
    redactor: new Redactor(),
    onEvent: (e) => events.push(e),
  });
  const failed = events.flatMap((e) => (e.kind === 'step-end' && e.error ? [e.error] : [])) as EventError[];
  return { summary, events, failed };
}

test('with a hook: the check shows the record and its TTL, the hook moves it, the resolvers are asked until it answers; a second run changes nothing', async () => {
  const p = provider({ [`${DOMAIN} A`]: ['192.0.2.10'] });
  const local = hookHost(p);
  const { preflight, cutover, seen } = await steps(p, local);
  assert.equal(preflight.title, 'DNS: shop.example.com A 192.0.2.10 TTL 120 s');
  assert.deepEqual(
    seen.findings.map((f) => f.code),
    ['dns-hook-missing', 'dns-at-source'],
  );
  assert.equal(cutover[0]!.title, 'DNS by dns.hook: A shop.example.com → 192.0.2.20');
  assert.deepEqual(cutover[0]!.doc().commands, [
    'env FERRY_STACK=shop FERRY_DOMAIN=shop.example.com FERRY_RECORD_TYPE=A FERRY_OLD_ADDRESS=192.0.2.10 FERRY_NEW_ADDRESS=192.0.2.20 FERRY_TTL=120 /ops/dns-hook.sh  (here)',
  ]);
  const ctx = testContext(new RecordingTransport('app2'), { step: cutover[0]! });
  const planned = [{ domain: DOMAIN, type: 'A', from: ['192.0.2.10'], to: ['192.0.2.20'], ttl: 120 }];
  assert.deepEqual(await cutover[0]!.check(ctx), {
    needed: true,
    change: {
      summary: 'A shop.example.com 192.0.2.10 → 192.0.2.20, TTL 120 s, by dns-hook.sh',
      before: 'A 192.0.2.10',
      after: 'A 192.0.2.20',
    },
    observed: { planned },
  });

  const first = await run([switchStep(), ...cutover]);
  assert.deepEqual([first.summary.changed, first.summary.failed], [2, 0]);
  assert.deepEqual(p.world.get(`${DOMAIN} A`), ['192.0.2.20']);
  assert.deepEqual(local.lines, [
    'env FERRY_STACK=shop FERRY_DOMAIN=shop.example.com FERRY_RECORD_TYPE=A FERRY_OLD_ADDRESS=192.0.2.10 FERRY_NEW_ADDRESS=192.0.2.20 FERRY_TTL=120 /ops/dns-hook.sh',
  ]);

  const again = await run([switchStep(), ...(await steps(p, local)).cutover]);
  assert.equal(again.summary.outcomes['shop/migrate/dns/shop.example.com'], 'ok');
  assert.equal(local.lines.length, 1);
});

test('a later failure rolls the record back: the hook again, addresses swapped', async () => {
  const p = provider({ [`${DOMAIN} A`]: ['192.0.2.10'] });
  const local = hookHost(p);
  const { cutover } = await steps(p, local);
  const later = memoryStep({
    id: 'later',
    host: 'app1',
    phase: 'verify',
    dependsOn: [cutover[0]!.id],
    world: new Map(),
    value: 'x',
    failVerify: 'simulated',
  });
  const r = await run([switchStep(), ...cutover, later]);
  assert.equal(r.summary.failed, 1);
  assert.ok(r.summary.rolledBack.includes(cutover[0]!.id));
  assert.deepEqual(p.world.get(`${DOMAIN} A`), ['192.0.2.10']);
  assert.match(local.lines[1]!, /FERRY_OLD_ADDRESS=192\.0\.2\.20 FERRY_NEW_ADDRESS=192\.0\.2\.10 /);
});

test('a failing hook: dns-hook-failed, redacted, the record as it was; the undo asks the hook to hold the old address', async () => {
  const p = provider({ [`${DOMAIN} A`]: ['192.0.2.10'] });
  const local = hookHost(p, { fail: true });
  const r = await run([switchStep(), ...(await steps(p, local)).cutover]);
  assert.equal(r.failed[0]!.code, 'dns-hook-failed');
  assert.match(
    r.failed[0]!.message,
    /exit 3; its stderr ended with:\nzone locked\nAuthorization: Bearer \[REDACTED\]$/,
  );
  assert.deepEqual(p.world.get(`${DOMAIN} A`), ['192.0.2.10']);
  assert.equal(local.lines.length, 2);
  assert.match(local.lines[1]!, /FERRY_OLD_ADDRESS=192\.0\.2\.20 FERRY_NEW_ADDRESS=192\.0\.2\.10 /);
  assert.deepEqual(
    r.summary.rollbackFailed,
    ['shop/migrate/dns/shop.example.com'],
    'the hook fails its undo too: said',
  );
});

test('a rollback after a kill (no observation) undoes the changes expected at plan time', async () => {
  const p = provider({ [`${DOMAIN} A`]: ['192.0.2.20'] });
  const local = hookHost(p);
  const { cutover } = await steps(provider({ [`${DOMAIN} A`]: ['192.0.2.10'] }), local);
  const ctx = testContext(new RecordingTransport('app2'), { step: cutover[0]! });
  await cutover[0]!.rollback(ctx, undefined as never);
  assert.deepEqual(p.world.get(`${DOMAIN} A`), ['192.0.2.10']);
  assert.deepEqual(local.lines, [
    'env FERRY_STACK=shop FERRY_DOMAIN=shop.example.com FERRY_RECORD_TYPE=A FERRY_OLD_ADDRESS=192.0.2.20 FERRY_NEW_ADDRESS=192.0.2.10 FERRY_TTL=120 /ops/dns-hook.sh',
  ]);
});

test('a hook that exits 0 without changing the record: the wait ends, verify fails, and the undo is called', async () => {
  const p = provider({ [`${DOMAIN} A`]: ['192.0.2.10'] });
  const local = hookHost(p, { ignore: true });
  const r = await run([
    switchStep(),
    ...(await steps(p, local, { hook: HOOK, waitMs: 150, resolvers: ['127.0.0.1:53'] })).cutover,
  ]);
  assert.equal(r.failed[0]!.code, 'verify-failed');
  assert.match(
    r.failed[0]!.message,
    /after 150 ms, the answer of 127\.0\.0\.1:53 for shop\.example\.com is still A 192\.0\.2\.10 \(expected 192\.0\.2\.20\)$/,
  );
  assert.equal(local.lines.length, 2);
});

test('without a hook: nothing runs; the title and the runbook say which record to change to what', async () => {
  const p = provider({ [`${DOMAIN} A`]: ['192.0.2.10'] });
  const local = hookHost(p);
  const { preflight, cutover } = await steps(p, local, {});
  assert.equal(
    cutover[0]!.title,
    'DNS by hand: point the A record of shop.example.com at 192.0.2.20 (now: 192.0.2.10, TTL 120 s)',
  );
  assert.match(
    cutover[0]!.doc().purpose,
    /^Ferry changes nothing here \(no dns\.hook in ferry\.yml\)\. At your DNS provider: point the A record/,
  );
  const r = await run([preflight, switchStep(), ...cutover]);
  assert.deepEqual([r.summary.ok, r.summary.failed], [2, 0]);
  assert.deepEqual(local.lines, []);
  assert.deepEqual(p.world.get(`${DOMAIN} A`), ['192.0.2.10']);
});

test('the preflight refuses before anything changes: a missing hook, a record elsewhere, a TTL over max_ttl, a resolver that does not answer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-dns-'));
  try {
    const hook = join(dir, 'hook.sh');
    writeFileSync(hook, '#!/bin/sh\n');
    chmodSync(hook, 0o755);
    const check = async (world: Record<string, string[]>, dns: DnsDef, down = false) => {
      const p = provider(world);
      p.state.down = down;
      const r = await run([(await steps(p, hookHost(p), dns)).preflight]);
      return r.failed[0];
    };
    assert.equal(await check({ [`${DOMAIN} A`]: ['192.0.2.10'] }, { hook }), undefined);
    const missing = await check({ [`${DOMAIN} A`]: ['192.0.2.10'] }, { hook: join(dir, 'nope.sh') });
    assert.equal(missing?.code, 'dns-preflight-failed');
    assert.match(
      missing!.message,
      /^dns-hook-missing: dns\.hook .*nope\.sh is not an executable file on this machine$/,
    );
    assert.match(missing!.hint, /^Nothing was changed on app1 or app2\. Correct the path/);
    const elsewhere = await check({ [`${DOMAIN} A`]: ['203.0.113.5'] }, { hook });
    assert.match(
      elsewhere!.message,
      /^dns-hook-wrong-record: shop\.example\.com: A 203\.0\.113\.5, TTL 120 s: points neither at app1/,
    );
    const ttl = await check({ [`${DOMAIN} A`]: ['192.0.2.10'] }, { maxTtlSeconds: 60 });
    assert.match(
      ttl!.message,
      /^dns-ttl-over-max: shop\.example\.com: the TTL of its A record, 120 s \(2 min\), is over dns\.max_ttl \(60 s \(1 min\)\)$/,
    );
    // A record that cannot be read refuses only when the hook is to change it; else the change is by hand anyway.
    assert.equal(await check({}, {}, true), undefined);
    const down = await check({}, { hook }, true);
    assert.match(
      down!.message,
      /^dns-lookup-failed: no answer for the A record of shop\.example\.com from 127\.0\.0\.1:53: ETIMEOUT, no answer in time$/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
