import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { cmd } from '../../src/shell/command.js';
import type { TransportEvent } from '../../src/transport/ssh/events.js';
import { SshPool } from '../../src/transport/ssh/pool.js';
import { SshTransport, type SshOptions } from '../../src/transport/ssh/transport.js';
import type { SshTarget } from '../../src/transport/ssh/target.js';
import { TransportError } from '../../src/transport/transport.js';
import { freePort, keygen, run, sshdUnavailable, TestSshd } from './sshd.js';

const skip = sshdUnavailable();

/** Connects, runs `true`, closes; returns the error (or undefined), the events and the time taken. */
async function attempt(target: SshTarget, options: SshOptions) {
  const events: TransportEvent[] = [];
  const t = new SshTransport(target, { ...options, onEvent: (e) => events.push(e) });
  const started = Date.now();
  try {
    await t.exec(cmd('true'));
    return { error: undefined, events, ms: Date.now() - started };
  } catch (e) {
    return { error: e as TransportError, events, ms: Date.now() - started };
  } finally {
    await t.close();
  }
}

const count = (events: TransportEvent[], kind: TransportEvent['kind']) => events.filter((e) => e.kind === kind).length;

describe('ssh connect: host keys and failures', { skip }, () => {
  let sshd: TestSshd;
  let fingerprint: string;

  before(async () => {
    sshd = await TestSshd.start();
    // ssh-keygen's own reading of the server's key: "256 SHA256:... comment (ED25519)".
    fingerprint = run('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(sshd.dir, 'host_ed25519.pub')]).split(' ')[1]!;
  });
  after(async () => {
    await sshd?.stop();
  });

  test('an unknown host key is refused, naming the host and its fingerprint, without retrying', async () => {
    const empty = join(sshd.dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const logins = sshd.logins();
    const r = await attempt(sshd.target({ knownHostsFiles: [empty] }), sshd.options());
    assert.equal(r.error?.code, 'host-key-unknown');
    assert.equal(
      r.error?.message,
      `test: the host key of [127.0.0.1]:${sshd.port} is not known (ssh-ed25519 key ${fingerprint})`,
    );
    assert.match(r.error?.hint ?? '', /--trust-new-host-key/);
    assert.equal(count(r.events, 'connecting'), 1);
    assert.equal(sshd.logins(), logins);
    assert.equal(readFileSync(empty, 'utf8'), '');
  });

  test('a changed host key is refused even with the trust flag, and known_hosts is left alone', async () => {
    keygen(join(sshd.dir, 'impostor'));
    const file = join(sshd.dir, 'changed_known_hosts');
    const text = `[127.0.0.1]:${sshd.port} ${readFileSync(join(sshd.dir, 'impostor.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
    writeFileSync(file, text);
    const r = await attempt(sshd.target({ knownHostsFiles: [file], trustNewHostKey: true }), sshd.options());
    assert.equal(r.error?.code, 'host-key-changed');
    assert.equal(
      r.error?.message,
      `test: the host key of [127.0.0.1]:${sshd.port} changed: it offered ssh-ed25519 key ${fingerprint}, but ${file}:1 records another key`,
    );
    assert.equal(readFileSync(file, 'utf8'), text);
  });

  test('the trust flag records a new key, which is then known; hashed entries (ssh-keygen -H) match', async () => {
    const file = join(sshd.dir, 'new', 'known_hosts');
    assert.equal(
      (await attempt(sshd.target({ knownHostsFiles: [file], trustNewHostKey: true }), sshd.options())).error,
      undefined,
    );
    assert.equal(readFileSync(file, 'utf8'), `[127.0.0.1]:${sshd.port} ${sshd.hostKeyText()}\n`);
    assert.equal((await attempt(sshd.target({ knownHostsFiles: [file] }), sshd.options())).error, undefined);
    const hashed = join(sshd.dir, 'hashed_known_hosts');
    copyFileSync(file, hashed);
    run('ssh-keygen', ['-q', '-H', '-f', hashed]);
    assert.match(readFileSync(hashed, 'utf8'), /^\|1\|/);
    assert.equal((await attempt(sshd.target({ knownHostsFiles: [hashed] }), sshd.options())).error, undefined);
  });

  test('a closed port is host-unreachable, quickly, after the connect retries', async () => {
    const port = await freePort();
    const r = await attempt(sshd.target({ port }), sshd.options());
    assert.equal(r.error?.code, 'host-unreachable');
    assert.equal(r.error?.message, `test: cannot reach 127.0.0.1:${port}: connection refused`);
    assert.deepEqual(
      r.events.filter((e) => e.kind === 'connect-retry').map((e) => e.kind === 'connect-retry' && e.delayMs),
      [250, 500],
    );
    assert.ok(r.ms < 3000, `${r.ms} ms`);
  });

  test('a server that accepts but never speaks is a connect-timeout within the timeout, retried with backoff', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await attempt(
        sshd.target({ port, connectTimeoutMs: 600 }),
        sshd.options({ retry: { retries: 1, baseDelayMs: 100, maxDelayMs: 100 } }),
      );
      assert.equal(r.error?.code, 'connect-timeout');
      assert.equal(
        r.error?.message,
        `test: no SSH handshake with 127.0.0.1:${port} in time (Timed out while waiting for handshake)`,
      );
      assert.equal(count(r.events, 'connecting'), 2);
      assert.equal(sockets.length, 2);
      assert.ok(r.ms >= 1200 && r.ms < 3000, `${r.ms} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  test('a key the server does not know is auth-failed, not retried; no key at all is said so', async () => {
    keygen(join(sshd.dir, 'stranger'));
    const stranger = join(sshd.dir, 'stranger');
    const r = await attempt(sshd.target({ identityFiles: [stranger] }), sshd.options());
    assert.equal(r.error?.code, 'auth-failed');
    assert.equal(
      r.error?.message,
      `test: 127.0.0.1:${sshd.port} refused every key offered for user root (offered: ${stranger})`,
    );
    assert.equal(count(r.events, 'connecting'), 1);
    const none = await attempt(sshd.target({ identityFiles: [join(sshd.dir, 'no-such-key')] }), sshd.options());
    assert.equal(none.error?.code, 'auth-failed');
    assert.match(
      none.error?.message ?? '',
      /^test: no key to offer root@127\.0\.0\.1:\d+: SSH_AUTH_SOCK is not set and no usable key among /,
    );
  });
});

describe('the pool', { skip }, () => {
  let sshd: TestSshd;
  before(async () => {
    sshd = await TestSshd.start();
  });
  after(async () => {
    await sshd?.stop();
  });

  test('6 hosts, at most 2 handshakes at a time, one connection per host for all their commands', async () => {
    // Handshake intervals as the events tell them, to check the bound apart from the pool's own count.
    const open = new Map<string, number>();
    let overlapping = 0;
    let most = 0;
    const onEvent = (e: TransportEvent) => {
      if (e.kind === 'connecting') open.set(e.host, Date.now());
      if (e.kind === 'connecting' || e.kind === 'connected') overlapping += e.kind === 'connecting' ? 1 : -1;
      most = Math.max(most, overlapping);
    };
    const pool = new SshPool({
      ...sshd.options(),
      onEvent,
      maxHandshakes: 2,
      retry: { retries: 0, baseDelayMs: 0, maxDelayMs: 0 },
    });
    const targets = Array.from({ length: 6 }, (_, i) => sshd.target({ name: `host${i}` }));
    try {
      const results = await Promise.all(targets.map((target) => pool.get(target).exec(cmd('echo', target.name))));
      assert.deepEqual(
        results.map((r) => r.stdout),
        ['host0\n', 'host1\n', 'host2\n', 'host3\n', 'host4\n', 'host5\n'],
      );
      await Promise.all(targets.map((target) => pool.get(target).exec(cmd('true'))));
      assert.equal(pool.get(targets[0]!), pool.get({ ...targets[0]!, port: 1 }));
      assert.deepEqual(pool.handshakes, { started: 6, peak: 2 });
      assert.equal(most, 2);
      assert.equal(open.size, 6);
      assert.equal(sshd.logins(), 6);
    } finally {
      await pool.close();
    }
  });
});
