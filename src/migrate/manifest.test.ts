import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingTransport } from '../transport/recording.js';
import { LocalTransport } from '../transport/local.js';
import { render } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import { manifestCommand, manifestOf, parseManifest, volumeManifest, type ManifestEntry } from './manifest.js';

// A tree with a space, a newline and a backslash in names, a hard link and a symlink.
const TREE: ManifestEntry[] = [
  { path: 'd 1/a b', content: 'a' },
  { path: 'hard', content: 'a' },
  { path: 'new\nline', content: 'x\ny' },
  { path: 'back\\slash', content: 'b\\c' },
  { path: 'lnk', symlink: 'd 1/a b' },
];
// What manifestCommand printed for that tree on a test bed host (Debian 12).
const CAPTURED = '5 8 bb9bc1045b8ac2451c08035a69a640696fbf2961044b5045ef91cc4c9d6772c3\n';

test('the output is parsed; anything else is an error', () => {
  assert.deepEqual(parseManifest(CAPTURED), {
    files: 5,
    bytes: 8,
    sha256: 'bb9bc1045b8ac2451c08035a69a640696fbf2961044b5045ef91cc4c9d6772c3',
  });
  assert.deepEqual(parseManifest('0 0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), {
    files: 0,
    bytes: 0,
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  });
  assert.throws(() => parseManifest('bash: line 3: cd: /nope: No such file or directory\n'), /not a manifest/);
});

test('the definition in TypeScript gives what the server printed for names with a space, a newline and a backslash', () => {
  assert.deepEqual(manifestOf(TREE), parseManifest(CAPTURED));
  assert.deepEqual(manifestOf([...TREE].reverse()), parseManifest(CAPTURED), 'order of listing does not matter');
  assert.notEqual(
    manifestOf(TREE.map((e) => (e.path === 'hard' ? { path: 'hard', content: 'b' } : e))).sha256,
    parseManifest(CAPTURED).sha256,
  );
  assert.notEqual(
    manifestOf(TREE.map((e) => (e.path === 'lnk' ? { path: 'lnk', content: 'd 1/a b' } : e))).sha256,
    parseManifest(CAPTURED).sha256,
    'a symlink is not a file holding its target',
  );
});

test('the path is an argument of the script, never part of it', () => {
  const c = manifestCommand("/srv/it's data");
  assert.ok(c.kind === 'argv');
  assert.deepEqual([c.argv[0], c.argv[1], c.argv[3], c.argv[4]], ['bash', '-c', 'ferry-manifest', "/srv/it's data"]);
  assert.equal(render(c).includes(`ferry-manifest '/srv/it'\\''s data' '`), true);
});

test('run here with bash and GNU tools: the same manifest as the definition, through sha256sum or openssl, and a coded error for a missing directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-manifest-'));
  try {
    mkdirSync(join(dir, 'd 1'));
    writeFileSync(join(dir, 'd 1', 'a b'), 'a');
    linkSync(join(dir, 'd 1', 'a b'), join(dir, 'hard'));
    writeFileSync(join(dir, 'new\nline'), 'x\ny');
    writeFileSync(join(dir, 'back\\slash'), 'b\\c');
    symlinkSync('d 1/a b', join(dir, 'lnk'));
    mkdirSync(join(dir, 'empty dir'));
    const local = new LocalTransport({ name: 'here' });
    // A newline and a backslash in names: sha256sum -z hashes that batch.
    assert.deepEqual(await volumeManifest(local, dir, false), parseManifest(CAPTURED));
    // Neither a newline nor a backslash: openssl hashes it when this machine has it.
    rmSync(join(dir, 'new\nline'));
    rmSync(join(dir, 'back\\slash'));
    assert.deepEqual(
      await volumeManifest(local, dir, false),
      manifestOf(TREE.filter((e) => e.path !== 'new\nline' && e.path !== 'back\\slash')),
    );
    await assert.rejects(
      volumeManifest(local, join(dir, 'gone'), false),
      (e: StepError) =>
        e.code === 'manifest-failed' &&
        /^here: cannot compute the checksum manifest of .*\/gone: .*No such file or directory$/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('volumeManifest runs the command through sudo when asked', async () => {
  const t = new RecordingTransport('new').when(render(manifestCommand('/var/lib/docker/volumes/shop_db/_data')), {
    stdout: CAPTURED,
  });
  assert.equal((await volumeManifest(t, '/var/lib/docker/volumes/shop_db/_data', true)).files, 5);
  assert.deepEqual(
    t.calls.map((c) => c.sudo),
    [true],
  );
});
