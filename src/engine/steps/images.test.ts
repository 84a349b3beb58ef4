import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redactor } from '../../core/redact.js';
import { render } from '../../shell/command.js';
import { RecordingTransport } from '../../transport/recording.js';
import { drive, testContext } from '../test-helpers.js';
import { hasZstdCommand, imageIdCommand, imageStep, loadCommand, saveCommand, type ImagesObserved } from './images.js';

const ID = (image: string) => render(imageIdCommand(image));
const ZSTD = render(hasZstdCommand);
const LOAD_ZSTD = 'zstd -q -d -c | docker load -q';
const LOAD_GZIP = 'gzip -d -c | docker load -q';
const RMI = (image: string) => `docker image inspect ${image} && docker rmi ${image} 2>/dev/null`;

/** A `docker` on this machine's PATH for the test only, printing a few bytes (exit `code`) for `docker save`. */
async function withFakeDocker<T>(code: number, body: () => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-docker-'));
  const saved = process.env.PATH;
  try {
    writeFileSync(join(dir, 'docker'), `#!/bin/sh\necho tarball\necho "save says no" >&2\nexit ${code}\n`);
    chmodSync(join(dir, 'docker'), 0o755);
    process.env.PATH = `${dir}:${saved ?? ''}`;
    return await body();
  } finally {
    process.env.PATH = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}

function sides(serverHas: Record<string, string>, zstd: boolean) {
  const local = new RecordingTransport('local')
    .when(ID('app:1'), { stdout: 'sha256:aaa\n' })
    .when(ID('redis:7'), { stdout: 'sha256:bbb\n' });
  const server = new RecordingTransport('app');
  for (const img of ['app:1', 'redis:7'])
    server.when(ID(img), serverHas[img] ? { stdout: `${serverHas[img]}\n` } : { code: 1 }, { times: 1 });
  server.when(ZSTD, zstd ? { stdout: '/usr/bin/zstd\n' } : { code: 1 });
  return { local, server };
}

test('exact commands: ids on both sides, save | zstd here, zstd -d | docker load there', () => {
  assert.equal(render(imageIdCommand('app:1')), "docker image inspect --format '{{.Id}}' app:1 2>/dev/null");
  assert.equal(render(saveCommand(['app:1', 'redis:7'], 'zstd')), 'docker save app:1 redis:7 | zstd -q -T0 -3 -c');
  assert.equal(render(loadCommand('zstd')), LOAD_ZSTD);
  assert.equal(render(loadCommand('gzip')), LOAD_GZIP);
});

test('check sends only images whose ids differ, and picks gzip when the server has no zstd', async () => {
  const { local, server } = sides({ 'redis:7': 'sha256:bbb' }, false);
  const step = imageStep({ id: 'img', host: 'app', images: ['app:1', 'redis:7'], local });
  assert.deepEqual(await step.check(testContext(server)), {
    needed: true,
    change: { summary: 'send app:1 (gzip); 1 already there' },
    observed: {
      local: { 'app:1': 'sha256:aaa', 'redis:7': 'sha256:bbb' },
      before: { 'redis:7': 'sha256:bbb' },
      send: ['app:1'],
      compression: 'gzip',
    },
  });
  assert.deepEqual(server.lines, [ID('app:1'), ID('redis:7'), ZSTD]);
  assert.deepEqual(local.lines, [ID('app:1'), ID('redis:7')]);
});

test('nothing to send when every id matches; an image missing here is a clear error', async () => {
  const local = new RecordingTransport('local')
    .when(ID('app:1'), { stdout: 'sha256:aaa\n' })
    .when(ID('gone:1'), { code: 1 });
  const server = new RecordingTransport('app')
    .when(ID('app:1'), { stdout: 'sha256:aaa\n' })
    .when(ZSTD, { stdout: '/usr/bin/zstd\n' });
  const checked = await imageStep({ id: 'img', host: 'app', images: ['app:1'], local }).check(testContext(server));
  assert.equal(checked.needed, false);
  await assert.rejects(
    imageStep({ id: 'img', host: 'app', images: ['app:1', 'gone:1'], local }).check(testContext(server)),
    (e: Error & { code?: string }) => e.code === 'image-missing-locally' && /gone:1/.test(e.message),
  );
});

test('apply streams into docker load, verify compares ids, rollback removes only what the server lacked', async () => {
  const { local, server } = sides({ 'redis:7': 'sha256:old' }, true);
  server
    .when(LOAD_ZSTD, { stdout: 'Loaded image: app:1\n' })
    .when(ID('app:1'), { stdout: 'sha256:aaa\n' })
    .when(ID('redis:7'), { stdout: 'sha256:bbb\n' })
    .when(RMI('app:1'), {});
  const step = imageStep({ id: 'img', host: 'app', images: ['app:1', 'redis:7'], local, sudo: true });
  const { checked, verified } = await withFakeDocker(0, () => drive(step, testContext(server), { rollback: true }));
  assert.deepEqual((checked.observed as ImagesObserved).send, ['app:1', 'redis:7']);
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(server.lines, [
    ID('app:1'),
    ID('redis:7'),
    ZSTD,
    LOAD_ZSTD,
    ID('app:1'),
    ID('redis:7'),
    RMI('app:1'),
  ]);
  assert.deepEqual(
    server.calls.filter((c) => c.kind === 'exec' && c.line === LOAD_ZSTD).map((c) => c.kind === 'exec' && c.stdin),
    ['(stream)'],
  );
  assert.ok(server.calls.every((c) => c.sudo));
});

test('on resume the images the server had before the killed run are the ones kept', async () => {
  const { local, server } = sides({ 'app:1': 'sha256:aaa', 'redis:7': 'sha256:bbb' }, true);
  server.when(RMI('app:1'), {});
  const step = imageStep({ id: 'img', host: 'app', images: ['app:1', 'redis:7'], local });
  const prior: ImagesObserved = {
    local: { 'app:1': 'sha256:aaa', 'redis:7': 'sha256:bbb' },
    before: { 'redis:7': 'sha256:bbb' },
    send: ['app:1'],
    compression: 'zstd',
  };
  const ctx = testContext(server, { prior });
  const checked = await step.check(ctx);
  assert.deepEqual(checked.observed?.before, { 'redis:7': 'sha256:bbb' });
  await step.rollback(ctx, checked.observed!);
  assert.deepEqual(server.lines.slice(3), [RMI('app:1')]);
});

test('a docker load that fails is image-load-failed, its words redacted; a save that fails is image-save-failed', async () => {
  const { local, server } = sides({}, false);
  server.when(LOAD_GZIP, { code: 1, stderr: 'open /var/lib/docker/tmp: read-only file system token-s3cr3t\n' });
  const redactor = new Redactor();
  redactor.add('token-s3cr3t');
  const step = imageStep({ id: 'img', host: 'app', images: ['app:1', 'redis:7'], local });
  await withFakeDocker(0, () =>
    assert.rejects(drive(step, testContext(server, { redactor })), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'image-load-failed');
      assert.match(e.message, /^app: docker load of app:1, redis:7: docker failed \(exit 1\):\n/);
      assert.equal(e.message.includes('token-s3cr3t'), false);
      return true;
    }),
  );
  const again = sides({}, false);
  again.server.when(LOAD_GZIP, {});
  await withFakeDocker(1, () =>
    assert.rejects(
      drive(step, testContext(again.server)),
      (e: Error & { code?: string }) => e.code === 'image-save-failed' && /save says no/.test(e.message),
    ),
  );
});
