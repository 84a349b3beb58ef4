import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../../shell/command.js';
import { RecordingTransport } from '../../transport/recording.js';
import { Redactor } from '../../core/redact.js';
import { hasZstdCommand, imageIdCommand, imageStep, loadCommand, saveCommand } from './images.js';

const ctx = (t: RecordingTransport) => ({ transport: t, redactor: new Redactor() });

test('exact commands: ids on both sides, save | zstd here, zstd -d | docker load there', () => {
  assert.equal(render(imageIdCommand('app:1')), "docker image inspect --format '{{.Id}}' app:1 2>/dev/null");
  assert.equal(render(saveCommand(['app:1', 'redis:7'], 'zstd')), 'docker save app:1 redis:7 | zstd -q -T0 -3 -c');
  assert.equal(render(loadCommand('zstd')), 'zstd -q -d -c | docker load -q');
  assert.equal(render(loadCommand('gzip')), 'gzip -d -c | docker load -q');
});

test('check sends only images whose ids differ, and picks gzip when the server has no zstd', async () => {
  const local = new RecordingTransport('local');
  local
    .when(render(imageIdCommand('app:1')), { stdout: 'sha256:aaa\n' })
    .when(render(imageIdCommand('redis:7')), { stdout: 'sha256:bbb\n' });
  const server = new RecordingTransport('app');
  server
    .when(render(imageIdCommand('app:1')), { code: 1 })
    .when(render(imageIdCommand('redis:7')), { stdout: 'sha256:bbb\n' })
    .when(render(hasZstdCommand), { code: 1 });
  const step = imageStep({ id: 'img', host: 'app', images: ['app:1', 'redis:7'], local });
  assert.deepEqual(await step.check(ctx(server)), {
    needed: true,
    change: { summary: 'send app:1 (gzip); 1 already there' },
  });
});

test('nothing to send when every id matches; an image missing here is a clear error', async () => {
  const local = new RecordingTransport('local');
  local
    .when(render(imageIdCommand('app:1')), { stdout: 'sha256:aaa\n' })
    .when(render(imageIdCommand('gone:1')), { code: 1 });
  const server = new RecordingTransport('app');
  server
    .when(render(imageIdCommand('app:1')), { stdout: 'sha256:aaa\n' })
    .when(render(hasZstdCommand), { stdout: '/usr/bin/zstd\n' });
  assert.deepEqual(await imageStep({ id: 'img', host: 'app', images: ['app:1'], local }).check(ctx(server)), {
    needed: false,
  });
  await assert.rejects(
    imageStep({ id: 'img', host: 'app', images: ['app:1', 'gone:1'], local }).check(ctx(server)),
    (e: Error & { code?: string }) => e.code === 'image-missing-locally' && /gone:1/.test(e.message),
  );
});
