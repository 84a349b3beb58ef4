import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { TransportError } from '../../transport/transport.js';
import { removeStep } from './remove.js';

const PATH = '/srv/ferry/shop/migrating-to';
const READ = `cat ${PATH} 2>/dev/null`;
const step = removeStep({ id: 'shop/migrate/moved', host: 'old', path: PATH, sudo: true, dependsOn: [] });

test('remove reads the file, deletes it; rollback writes back what was read, mode 600; all through sudo', async () => {
  const t = new RecordingTransport('old')
    .when(READ, { stdout: 'host2\n' }, { times: 1 })
    .when(`rm -f ${PATH}`, {})
    .when(READ, { code: 1 });
  const { checked, verified } = await drive(step, testContext(t, { step }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{ existed: true, content: 'host2\n' }, { ok: true }]);
  assert.deepEqual(t.lines, [READ, `rm -f ${PATH}`, READ, READ]);
  assert.ok(t.calls.every((c) => c.sudo));
  const up = t.calls.find((c) => c.kind === 'upload');
  assert.deepEqual(up && up.kind === 'upload' ? [up.path, up.content, up.mode] : [], [PATH, 'host2\n', 0o600]);
});

test('nothing to do when the file is gone, unless a resumed run finds it removed by the killed one', async () => {
  const t = new RecordingTransport('old').when(READ, { code: 1 });
  assert.deepEqual(await step.check(testContext(t, { step })), { needed: false, observed: { existed: false } });
  const prior = { existed: true, content: 'host2\n' };
  const resumed = await step.check(testContext(t, { step, prior }));
  assert.deepEqual([resumed.needed, resumed.observed], [true, prior]);
  await step.rollback(testContext(t, { step }), { existed: false });
  assert.equal(t.lines.length, 2, 'rollback of a file that was not there does nothing');
});

test('a removal that fails is command-failed with its words, and the file is left in place', async () => {
  const t = new RecordingTransport('old')
    .when(READ, { stdout: 'host2\n' })
    .when(`rm -f ${PATH}`, { code: 1, stderr: 'rm: cannot remove: Read-only file system\n' });
  await assert.rejects(
    drive(step, testContext(t, { step })),
    (e: TransportError) => e.code === 'command-failed' && /Read-only file system/.test(e.message),
  );
});
