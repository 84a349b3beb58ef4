/**
 * Every failure of reaching a host or running a command on it becomes a TransportError
 * here, with a stable code and a hint: socket errors, ssh2's errors (by `level` and
 * message), exits, timeouts and sudo's complaints. Messages pass through `redact`.
 */
import { constants } from 'node:os';
import { TransportError } from '../transport.js';

export type Redact = (text: string) => string;

/** A connect failure and whether trying again later could help. */
export interface ConnectFailure {
  error: TransportError;
  retryable: boolean;
}

interface SshLikeError {
  message?: string;
  code?: string;
  level?: string;
}

const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host is down',
};

const retryable = new WeakSet<TransportError>();

/** Marks a connect failure that trying again later could fix (the retry loop asks `isRetryable`). */
export function markRetryable(error: TransportError): TransportError {
  retryable.add(error);
  return error;
}

export const isRetryable = (error: unknown): boolean => error instanceof TransportError && retryable.has(error);

/**
 * Classifies an error raised while connecting to `where` (`host:port`) for fleet host
 * `host`; `auth` says who logged in with which keys, for an authentication failure.
 */
export function classifyConnectError(
  err: unknown,
  host: string,
  where: string,
  auth?: { user: string; offered: string[] },
): ConnectFailure {
  if (err instanceof TransportError) return { error: err, retryable: retryable.has(err) };
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as SshLikeError;
  const message = e.message ?? String(err);
  const code = e.code ?? '';
  const fail = (c: TransportError['code'], text: string, hint: string, retryable: boolean): ConnectFailure => ({
    error: new TransportError(c, host, `${host}: ${text}`, hint),
    retryable,
  });
  if (code in UNREACHABLE) {
    return fail(
      'host-unreachable',
      `cannot reach ${where}: ${UNREACHABLE[code]}`,
      `check that sshd listens on ${where} and that no firewall blocks it`,
      true,
    );
  }
  if (/Channel open failure/.test(message)) {
    return fail(
      'host-unreachable',
      `the jump host cannot reach ${where}: ${message.replace(/^\(SSH\) Channel open failure: /, '')}`,
      `check that the jump host can reach ${where} (and that its sshd allows TCP forwarding)`,
      true,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || e.level === 'client-dns') {
    return fail(
      'host-unreachable',
      `cannot resolve the host name of ${where}`,
      'check the host in ferry.yml (or its HostName in ~/.ssh/config)',
      code === 'EAI_AGAIN',
    );
  }
  if (code === 'ETIMEDOUT' || e.level === 'client-timeout' || /timed out/i.test(message)) {
    return fail(
      'connect-timeout',
      `no SSH handshake with ${where} in time (${message})`,
      'check that the address is right and that a firewall does not drop the packets; raise the connect timeout for slow links',
      true,
    );
  }
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(message)) {
    const who = auth ? ` for user ${auth.user} (offered: ${auth.offered.join(', ')})` : '';
    return fail(
      'auth-failed',
      `${where} refused every key offered${who}`,
      "check the user name, that the public key is in the server's authorized_keys, or that ssh-agent holds it (ssh-add -l)",
      false,
    );
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /connection lost|closed/i.test(message)) {
    return fail(
      'connection-lost',
      `${where} closed the connection during the handshake (${message})`,
      'sshd may be refusing connections (MaxStartups, fail2ban, AllowUsers): look at its log',
      true,
    );
  }
  return fail(
    'connection-lost',
    `SSH handshake with ${where} failed: ${message}`,
    'run `ssh -v` to the same host to see what the server says',
    false,
  );
}

/** The same error with its message and hint redacted (connect errors can quote paths and host names). */
export function redactError(error: unknown, redact: Redact): unknown {
  if (!(error instanceof TransportError)) return error;
  const message = redact(error.message);
  const hint = redact(error.hint);
  return message === error.message && hint === error.hint
    ? error
    : new TransportError(error.code, error.host, message, hint);
}

/** The connection went away while a command ran. */
export function connectionLost(host: string, line: string, redact: Redact): TransportError {
  return new TransportError(
    'connection-lost',
    host,
    redact(`${host}: the connection closed while running: ${line}`),
    'the server may have rebooted or dropped the connection; check it and run again',
  );
}

export function channelRefused(host: string, line: string, reason: string, redact: Redact): TransportError {
  return new TransportError(
    'command-failed',
    host,
    redact(`${host}: the server would not start the command (${reason}): ${line}`),
    "sshd limits sessions per connection (MaxSessions, default 10); lower Ferry's parallelism on this host or raise MaxSessions",
  );
}

export function commandTimeout(host: string, line: string, timeoutMs: number, redact: Redact): TransportError {
  return new TransportError(
    'command-timeout',
    host,
    redact(`${host}: command still running after ${timeoutMs} ms, killed: ${line}`),
    'raise the command timeout if the command is slow, or look for what it waits on',
  );
}

export function commandFailed(
  host: string,
  line: string,
  code: number,
  stderr: string,
  redact: Redact,
): TransportError {
  const tail = stderrTail(stderr);
  const text = `${host}: exit ${code}${exitMeaning(code)}: ${line}${tail ? `\n${tail}` : ''}`;
  return new TransportError(
    'command-failed',
    host,
    redact(text),
    'read the output above; run the command on the host to reproduce it',
  );
}

/** What sudo prints when it cannot run without a password, or is not installed. */
const SUDO_MISSING =
  /sudo: (a password is required|a terminal is required|no tty present)|sudo: (command )?not found|is not in the sudoers file/;

export function isSudoMissing(code: number, stderr: string): boolean {
  return code !== 0 && SUDO_MISSING.test(stderr);
}

export function sudoMissing(host: string, stderr: string, redact: Redact): TransportError {
  const why = /not found/.test(stderr) ? 'sudo is not installed' : 'sudo asks for a password';
  return new TransportError(
    'sudo-missing',
    host,
    redact(`${host}: ${why} (${stderrTail(stderr, 1)})`),
    'install sudo and allow the SSH user to run commands without a password (NOPASSWD in /etc/sudoers.d), or connect as root',
  );
}

/** The last lines of stderr, which usually say what went wrong. */
export function stderrTail(stderr: string, lines = 10): string {
  return stderr.trimEnd().split('\n').slice(-lines).join('\n');
}

/** zx-style reading of an exit code. */
export function exitMeaning(code: number): string {
  if (code === 127) return ' (command not found)';
  if (code === 126) return ' (permission denied or not executable)';
  if (code > 128) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    return name ? ` (killed by ${name})` : '';
  }
  return '';
}

/** The exit code a shell reports for a process killed by `signal` (`TERM` or `SIGTERM`). */
export function signalExitCode(signal: string): number {
  const n = (constants.signals as Record<string, number | undefined>)[
    signal.startsWith('SIG') ? signal : `SIG${signal}`
  ];
  return 128 + (n ?? 0);
}
