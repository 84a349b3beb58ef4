import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { TransportError } from '../../transport/transport.js';
import { removeStep } from './remove.js';

const PATH = '/srv/ferry/shop/migrating-to';
const KEEP = `test '!' -e ${PATH} || mv -f ${PATH} ${PATH}.ferry-prev`;
const RESTORE = `test -e ${PATH} || test '!' -e ${PATH}.ferry-prev || mv -f ${PATH}.ferry-prev ${PATH}`;
const step = removeStep({ id: 'shop/migrate/moved', host: 'old', path: PATH, sudo: true, dependsOn: [] });

test('remove moves the file aside; rollback puts the kept one back; all through sudo', async () => {
  const t = new RecordingTransport('old')
    .when(`test -e ${PATH}`, {}, { times: 1 })
    .when(KEEP, {})
    .when(`test -e ${PATH}`, { code: 1 })
    .when(RESTORE, {});
  const { checked, verified } = await drive(step, testContext(t, { step }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{ existed: true }, { ok: true }]);
  assert.deepEqual(t.lines, [`test -e ${PATH}`, KEEP, `test -e ${PATH}`, RESTORE]);
  assert.ok(t.calls.every((c) => c.sudo));
});

test('nothing to do when the file is gone, unless a resumed run finds it moved aside by the killed one', async () => {
  const t = new RecordingTransport('old').when(`test -e ${PATH}`, { code: 1 });
  assert.deepEqual(await step.check(testContext(t, { step })), { needed: false, observed: { existed: false } });
  const resumed = await step.check(testContext(t, { step, prior: { existed: true } }));
  assert.deepEqual([resumed.needed, resumed.observed], [true, { existed: true }]);
  await step.rollback(testContext(t, { step }), { existed: false });
  assert.equal(t.lines.length, 2, 'rollback of a file that was not there does nothing');
});

test('a move that fails is command-failed with its words, and the file is left in place', async () => {
  const t = new RecordingTransport('old')
    .when(`test -e ${PATH}`, {})
    .when(KEEP, { code: 1, stderr: 'mv: cannot move: Read-only file system\n' });
  await assert.rejects(
    drive(step, testContext(t, { step })),
    (e: TransportError) => e.code === 'command-failed' && /Read-only file system/.test(e.message),
  );
});
