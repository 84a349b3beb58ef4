import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Secret } from '../../src/core/secret.js';
import { cmd, script } from '../../src/shell/command.js';
import { SshTransport } from '../../src/transport/ssh/transport.js';
import { TransportError } from '../../src/transport/transport.js';
import { run, sshdUnavailable, TestSshd } from './sshd.js';

/** Why throwaway users with sudo cannot be made here, or undefined. */
function sudoUnavailable(): string | undefined {
  const why = sshdUnavailable();
  if (why) return why;
  if (!existsSync('/usr/bin/sudo')) {
    spawnSync('apt-get', ['install', '-y', '-qq', 'sudo'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  if (!existsSync('/usr/bin/sudo')) return 'sudo is not installed (apt-get install sudo)';
  if (spawnSync('which', ['useradd']).status !== 0) return 'useradd is missing';
  return undefined;
}

const skip = sudoUnavailable();
const tag = randomBytes(3).toString('hex');
const WITH_SUDO = `ferrysudo${tag}`;
const WITHOUT_SUDO = `ferrynosudo${tag}`;
const SUDOERS = `/etc/sudoers.d/ferry-test-${tag}`;

describe('non-root users, with and without sudo, against a real sshd', { skip }, () => {
  let sshd: TestSshd;
  let sudoer: SshTransport;
  let plain: SshTransport;
  let rootOnly: string;

  before(async () => {
    sshd = await TestSshd.start();
    for (const user of [WITH_SUDO, WITHOUT_SUDO]) {
      run('useradd', ['-m', '-d', join(sshd.dir, 'home', user), '-s', '/bin/sh', user]);
      // A '!' password locks the account for sshd when PAM is off; '*' only means "no password".
      run('usermod', ['-p', '*', user]);
      sshd.authorize(user, join(sshd.dir, 'client.pub'));
    }
    writeFileSync(SUDOERS, `${WITH_SUDO} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    run('visudo', ['-c', '-q', '-f', SUDOERS]);
    rootOnly = join(sshd.dir, 'root-only');
    mkdirSync(rootOnly, { mode: 0o700 });
    sudoer = new SshTransport(sshd.target({ user: WITH_SUDO }), sshd.options());
    plain = new SshTransport(sshd.target({ user: WITHOUT_SUDO }), sshd.options());
  });
  after(async () => {
    await sudoer?.close();
    await plain?.close();
    rmSync(SUDOERS, { force: true });
    // Give sshd a moment to end the users' sessions, then remove them.
    await new Promise((r) => setTimeout(r, 200));
    await sshd?.stop();
    for (const user of [WITH_SUDO, WITHOUT_SUDO]) spawnSync('userdel', ['-f', user], { stdio: 'ignore' });
  });

  test('sudo runs the command as root through sudo -n sh -c; without it, as the user', async () => {
    const asRoot = await sudoer.exec(cmd('id', '-un'), { sudo: true });
    assert.deepEqual([asRoot.stdout, asRoot.command], ['root\n', "sudo -n sh -c 'id -un'"]);
    assert.equal((await sudoer.exec(cmd('id', '-un'))).stdout, `${WITH_SUDO}\n`);
    // A target with sudo: true wraps every command unless the command says otherwise.
    const always = new SshTransport(sshd.target({ user: WITH_SUDO, sudo: true }), sshd.options());
    try {
      assert.equal((await always.exec(cmd('id', '-un'))).stdout, 'root\n');
      assert.equal((await always.exec(cmd('id', '-un'), { sudo: false })).stdout, `${WITH_SUDO}\n`);
    } finally {
      await always.close();
    }
  });

  test('upload and download through sudo into a directory only root can enter', async () => {
    const path = join(rootOnly, 'secret.env');
    await assert.rejects(
      sudoer.upload(path, 'x', { mode: 0o600 }),
      (e: unknown) => e instanceof TransportError && e.code === 'command-failed',
    );
    await sudoer.upload(path, new Secret('TOKEN=canary-sudo-41\n'), { mode: 0o600, sudo: true, owner: 'root:root' });
    assert.equal(readFileSync(path, 'utf8'), 'TOKEN=canary-sudo-41\n');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(path).uid, 0);
    assert.equal((await sudoer.download(path, { sudo: true })).toString(), 'TOKEN=canary-sudo-41\n');
  });

  test('a user without sudo rights gets sudo-missing, whatever check says', async () => {
    await assert.rejects(
      plain.exec(cmd('id', '-un'), { sudo: true }),
      (e: unknown) =>
        e instanceof TransportError &&
        e.code === 'sudo-missing' &&
        e.host === 'test' &&
        e.message === 'test: sudo asks for a password (sudo: a password is required)',
    );
    await assert.rejects(
      plain.upload(join(rootOnly, 'x'), 'x', { mode: 0o600, sudo: true }),
      (e: unknown) => e instanceof TransportError && e.code === 'sudo-missing',
    );
    assert.equal((await plain.exec(cmd('id', '-un'))).stdout, `${WITHOUT_SUDO}\n`);
  });

  test('a timed-out command is killed on the server, with and without sudo', async () => {
    for (const [t, sudo, seconds] of [
      [plain, false, '32.1'],
      [sudoer, true, '32.2'],
    ] as const) {
      await assert.rejects(
        t.exec(cmd('sleep', seconds), { sudo, timeoutMs: 400 }),
        (e: unknown) => e instanceof TransportError && e.code === 'command-timeout',
      );
      let left = '';
      for (let i = 0; i < 50; i++) {
        left = (await t.exec(script('ps -eo args | grep "^sleep $1" || true', seconds))).stdout;
        if (left === '') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(left, '', `sleep ${seconds} (sudo: ${sudo}) still runs`);
    }
  });
});
