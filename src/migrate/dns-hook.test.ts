import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../core/redact.js';
import { render } from '../shell/command.js';
import { LocalTransport } from '../transport/local.js';
import { DnsHookError, hookCommand, hookOutputTail, reversed, runHook } from './dns-hook.js';
import type { RecordChange } from './dns-judge.js';

const CHANGE: RecordChange = {
  domain: 'shop.example.com',
  type: 'A',
  from: ['192.0.2.10'],
  to: ['192.0.2.20'],
  ttl: 120,
};

test('the hook runs with the change in its environment, quoted by the one quote()', () => {
  assert.equal(
    render(hookCommand('/ops/dns hook.sh', 'shop', CHANGE)),
    "env FERRY_STACK=shop FERRY_DOMAIN=shop.example.com FERRY_RECORD_TYPE=A FERRY_OLD_ADDRESS=192.0.2.10 FERRY_NEW_ADDRESS=192.0.2.20 FERRY_TTL=120 '/ops/dns hook.sh'",
  );
  assert.equal(
    render(hookCommand('/ops/h', 'shop', { ...CHANGE, from: [] })),
    'env FERRY_STACK=shop FERRY_DOMAIN=shop.example.com FERRY_RECORD_TYPE=A FERRY_OLD_ADDRESS= FERRY_NEW_ADDRESS=192.0.2.20 FERRY_TTL=120 /ops/h',
  );
});

test('the undo swaps the addresses; a created record is removed', () => {
  assert.deepEqual(reversed(CHANGE), { ...CHANGE, from: ['192.0.2.20'], to: ['192.0.2.10'] });
  assert.deepEqual(reversed({ ...CHANGE, from: [] }), { ...CHANGE, from: ['192.0.2.20'], to: [] });
});

test("a hook's output keeps no secret: known values, credential variables, URL passwords, tokens after a keyword", () => {
  const redactor = new Redactor();
  redactor.add('db-pass-41');
  const env = { CF_API_TOKEN: 'cf-tok-8c1e55', HOME: '/root', TOKEN_TTL: '3600' };
  const text = [
    'line 1',
    'using db-pass-41',
    'PUT https://user:hunter2@api.example.net/zones failed',
    'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.abc',
    'curl -H "X-Auth-Key: cf-tok-8c1e55" password=s3cr3tvalue',
    'X-Auth-Key: zz9-plain-key; retry',
    'error 403: forbidden for ttl 3600',
    '',
  ].join('\n');
  assert.equal(
    hookOutputTail(text, redactor, env, 6),
    [
      'using [REDACTED]',
      'PUT https://user:[REDACTED]@api.example.net/zones failed',
      'Authorization: Bearer [REDACTED]',
      'curl -H "X-Auth-Key: [REDACTED]" password=[REDACTED]',
      'X-Auth-Key: [REDACTED]; retry',
      'error 403: forbidden for ttl 3600',
    ].join('\n'),
  );
});

test('a failing hook: dns-hook-failed with its exit code and the redacted end of its stderr; exit 0 passes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-dns-hook-'));
  try {
    const hook = join(dir, 'hook.sh');
    writeFileSync(
      hook,
      '#!/bin/sh\necho "$FERRY_DOMAIN $FERRY_RECORD_TYPE $FERRY_OLD_ADDRESS -> $FERRY_NEW_ADDRESS ttl $FERRY_TTL stack $FERRY_STACK" > "$(dirname "$0")/called"\n[ -n "$FAIL" ] || exit 0\necho "provider said no; token=$PROVIDER_TOKEN" >&2\nexit 3\n',
    );
    chmodSync(hook, 0o755);
    const local = new LocalTransport();
    const redactor = new Redactor();
    await runHook({ local, hook, stack: 'shop', change: CHANGE, redactor });
    assert.equal(
      readFileSync(join(dir, 'called'), 'utf8'),
      'shop.example.com A 192.0.2.10 -> 192.0.2.20 ttl 120 stack shop\n',
    );

    process.env['FAIL'] = '1';
    process.env['PROVIDER_TOKEN'] = 'tok-7f3a9c21';
    try {
      const e = await runHook({ local, hook, stack: 'shop', change: CHANGE, redactor }).then(
        () => undefined,
        (x: unknown) => x,
      );
      assert.ok(e instanceof DnsHookError);
      assert.equal(e.code, 'dns-hook-failed');
      assert.equal(
        e.message,
        `dns.hook ${hook} failed to change A shop.example.com from 192.0.2.10 to 192.0.2.20: exit 3; its stderr ended with:\nprovider said no; token=[REDACTED]`,
      );
      assert.ok(!e.message.includes('tok-7f3a9c21') && !e.hint.includes('tok-7f3a9c21'));
      assert.match(
        e.hint,
        /^Run it by hand to see why: `FERRY_STACK=shop FERRY_DOMAIN=shop\.example\.com FERRY_RECORD_TYPE=A FERRY_OLD_ADDRESS=192\.0\.2\.10 FERRY_NEW_ADDRESS=192\.0\.2\.20 FERRY_TTL=120 /,
      );
    } finally {
      delete process.env['FAIL'];
      delete process.env['PROVIDER_TOKEN'];
    }

    const missing = await runHook({ local, hook: join(dir, 'nope.sh'), stack: 'shop', change: CHANGE, redactor }).then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(missing instanceof DnsHookError);
    assert.match(missing.message, /: exit 127: not found; its stderr ended with:\n.*nope\.sh/);

    writeFileSync(hook, '#!/bin/sh\nsleep 5\n');
    const slow = await runHook({ local, hook, stack: 'shop', change: CHANGE, redactor, timeoutMs: 300 }).then(
      () => undefined,
      (x: unknown) => x,
    );
    assert.ok(slow instanceof DnsHookError);
    assert.match(slow.message, /: no exit after 300 ms \(stopped\)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
