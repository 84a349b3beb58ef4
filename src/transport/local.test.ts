import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { join } from 'node:path';
import { Redactor } from '../core/redact.js';
import { Secret } from '../core/secret.js';
import { cmd, pipe, raw } from '../shell/command.js';
import { LocalTransport } from './local.js';
import type { ExecResult } from './transport.js';
import { TransportError } from './transport.js';

test('exec returns exit code, stdout and stderr as data, and streams them', async () => {
  const t = new LocalTransport();
  const out: string[] = [];
  const err: string[] = [];
  const r = await t.exec(raw`echo out; echo err >&2; exit 3`, {
    onStdout: (c) => out.push(c),
    onStderr: (c) => err.push(c),
  });
  assert.deepEqual([r.code, r.stdout, r.stderr, r.command], [3, 'out\n', 'err\n', 'echo out; echo err >&2; exit 3']);
  assert.equal(out.join(''), 'out\n');
  assert.equal(err.join(''), 'err\n');
  assert.equal((await t.exec(pipe(cmd('printf', '%s', 'a b'), cmd('wc', '-c')))).stdout.trim(), '3');
});

test('stdin, including a Secret, reaches the command', async () => {
  const t = new LocalTransport();
  assert.equal((await t.exec(cmd('cat'), { stdin: 'hello' })).stdout, 'hello');
  assert.equal((await t.exec(cmd('cat'), { stdin: new Secret('canary-77') })).stdout, 'canary-77');
});

test('check turns a non-zero exit into command-failed; a timeout kills the command', async () => {
  const t = new LocalTransport({ name: 'here' });
  await assert.rejects(
    t.exec(raw`echo boom >&2; exit 127`, { check: true }),
    (e: unknown) =>
      e instanceof TransportError &&
      e.code === 'command-failed' &&
      e.message === 'here: exit 127 (command not found): echo boom >&2; exit 127\nboom',
  );
  const started = Date.now();
  await assert.rejects(
    t.exec(raw`sleep 5; echo late`, { timeoutMs: 200 }),
    (e: unknown) =>
      e instanceof TransportError &&
      e.code === 'command-timeout' &&
      e.message === 'here: command still running after 200 ms, killed: sleep 5; echo late',
  );
  assert.ok(Date.now() - started < 2000);
});

test('upload writes atomically with the mode; download reads back; secrets stay out of command lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-local-'));
  try {
    const redactor = new Redactor();
    redactor.add('canary-5d1e');
    const seen: ExecResult[] = [];
    const t = new LocalTransport({
      redactor,
      onEvent: (e) => {
        if (e.kind === 'exec') seen.push(e.result);
      },
    });
    const path = join(dir, 'secret.env');
    writeFileSync(path, 'old');
    await t.upload(path, new Secret('TOKEN=canary-5d1e\n'), { mode: 0o600 });
    assert.equal(readFileSync(path, 'utf8'), 'TOKEN=canary-5d1e\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal((await t.download(path)).toString(), 'TOKEN=canary-5d1e\n');
    const binary = Buffer.from([0, 255, 128, 10, 13]);
    await t.upload(join(dir, 'bin'), binary, { mode: 0o644 });
    assert.deepEqual(await t.download(join(dir, 'bin')), binary);
    assert.equal(statSync(join(dir, 'bin')).mode & 0o777, 0o644);
    assert.equal(seen.length, 4);
    assert.equal(
      seen.some((r) => r.command.includes('canary')),
      false,
    );
    await assert.rejects(
      t.download(join(dir, 'none')),
      (e: unknown) => e instanceof TransportError && e.code === 'command-failed',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stdin may be a stream, piped as it comes', async () => {
  const chunks = Array.from({ length: 80 }, (_, i) => Buffer.alloc(65536, i));
  const expected = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
  const r = await new LocalTransport().exec(cmd('sha256sum'), { stdin: Readable.from(chunks) });
  assert.equal(r.code, 0);
  assert.equal(r.stdout.split(' ')[0], expected);
});
