import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { pullStep } from './images-pull.js';

const ID = (image: string) => `docker image inspect --format '{{.Id}}' ${image} 2>/dev/null`;
const step = pullStep({ id: 'shop/images', host: 'web1', images: ['app:1', 'redis:7'], sudo: false, dependsOn: [] });

test('pull: only the images the server lacks are pulled, then every id is read again; rollback runs nothing', async () => {
  const t = new RecordingTransport('web1')
    .when(ID('app:1'), { code: 1 }, { times: 1 })
    .when(ID('redis:7'), { stdout: 'sha256:bbb\n' })
    .when('docker pull -q app:1', { stdout: 'app:1\n' })
    .when(ID('app:1'), { stdout: 'sha256:aaa\n' });
  const { checked, verified } = await drive(step, testContext(t), { rollback: true });
  assert.deepEqual(checked, { needed: true, change: { summary: 'pull app:1' }, observed: { missing: ['app:1'] } });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(t.lines, [ID('app:1'), ID('redis:7'), 'docker pull -q app:1', ID('app:1'), ID('redis:7')]);
});

test('pull: a refused pull is image-pull-failed naming the image; a full disk keeps its own code', async () => {
  const t = new RecordingTransport('web1').when('docker pull -q app:1', {
    code: 1,
    stderr: 'Error response from daemon: pull access denied for app, repository does not exist\n',
  });
  await assert.rejects(step.apply(testContext(t), { missing: ['app:1'] }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'image-pull-failed');
    assert.equal(
      e.message,
      'web1: docker pull app:1: docker failed (exit 1):\nError response from daemon: pull access denied for app, repository does not exist',
    );
    return true;
  });
  const full = new RecordingTransport('web1').when('docker pull -q app:1', {
    code: 1,
    stderr: 'write /var/lib/docker/tmp/x: no space left on device\n',
  });
  await assert.rejects(step.apply(testContext(full), { missing: ['app:1'] }), { code: 'no-space' });
});
