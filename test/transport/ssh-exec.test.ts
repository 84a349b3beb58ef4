import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cmd, raw } from '../../src/shell/command.js';
import type { TransportEvent } from '../../src/transport/ssh/events.js';
import { SshTransport } from '../../src/transport/ssh/transport.js';
import { TransportError } from '../../src/transport/transport.js';
import { sshdUnavailable, TestSshd } from './sshd.js';

const skip = sshdUnavailable();

describe('ssh exec against a real sshd', { skip }, () => {
  let sshd: TestSshd;
  let t: SshTransport;
  const events: TransportEvent[] = [];

  before(async () => {
    sshd = await TestSshd.start();
    t = new SshTransport(sshd.target(), sshd.options({ onEvent: (e) => events.push(e) }));
  });
  after(async () => {
    await t?.close();
    await sshd?.stop();
  });

  test('exit codes, stdout and stderr come back as data', async () => {
    const r = await t.exec(raw`echo out; echo err >&2; exit 3`);
    assert.deepEqual([r.code, r.stdout, r.stderr, r.command], [3, 'out\n', 'err\n', 'echo out; echo err >&2; exit 3']);
    assert.equal((await t.exec(cmd('true'))).code, 0);
    assert.equal((await t.exec(cmd('no-such-command-ferry'))).code, 127);
    // Killed by a signal: the shell's convention, 128 + the signal number.
    assert.equal((await t.exec(raw`kill -TERM $$`)).code, 143);
    await assert.rejects(
      t.exec(raw`echo why >&2; exit 4`, { check: true }),
      (e: unknown) =>
        e instanceof TransportError &&
        e.code === 'command-failed' &&
        e.host === 'test' &&
        e.message === 'test: exit 4: echo why >&2; exit 4\nwhy',
    );
  });

  test('output is streamed while the command runs', async () => {
    const seen: { text: string; at: number }[] = [];
    const started = Date.now();
    const r = await t.exec(raw`echo first; sleep 0.5; echo second >&2`, {
      onStdout: (text) => seen.push({ text, at: Date.now() - started }),
      onStderr: (text) => seen.push({ text, at: Date.now() - started }),
    });
    assert.deepEqual(
      seen.map((s) => s.text),
      ['first\n', 'second\n'],
    );
    assert.ok(seen[0]!.at < r.durationMs - 300, `first chunk at ${seen[0]!.at} ms of ${r.durationMs} ms`);
  });

  test('3 MB of stdout arrive whole, and stdin reaches the command', async () => {
    const r = await t.exec(cmd('seq', '1', '450000'));
    const expected = Array.from({ length: 450000 }, (_, i) => `${i + 1}\n`).join('');
    assert.ok(expected.length > 3_000_000);
    assert.equal(r.stdout.length, expected.length);
    assert.equal(r.stdout === expected, true);
    const input = Buffer.alloc(2_000_000, 'ferry-');
    const sum = await t.exec(cmd('sha256sum'), { stdin: input });
    assert.equal(sum.stdout, `${createHash('sha256').update(input).digest('hex')}  -\n`);
  });

  test('a command timeout kills the remote command and keeps the connection', async () => {
    const started = Date.now();
    await assert.rejects(
      t.exec(cmd('sleep', '31.7'), { timeoutMs: 500 }),
      (e: unknown) =>
        e instanceof TransportError &&
        e.code === 'command-timeout' &&
        e.message === 'test: command still running after 500 ms, killed: sleep 31.7',
    );
    assert.ok(Date.now() - started < 2000);
    let left = '';
    for (let i = 0; i < 50; i++) {
      left = (await t.exec(raw`ps -eo args | grep "^sleep 31.7" || true`)).stdout;
      if (left === '') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(left, '');
  });

  test('one connection carries 50 commands, sequential and concurrent', async () => {
    await t.exec(cmd('true'));
    const logins = sshd.logins();
    const connects = events.filter((e) => e.kind === 'connected').length;
    for (let i = 0; i < 25; i++) assert.equal((await t.exec(cmd('echo', String(i)))).stdout, `${i}\n`);
    const outs = await Promise.all(Array.from({ length: 25 }, (_, i) => t.exec(cmd('echo', `c${i}`))));
    assert.deepEqual(
      outs.map((o) => o.stdout),
      Array.from({ length: 25 }, (_, i) => `c${i}\n`),
    );
    assert.equal(sshd.logins(), logins);
    assert.equal(events.filter((e) => e.kind === 'connected').length, connects);
  });

  test('a connection that drops mid-command is reported as lost; the next command reconnects', async () => {
    await t.exec(cmd('true'));
    const logins = sshd.logins();
    // The shell's parent is the sshd process serving this connection.
    await assert.rejects(
      t.exec(raw`kill -9 $PPID; sleep 5`),
      (e: unknown) =>
        e instanceof TransportError &&
        e.code === 'connection-lost' &&
        e.message === 'test: the connection closed while running: kill -9 $PPID; sleep 5',
    );
    assert.equal((await t.exec(cmd('echo', 'back'))).stdout, 'back\n');
    assert.equal(sshd.logins(), logins + 1);
    assert.ok(events.some((e) => e.kind === 'disconnected'));
  });

  test('keepalives notice a server that stopped answering', async () => {
    const k = new SshTransport(sshd.target(), sshd.options({ keepaliveIntervalMs: 200, keepaliveCountMax: 2 }));
    // The sshd process serving this connection: frozen, it neither answers nor closes.
    const server = Number((await k.exec(raw`echo $PPID`)).stdout);
    try {
      process.kill(server, 'SIGSTOP');
      const started = Date.now();
      await assert.rejects(
        k.exec(cmd('sleep', '10'), { timeoutMs: 8000 }),
        (e: unknown) => e instanceof TransportError && e.code === 'connection-lost',
      );
      assert.ok(Date.now() - started < 3000, `${Date.now() - started} ms`);
    } finally {
      process.kill(server, 'SIGCONT');
      await k.close();
    }
  });
});
