import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DnsDef } from '../model/fleet.js';
import type { DomainRecords } from './dns.js';
import {
  changeText,
  dnsReportLines,
  instruction,
  judgeDomain,
  pointing,
  readingText,
  ttlText,
  unreadDomain,
  type JudgeInput,
} from './dns-judge.js';

const SOURCE = { name: 'app1', addresses: ['192.0.2.10', '2001:db8::10'] };
const TARGET = { name: 'app2', addresses: ['192.0.2.20'] };
const input = (dns?: DnsDef): JudgeInput => ({
  stack: 'shop',
  source: SOURCE,
  target: TARGET,
  ...(dns ? { dns } : {}),
});
const records = (a: string[], ttl = 120, aaaa: string[] = []): DomainRecords => ({
  domain: 'shop.example.com',
  A: a.length > 0 ? { addresses: a, ttl } : { addresses: [] },
  AAAA: aaaa.length > 0 ? { addresses: aaaa, ttl } : { addresses: [] },
});
const codes = (r: ReturnType<typeof judgeDomain>) => r.findings.map((f) => `${f.severity} ${f.code}`);
const HOOK = { hook: '/ops/dns-hook.sh' };

test('a record points at the source, the target, elsewhere, or nowhere', () => {
  assert.equal(pointing({ addresses: ['192.0.2.10'], ttl: 60 }, SOURCE.addresses, TARGET.addresses), 'source');
  assert.equal(pointing({ addresses: ['192.0.2.20'], ttl: 60 }, SOURCE.addresses, TARGET.addresses), 'target');
  assert.equal(
    pointing({ addresses: ['192.0.2.10', '192.0.2.20'], ttl: 60 }, SOURCE.addresses, TARGET.addresses),
    'elsewhere',
  );
  assert.equal(pointing({ addresses: ['203.0.113.5'], ttl: 60 }, SOURCE.addresses, TARGET.addresses), 'elsewhere');
  assert.equal(pointing({ addresses: [] }, SOURCE.addresses, TARGET.addresses), 'missing');
});

test('at the source: the change to make, with its TTL; the finding names the place in ferry.yml', () => {
  const j = judgeDomain(input(), 2, records(['192.0.2.10']));
  assert.deepEqual(j.changes, [
    { domain: 'shop.example.com', type: 'A', from: ['192.0.2.10'], to: ['192.0.2.20'], ttl: 120 },
  ]);
  assert.deepEqual(j.findings, [
    {
      code: 'dns-at-source',
      severity: 'info',
      message: 'shop.example.com: A 192.0.2.10, TTL 120 s: points at app1 (the source)',
      where: { path: 'stacks/shop/proxy/domains/2' },
      hint: 'The cut-over changes it to 192.0.2.20.',
      stack: 'shop',
    },
  ]);
  assert.equal(
    instruction(j.changes[0]!),
    'point the A record of shop.example.com at 192.0.2.20 (now: 192.0.2.10, TTL 120 s)',
  );
  assert.equal(changeText(j.changes[0]!), 'A shop.example.com 192.0.2.10 → 192.0.2.20, TTL 120 s');
  assert.equal(readingText(j), 'shop.example.com A 192.0.2.10 TTL 120 s');
});

test('already at the target: nothing to change (a second run is idempotent)', () => {
  const j = judgeDomain(input(HOOK), 0, records(['192.0.2.20']));
  assert.deepEqual(j.changes, []);
  assert.deepEqual(codes(j), ['info dns-at-target']);
});

test('elsewhere (a CDN): a warning that DNS will not move traffic; with a hook, an error that refuses', () => {
  const plain = judgeDomain(input(), 0, records(['203.0.113.5']));
  assert.deepEqual(codes(plain), ['warning dns-points-elsewhere']);
  assert.match(
    plain.findings[0]!.message,
    /points neither at app1 \(192\.0\.2\.10\) nor at app2 \(192\.0\.2\.20\): a CDN or load balancer in front\?/,
  );
  assert.match(
    plain.findings[0]!.hint,
    /would not move the traffic: point the origin of the CDN or load balancer at app2 \(192\.0\.2\.20\)/,
  );
  assert.deepEqual(plain.changes, []);
  const hooked = judgeDomain(input(HOOK), 0, records(['203.0.113.5']));
  assert.deepEqual(codes(hooked), ['error dns-hook-wrong-record']);
  assert.deepEqual(hooked.changes, []);
});

test('a new domain: created by the hook (info), or by hand (warning), with a short TTL', () => {
  const plain = judgeDomain(input(), 0, records([]));
  assert.deepEqual(codes(plain), ['warning dns-not-found']);
  assert.deepEqual(plain.changes, [{ domain: 'shop.example.com', type: 'A', from: [], to: ['192.0.2.20'], ttl: 300 }]);
  assert.equal(
    plain.findings[0]!.hint,
    'Once the migration is done, create the A record of shop.example.com pointing at 192.0.2.20 (TTL 300 s).',
  );
  const hooked = judgeDomain(input({ ...HOOK, maxTtlSeconds: 60 }), 0, records([]));
  assert.deepEqual(codes(hooked), ['info dns-not-found']);
  assert.equal(hooked.changes[0]!.ttl, 60);
  assert.equal(readingText(hooked), 'shop.example.com does not resolve');
  const noAddress = judgeDomain({ ...input(HOOK), target: { name: 'app2', addresses: [] } }, 0, records([]));
  assert.deepEqual(codes(noAddress), ['error dns-no-target-address']);
});

