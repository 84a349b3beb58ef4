/**
 * Host key verification, which ssh2 leaves to its caller (it accepts any key
 * otherwise). The known_hosts files are read before connecting; the verdict is taken
 * when the server shows its key; a refusal is kept so that the connect error names the
 * fingerprint instead of ssh2's "Host denied".
 */
import { appendFile } from 'node:fs/promises';
import { ensureDir, INPUT_LIMITS, readInput, systemErrorWords } from '../../core/files.js';
import { dirname } from 'node:path';
import {
  checkHostKey,
  fingerprint,
  hostPattern,
  keyTypeOf,
  knownHostsLine,
  knownKeyTypes,
  parseKnownHosts,
  type HostKeyVerdict,
  type KnownHostEntry,
} from '../known-hosts.js';
import { TransportError } from '../transport.js';

export interface HostKeyPolicy {
  knownHostsFiles: string[];
  trustNewHostKey: boolean;
  /** Other ports of the same host: a key known there is this server's too (sshd moved to a new port). */
  samePorts?: number[];
}

export interface HostKeyCheck {
  /** ssh2's `hostVerifier` (asynchronous form). */
  verify(key: Buffer, done: (ok: boolean) => void): void;
  /** Why the key was refused, once `verify` said no. */
  readonly refusal: TransportError | undefined;
  /** Host key algorithms to offer, known types first (as OpenSSH orders them). */
  readonly algorithms: string[];
}

interface FileEntries {
  path: string;
  entries: KnownHostEntry[];
}

const ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};
const ALL_ALGORITHMS = Object.values(ALGORITHMS).flat();

/** `name` is the fleet host (for messages); `host:port` is what is connected to. */
export async function hostKeyCheck(
  name: string,
  host: string,
  port: number,
  policy: HostKeyPolicy,
): Promise<HostKeyCheck> {
  const files = await Promise.all(policy.knownHostsFiles.map((f) => readKnownHosts(name, f)));
  const known = files.flatMap((f) => knownKeyTypes(f.entries, host, port)).flatMap((t) => ALGORITHMS[t] ?? []);
  const check = {
    refusal: undefined as TransportError | undefined,
    algorithms: [...new Set([...known, ...ALL_ALGORITHMS])],
    verify(key: Buffer, done: (ok: boolean) => void): void {
      const { verdict, path } = decide(files, host, port, key);
      if (verdict.kind === 'known') return done(true);
      if (
        verdict.kind === 'unknown' &&
        (policy.samePorts ?? []).some((p) => decide(files, host, p, key).verdict.kind === 'known')
      )
        return done(true);
      if (verdict.kind === 'unknown' && policy.trustNewHostKey && policy.knownHostsFiles[0]) {
        trust(policy.knownHostsFiles[0], host, port, key).then(
          () => done(true),
          (e: unknown) => {
            check.refusal = new TransportError(
              'host-key-unknown',
              name,
              `${name}: cannot record the host key in ${policy.knownHostsFiles[0]}: ${systemErrorWords(e)}`,
              'check that the file is writable',
            );
            done(false);
          },
        );
        return;
      }
      check.refusal = refusal(verdict, name, host, port, key, path);
      done(false);
    },
  };
  return check;
}

async function readKnownHosts(name: string, path: string): Promise<FileEntries> {
  const read = readInput(path, path, INPUT_LIMITS.small);
  if (read.problem?.code === 'missing-file') return { path, entries: [] };
  if (read.problem)
    throw new TransportError(
      'ssh-config',
      name,
      `${name}: ${read.problem.message}`,
      'name a readable known_hosts file with --known-hosts, or fix ~/.ssh/known_hosts',
    );
  return { path, entries: parseKnownHosts(read.bytes.toString('utf8')) };
}

/** Across files: a revoked key anywhere is refused; else known anywhere wins; else a changed key is reported. */
function decide(
  files: FileEntries[],
  host: string,
  port: number,
  key: Buffer,
): { verdict: HostKeyVerdict; path: string } {
  const verdicts = files.map((f) => ({ verdict: checkHostKey(f.entries, host, port, key), path: f.path }));
  for (const kind of ['revoked', 'known', 'changed'] as const) {
    const found = verdicts.find((v) => v.verdict.kind === kind);
    if (found) return found;
  }
  return { verdict: { kind: 'unknown' }, path: files[0]?.path ?? '' };
}

async function trust(path: string, host: string, port: number, key: Buffer): Promise<void> {
  const cannot = ensureDir(dirname(path));
  if (cannot) throw new Error(`cannot create the directory of ${path}: ${cannot}`);
  const read = readInput(path, path, INPUT_LIMITS.small);
  const text = read.bytes?.toString('utf8') ?? '';
  const prefix = text !== '' && !text.endsWith('\n') ? '\n' : '';
  await appendFile(path, `${prefix}${knownHostsLine(host, port, key)}\n`, { mode: 0o600 });
}

function refusal(
  verdict: HostKeyVerdict,
  name: string,
  host: string,
  port: number,
  key: Buffer,
  path: string,
): TransportError {
  const where = hostPattern(host, port);
  const offered = `${keyTypeOf(key)} key ${fingerprint(key)}`;
  if (verdict.kind === 'unknown') {
    const scan = `ssh-keyscan ${port === 22 ? '' : `-p ${port} `}${host} >> ${path}`;
    return new TransportError(
      'host-key-unknown',
      name,
      `${name}: the host key of ${where} is not known (${offered})`,
      `compare ${fingerprint(key)} with the one the server shows (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then run again with --trust-new-host-key, or add it with: ${scan}`,
    );
  }
  const at = `${path}:${'line' in verdict ? verdict.line : 0}`;
  const message =
    verdict.kind === 'revoked'
      ? `${name}: ${where} offered a key revoked at ${at} (${offered})`
      : `${name}: the host key of ${where} changed: it offered ${offered}, but ${at} records another key`;
  return new TransportError(
    'host-key-changed',
    name,
    message,
    `someone may be intercepting the connection. If the server was reinstalled, check the new fingerprint on its console, then remove the old key: ssh-keygen -R '${where}' -f ${path}`,
  );
}
