/**
 * A real OpenSSH server on 127.0.0.1 for transport tests: generated host key, client
 * key and config in a temp dir, started in the foreground (`sshd -D -e`) so that its
 * log (LogLevel VERBOSE) can be read, stopped and removed by `stop()`. Needs root and
 * the Debian package openssh-server (installed here when missing and apt-get works).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshTarget } from '../../src/transport/ssh/target.js';
import type { SshOptions } from '../../src/transport/ssh/transport.js';

const SSHD = '/usr/sbin/sshd';

/** Why sshd tests cannot run here, or undefined when they can. */
export function sshdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'sshd tests need root';
  if (!existsSync(SSHD)) {
    spawnSync('apt-get', ['install', '-y', '-qq', 'openssh-server'], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server)`;
  mkdirSync('/run/sshd', { recursive: true });
  return undefined;
}

export function run(command: string, args: string[], input?: string, env?: Record<string, string>): string {
  const r = spawnSync(command, args, { encoding: 'utf8', input, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function keygen(path: string, type = 'ed25519'): void {
  run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'ferry-test', '-f', path]);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class TestSshd {
  private log = '';
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stderr!.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
  }

  static async start(extraConfig: string[] = []): Promise<TestSshd> {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-sshd-'));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'keys'), { mode: 0o755 });
    keygen(join(dir, 'host_ed25519'));
    keygen(join(dir, 'client'));
    const port = await freePort();
    // sshd keeps the first value of a keyword: the extra lines come first to override.
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        ...extraConfig,
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host_ed25519')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(dir, 'keys', '%u')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'LogLevel VERBOSE',
        'AllowTcpForwarding yes',
        'MaxStartups 100',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    const child = spawn(
      SSHD,
      ['-D', '-e', '-p', String(port), '-f', join(dir, 'sshd_config'), '-h', join(dir, 'host_ed25519')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const sshd = new TestSshd(dir, port, child);
    // Should the test process end without stopping it, the server goes too.
    const orphan = () => child.kill('SIGTERM');
    process.once('exit', orphan);
    child.once('exit', () => process.removeListener('exit', orphan));
    try {
      sshd.authorize('root', join(dir, 'client.pub'));
      await sshd.waitFor(/Server listening on 127\.0\.0\.1 port/, 10_000);
      writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${sshd.hostKeyText()}\n`);
    } catch (e) {
      await sshd.stop();
      throw e;
    }
    return sshd;
  }

  /** `ssh-ed25519 AAAA...` of the server's key. */
  hostKeyText(): string {
    return readFileSync(join(this.dir, 'host_ed25519.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  }

  get clientKey(): string {
    return join(this.dir, 'client');
  }

  get knownHosts(): string {
    return join(this.dir, 'known_hosts');
  }

  authorize(user: string, publicKeyFile: string): void {
    const path = join(this.dir, 'keys', user);
    writeFileSync(path, readFileSync(publicKeyFile), { mode: 0o644, flag: 'a' });
    chmodSync(path, 0o644);
  }

  /** A target for this server as root with the generated key and known_hosts. */
  target(overrides: Partial<SshTarget> = {}): SshTarget {
    return {
      name: 'test',
      host: '127.0.0.1',
      port: this.port,
      user: 'root',
      identityFiles: [this.clientKey],
      knownHostsFiles: [this.knownHosts],
      ...overrides,
    };
  }

  /** Options that read nothing from the real home: no ~/.ssh/config, no agent. */
  options(overrides: SshOptions = {}): SshOptions {
    return { sshConfigPath: null, agentSocket: null, home: this.dir, ...overrides };
  }

  /** Successful logins so far (one per SSH connection). */
  logins(user = 'root'): number {
    return this.log.split('\n').filter((l) => l.includes(`Accepted publickey for ${user} `)).length;
  }

  get stderr(): string {
    return this.log;
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!pattern.test(this.log)) {
      if (this.child.exitCode !== null || Date.now() > until)
        throw new Error(`sshd: no ${pattern} in its log:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    // The per-connection sshd processes are the listener's children: end them by pid first.
    for (const pid of childPids(this.child.pid)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Pids whose parent is `parent`, read from /proc. */
export function childPids(parent: number | undefined): number[] {
  if (parent === undefined) return [];
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