test('AAAA at the source with no IPv6 address on the target: a warning, and only A moves', () => {
  const j = judgeDomain(input(HOOK), 0, records(['192.0.2.10'], 120, ['2001:db8::10']));
  assert.deepEqual(codes(j), ['info dns-at-source', 'warning dns-no-target-address']);
  assert.deepEqual(
    j.changes.map((c) => c.type),
    ['A'],
  );
  const both = judgeDomain(
    { ...input(HOOK), target: { name: 'app2', addresses: ['192.0.2.20', '2001:db8::20'] } },
    0,
    records(['192.0.2.10'], 120, ['2001:db8::10']),
  );
  assert.deepEqual(
    both.changes.map((c) => `${c.type} ${c.to.join(' ')}`),
    ['A 192.0.2.20', 'AAAA 2001:db8::20'],
  );
});

test('TTL: over max_ttl refuses; high without max_ttl warns; over the wait refuses only with a hook asking caching resolvers', () => {
  assert.deepEqual(codes(judgeDomain(input({ maxTtlSeconds: 300 }), 0, records(['192.0.2.10'], 3600))), [
    'info dns-at-source',
    'error dns-ttl-over-max',
  ]);
  assert.deepEqual(codes(judgeDomain(input({ maxTtlSeconds: 300 }), 0, records(['192.0.2.10'], 300))), [
    'info dns-at-source',
  ]);
  const high = judgeDomain(input(), 0, records(['192.0.2.10'], 3600));
  assert.deepEqual(codes(high), ['info dns-at-source', 'warning dns-ttl-high']);
  assert.equal(
    high.findings[1]!.message,
    'shop.example.com: the TTL of its A record is 3600 s (1 h): resolvers and clients may keep the old address that long after the change',
  );
  assert.match(
    high.findings[1]!.hint,
    /^That is safe: app1's nginx sends their requests to app2 meanwhile\. Keep app1 running/,
  );
  assert.deepEqual(codes(judgeDomain(input({ ...HOOK, maxTtlSeconds: 3600 }), 0, records(['192.0.2.10'], 900))), [
    'info dns-at-source',
    'error dns-ttl-over-wait',
  ]);
  assert.deepEqual(
    codes(judgeDomain(input({ ...HOOK, maxTtlSeconds: 3600, waitMs: 1_000_000 }), 0, records(['192.0.2.10'], 900))),
    ['info dns-at-source'],
  );
  assert.deepEqual(
    codes(
      judgeDomain(
        input({ ...HOOK, maxTtlSeconds: 3600, resolvers: ['198.51.100.53'] }),
        0,
        records(['192.0.2.10'], 900),
      ),
    ),
    ['info dns-at-source'],
  );
});

test('durations read as people say them', () => {
  assert.deepEqual(
    [ttlText(30), ttlText(300), ttlText(3600), ttlText(5430), ttlText(86_400)],
    ['30 s', '300 s (5 min)', '3600 s (1 h)', '5430 s (1 h 30 min 30 s)', '86400 s (1 d)'],
  );
});

test('the report says what to do by hand, what is done, and what DNS cannot do', () => {
  const i = input();
  const lines = dnsReportLines(
    [
      judgeDomain(i, 0, records(['192.0.2.10'])),
      judgeDomain(i, 1, { ...records(['192.0.2.20']), domain: 'www.shop.example.com' }),
      judgeDomain(i, 2, { ...records(['203.0.113.5']), domain: 'cdn.shop.example.com' }),
      unreadDomain(i, 3, 'api.shop.example.com', {
        code: 'dns-lookup-failed',
        message: 'no answer for the A record of api.shop.example.com',
        hint: 'Check the name servers.',
      }),
    ],
    i,
  );
  assert.deepEqual(lines, [
    "DNS: point the A record of shop.example.com at 192.0.2.20 (now: 192.0.2.10, TTL 120 s); until then app1's nginx sends its requests to app2.",
    "DNS: www.shop.example.com: A 192.0.2.20, TTL 120 s: already points at app2 (the target); clients that still have the old address are sent on by app1's nginx.",
    "DNS: cdn.shop.example.com: A 203.0.113.5, TTL 120 s: points neither at app1 (192.0.2.10) nor at app2 (192.0.2.20): a CDN or load balancer in front? Changing this record would not move the traffic: point the origin of the CDN or load balancer at app2 (192.0.2.20). Until then app1's nginx sends the requests it gets to app2.",
    'DNS: no answer for the A record of api.shop.example.com. Check the name servers.',
  ]);
});
