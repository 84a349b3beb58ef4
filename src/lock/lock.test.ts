import { test } from 'node:test';
import assert from 'node:assert/strict';

import { render } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { acquireCommand, acquireLock, LockHeldError, releaseLock, type LockOwner } from './lock.js';

const owner = (run: string): LockOwner => ({
  run,
  by: 'ana@laptop',
  at: '2026-11-22T10:00:00Z',
  command: 'ferry apply',
});

test('the acquire command is one atomic mkdir after making the root', () => {
  assert.equal(
    render(acquireCommand('shop')),
    'mkdir -p -m 700 /var/lib/ferry/locks && mkdir /var/lib/ferry/locks/shop.lock',
  );
});

test('a held lock fails at once, naming the holder; the owner file is written only on success', async () => {
  const t = new RecordingTransport('app');
  t.when(render(acquireCommand('shop')), {
    code: 1,
    stderr: "mkdir: cannot create directory '/var/lib/ferry/locks/shop.lock': File exists\n",
  });
  t.when('cat /var/lib/ferry/locks/shop.lock/owner.json', { stdout: JSON.stringify(owner('run-1')) });
  await assert.rejects(acquireLock(t, 'shop', owner('run-2')), (e: unknown) => {
    assert.ok(e instanceof LockHeldError);
    assert.equal(e.code, 'lock-held');
    assert.equal(
      e.message,
      'stack shop on app is locked by run run-1 (ana@laptop, since 2026-11-22T10:00:00Z: ferry apply)',
    );
    assert.match(e.hint, /ferry lock release shop --id run-1/);
    return true;
  });
  assert.equal(t.calls.filter((c) => c.kind === 'upload').length, 0);
});

test('release only by the holder', async () => {
  const t = new RecordingTransport('app');
  t.when('cat /var/lib/ferry/locks/shop.lock/owner.json', { stdout: JSON.stringify(owner('run-1')) });
  await assert.rejects(releaseLock(t, 'shop', 'run-2'), LockHeldError);
  t.when('rm -rf /var/lib/ferry/locks/shop.lock', {});
  assert.equal(await releaseLock(t, 'shop', 'run-1'), 'released');
});
