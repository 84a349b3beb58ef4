import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cmd } from '../../src/shell/command.js';
import { SshTransport } from '../../src/transport/ssh/transport.js';
import { TransportError } from '../../src/transport/transport.js';
import { freePort, run, sshdUnavailable, TestSshd } from './sshd.js';

const skip = sshdUnavailable();

describe('ProxyJump and ssh-agent against a real sshd', { skip }, () => {
  let sshd: TestSshd;
  before(async () => {
    // DEBUG1 logs each forwarded connection the jump opens.
    sshd = await TestSshd.start(['LogLevel DEBUG1']);
  });
  after(async () => {
    await sshd?.stop();
  });

  const forwards = () =>
    sshd.stderr
      .split('\n')
      .filter((l) =>
        l.includes(`server_request_direct_tcpip: originator 127.0.0.1 port 0, target 127.0.0.1 port ${sshd.port}`),
      ).length;

  test('a target behind a jump host (the same sshd) is reached through a forwarded channel', async () => {
    const logins = sshd.logins();
    const t = new SshTransport(sshd.target({ proxyJump: `root@127.0.0.1:${sshd.port}` }), sshd.options());
    try {
      assert.equal((await t.exec(cmd('echo', 'inner'))).stdout, 'inner\n');
      assert.equal((await t.exec(cmd('echo', 'again'))).stdout, 'again\n');
      assert.equal(sshd.logins(), logins + 2);
      assert.equal(forwards(), 1);
    } finally {
      await t.close();
    }
  });

  test('an alias from ~/.ssh/config with HostName, Port, User, IdentityFile and a ProxyJump alias', async () => {
    const config = join(sshd.dir, 'ssh_config');
    writeFileSync(
      config,
      [
        'Host jumpbox',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        '  User root',
        `  IdentityFile ${sshd.clientKey}`,
        'Host inner',
        '  HostName 127.0.0.1',
        `  Port ${sshd.port}`,
        '  ProxyJump jumpbox',
        `  IdentityFile ${sshd.clientKey}`,
        '',
      ].join('\n'),
    );
    const before = forwards();
    const t = new SshTransport(
      { name: 'inner', host: 'inner', knownHostsFiles: [sshd.knownHosts] },
      sshd.options({ sshConfigPath: config }),
    );
    try {
      const resolved = await t.resolve();
      assert.deepEqual(resolved.endpoint, {
        host: '127.0.0.1',
        port: sshd.port,
        user: 'root',
        identityFiles: [sshd.clientKey],
      });
      assert.equal(resolved.jumps.length, 1);
      assert.equal((await t.exec(cmd('whoami'))).stdout, 'root\n');
      assert.equal(forwards(), before + 1);
    } finally {
      await t.close();
    }
  });

  test('a jump host that cannot reach the target reports host-unreachable', async () => {
    const closed = await freePort();
    const t = new SshTransport(
      sshd.target({ port: closed, proxyJump: `root@127.0.0.1:${sshd.port}` }),
      sshd.options({ retry: { retries: 0, baseDelayMs: 0, maxDelayMs: 0 } }),
    );
    try {
      await assert.rejects(
        t.exec(cmd('true')),
        (e: unknown) =>
          e instanceof TransportError &&
          e.code === 'host-unreachable' &&
          e.message === `test: the jump host cannot reach 127.0.0.1:${closed}: Connection refused`,
      );
    } finally {
      await t.close();
    }
  });

  test('ssh-agent: a key held only by the agent logs in', async () => {
    const socket = join(sshd.dir, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    const t = new SshTransport(
      sshd.target({ identityFiles: [join(sshd.dir, 'no-such-key')] }),
      sshd.options({ agentSocket: socket }),
    );
    try {
      for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
      run('ssh-add', ['-q', sshd.clientKey], undefined, { SSH_AUTH_SOCK: socket });
      assert.equal((await t.exec(cmd('echo', 'agent'))).stdout, 'agent\n');
    } finally {
      await t.close();
      agent.kill('SIGTERM');
    }
  });
});
