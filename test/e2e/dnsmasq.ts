/**
 * A real name server for DNS tests: dnsmasq on a loopback port, serving the records of
 * `*.ferry.test` from a hosts file with a TTL of 120 s and answering nothing else (no
 * upstream: no query leaves this machine); and the hook of a DNS provider for it, which
 * really rewrites that file and reloads dnsmasq (SIGHUP), as a provider's API would change
 * a zone. Debian package dnsmasq-base, which CI installs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { resolverLookup } from '../../src/migrate/dns.js';

const DNSMASQ = '/usr/sbin/dnsmasq';
export const TTL = 120;
/** A reason to skip when dnsmasq is not installed. */
export const skip = existsSync(DNSMASQ) ? false : `${DNSMASQ} is missing (apt-get install dnsmasq-base)`;

/** A UDP port free on 127.0.0.1 now, or a socket holding one (that never answers). */
export async function udpSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

export async function freeUdpPort(): Promise<number> {
  const s = await udpSocket();
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export class Dnsmasq {
  private log = '';
  private constructor(
    readonly dir: string,
    readonly server: string,
    private readonly child: ChildProcess,
  ) {
    child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
  }

  /** Started with `hosts` (lines `ADDRESS NAME`), once it answers for `domain`. */
  static async start(hosts: string, domain: string): Promise<Dnsmasq> {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-dnsmasq-'));
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'hosts'), hosts);
    const port = await freeUdpPort();
    const child = spawn(
      DNSMASQ,
      [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--no-resolv',
        '--no-hosts',
        '--no-poll',
        '--bind-interfaces',
        '--listen-address=127.0.0.1',
        `--port=${port}`,
        `--addn-hosts=${join(dir, 'hosts')}`,
        `--local-ttl=${TTL}`,
        '--local=/ferry.test/',
        `--pid-file=${join(dir, 'pid')}`,
        `--user=${userInfo().username}`,
        '--log-facility=-',
        '--log-queries',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const orphan = () => child.kill('SIGTERM');
    process.once('exit', orphan);
    child.once('exit', () => process.removeListener('exit', orphan));
    const d = new Dnsmasq(dir, `127.0.0.1:${port}`, child);
    const ask = resolverLookup({ resolvers: [d.server], timeoutMs: 200, tries: 1 });
    for (let i = 0; ; i++) {
      const ok = await ask(domain, 'A').then(
        (r) => r.addresses.length > 0,
        () => false,
      );
      if (ok) return d;
      if (i === 50) {
        await d.stop();
        throw new Error(`dnsmasq did not answer:\n${d.log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  get hostsFile(): string {
    return join(this.dir, 'hosts');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const gone = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      await gone;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The hook of a DNS provider, for dnsmasq: the line of FERRY_DOMAIN in the hosts file
 * replaced by FERRY_NEW_ADDRESS (removed when empty), then a reload. Each call is logged;
 * with FAIL_WITH set it writes to stderr (with the token of its environment) and fails.
 */
export const HOOK = `#!/bin/sh
set -eu
dir=$(dirname "$0")
echo "$FERRY_STACK $FERRY_DOMAIN $FERRY_RECORD_TYPE [$FERRY_OLD_ADDRESS] -> [$FERRY_NEW_ADDRESS] ttl $FERRY_TTL" >> "$dir/calls"
if [ -n "\${FAIL_WITH:-}" ]; then
  echo "PUT /zones/ferry.test: 403 for token $DNS_API_TOKEN" >&2
  exit "$FAIL_WITH"
fi
hosts=$(cat "$dir/hosts-path")
grep -v " $FERRY_DOMAIN\\$" "$hosts" > "$hosts.new" || true
[ -z "$FERRY_NEW_ADDRESS" ] || echo "$FERRY_NEW_ADDRESS $FERRY_DOMAIN" >> "$hosts.new"
mv "$hosts.new" "$hosts"
kill -HUP "$(cat "$(dirname "$hosts")/pid")"
`;

/** The hook in a directory of its own, editing `ns`'s hosts file; its calls are logged to `DIR/calls`. */
export function writeHook(ns: Dnsmasq): { dir: string; hook: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-dns-hook-'));
  const hook = join(dir, 'dns-hook.sh');
  writeFileSync(hook, HOOK);
  chmodSync(hook, 0o755);
  writeFileSync(join(dir, 'hosts-path'), ns.hostsFile);
  return { dir, hook };
}
