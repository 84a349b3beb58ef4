import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ensureDir, readInput, regularFileProblem, unwritableReason, writeFileAtomic } from './files.js';

const scratch = (): string => mkdtempSync(join(tmpdir(), 'ferry-files-'));

test('readInput reads a regular file whole, and refuses one past its limit without reading it all', () => {
  const d = scratch();
  writeFileSync(join(d, 'a.yml'), 'services: {}\n');
  assert.equal(readInput(join(d, 'a.yml'), 'a.yml', 100).bytes?.toString(), 'services: {}\n');
  writeFileSync(join(d, 'big.yml'), 'x'.repeat(101));
  const big = readInput(join(d, 'big.yml'), 'big.yml', 100).problem;
  assert.equal(big?.code, 'file-too-large');
  assert.match(big!.message, /^big\.yml is larger than 100 B/);
});

test('readInput refuses what is not a regular file, before reading a byte: nothing blocks or grows', () => {
  const d = scratch();
  const fifo = join(d, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const cases: [string, RegExp][] = [
    [fifo, /is a named pipe \(FIFO\), not a regular file$/],
    ['/dev/zero', /is a device, not a regular file$/],
    [d, /is a directory, not a regular file$/],
  ];
  for (const [path, message] of cases) {
    const p = readInput(path, path, 1024).problem;
    assert.equal(p?.code, 'file-unreadable', path);
    assert.match(p!.message, message);
  }
});

test('/dev/null reads as an empty file, as ssh reads it (`-F /dev/null`), and is no problem', () => {
  assert.deepEqual(readInput('/dev/null', '/dev/null', 1024), { bytes: Buffer.alloc(0) });
  assert.equal(regularFileProblem('/dev/null', '/dev/null'), undefined);
  assert.equal(regularFileProblem('/dev/zero', '/dev/zero')?.code, 'file-unreadable');
});

test('readInput says what went wrong in words, never a system code', () => {
  const d = scratch();
  symlinkSync(join(d, 'loop2'), join(d, 'loop1'));
  symlinkSync(join(d, 'loop1'), join(d, 'loop2'));
  writeFileSync(join(d, 'file'), '');
  const cases: [string, string, RegExp][] = [
    [join(d, 'nope.yml'), 'missing-file', /^file not found: /],
    [join(d, 'file', 'under'), 'missing-file', /a part of the path is not a directory$/],
    [join(d, 'loop1'), 'file-unreadable', /too many symbolic links/],
  ];
  for (const [path, code, message] of cases) {
    const p = readInput(path, path, 1024).problem;
    assert.equal(p?.code, code, path);
    assert.match(p!.message, message);
    assert.doesNotMatch(`${p!.message} ${p!.hint}`, /\bE[A-Z]{3,}\b/);
  }
  assert.equal(regularFileProblem(join(d, 'file'), 'file'), undefined);
});

test('ensureDir creates missing levels, and ends with a reason where Node would loop forever', () => {
  const d = scratch();
  assert.equal(ensureDir(join(d, 'a', 'b', 'c')), undefined);
  assert.ok(existsSync(join(d, 'a', 'b', 'c')));
  writeFileSync(join(d, 'file'), '');
  assert.match(ensureDir(join(d, 'file', 'x')) ?? '', /a part of the path is not a directory$/);
  // mkdir in /proc answers "not found" for ever: Node's recursive mkdirSync spins on it.
  assert.match(ensureDir('/proc/ferry-x/y') ?? '', /^cannot create \/proc\/ferry-x: /);
});

test('unwritableReason and writeFileAtomic: a missing directory or a directory in the way is said before writing', () => {
  const d = scratch();
  assert.match(unwritableReason(join(d, 'missing', 'plan.json')) ?? '', /missing: not found$/);
  assert.match(unwritableReason(d) ?? '', /is a directory$/);
  assert.equal(unwritableReason(join(d, 'plan.json')), undefined);
  assert.equal(writeFileAtomic(join(d, 'plan.json'), '{}\n', 0o600), undefined);
  assert.equal(readInput(join(d, 'plan.json'), 'plan.json', 10).bytes?.toString(), '{}\n');
});
