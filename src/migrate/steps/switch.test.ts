import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import type { StackDef } from '../../model/fleet.js';
import { RecordingTransport } from '../../transport/recording.js';
import { TransportError } from '../../transport/transport.js';
import { channelFor } from '../channel.js';
import { markerStep, switchStep } from './switch.js';

const side = (name: string) => ({ name, sudo: false, transport: () => new RecordingTransport(name) });
const ch = channelFor(
  'shop',
  { name: 'old', address: '10.0.0.1', port: 22, user: 'root', sudo: false },
  { name: 'new', address: '10.0.0.2', port: 22, user: 'root', sudo: false },
);
const m = { stack: 'shop', ch, source: side('old'), target: side('new') };
const CAT = 'cat /srv/ferry/shop/migrated-to 2>/dev/null';

test('the marker names the target; rollback removes it, or puts back what a resumed run found before the killed one', async () => {
  const step = markerStep({ id: 'shop/migrate/mark', m, dependsOn: ['shop/migrate/switch'] });
  const t = new RecordingTransport('old')
    .when(CAT, { code: 1 }, { times: 1 })
    .when(CAT, { stdout: 'new\n' })
    .when('rm -f /srv/ferry/shop/migrated-to', {});
  const { checked, verified } = await drive(step, testContext(t, { step }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{}, { ok: true }]);
  assert.deepEqual(
    t.calls.map((c) => (c.kind === 'exec' ? c.line : `${c.kind} ${c.path}`)),
    [CAT, 'upload /srv/ferry/shop/migrated-to', CAT, 'rm -f /srv/ferry/shop/migrated-to'],
  );
  assert.equal(step.phase, 'verify');

  const resumed = new RecordingTransport('old').when(CAT, { stdout: 'new\n' });
  assert.deepEqual(await step.check(testContext(resumed, { step, prior: { previous: 'elsewhere\n' } })), {
    needed: false,
    observed: { previous: 'elsewhere\n' },
  });
  await step.rollback(testContext(resumed, { step }), { previous: 'elsewhere\n' });
  const put = resumed.calls.at(-1);
  assert.ok(put?.kind === 'upload' && put.content === 'elsewhere\n');
});

test('a marker that cannot be removed on rollback fails with the transport error', async () => {
  const step = markerStep({ id: 'shop/migrate/moving', m, dependsOn: [], moving: true });
  assert.equal(step.phase, 'prepare');
  const t = new RecordingTransport('old').when('rm -f /srv/ferry/shop/migrating-to', {
    code: 1,
    stderr: 'rm: cannot remove: Read-only file system\n',
  });
  await assert.rejects(step.rollback(testContext(t, { step }), {}), (e: TransportError) => e.code === 'command-failed');
});

test("the switch is the source's upstreams file, in the phase the plan asks for", () => {
  const stack = {
    name: 'shop',
    proxy: {
      domains: ['shop.test'],
      tls: 'none',
      hsts: false,
      securityHeaders: false,
      routes: [{ path: '/', service: 'web', port: 8000, websocket: false, sse: false }],
    },
  } as unknown as StackDef;
  const step = switchStep({ id: 'shop/migrate/switch', m, stack, dependsOn: ['shop/migrate/hold'], phase: 'deploy' })!;
  assert.deepEqual(
    [step.id, step.host, step.phase, step.dependsOn],
    ['shop/migrate/switch', 'old', 'deploy', ['shop/migrate/hold']],
  );
  assert.equal(switchStep({ id: 'x', m, stack, dependsOn: [] })!.phase, 'proxy');
  assert.equal(switchStep({ id: 'x', m, stack: { ...stack, proxy: undefined } as StackDef, dependsOn: [] }), undefined);
});
