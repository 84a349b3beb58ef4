import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../core/redact.js';
import { TransportError } from '../transport.js';
import {
  classifyConnectError,
  redactError,
  commandFailed,
  exitMeaning,
  isRetryable,
  isSudoMissing,
  markRetryable,
  signalExitCode,
  sudoMissing,
} from './errors.js';

const err = (message: string, extra: Record<string, string> = {}) => Object.assign(new Error(message), extra);

test('connect errors: code, message and whether a retry may help', () => {
  const table: [unknown, string, string, boolean][] = [
    [
      err('connect ECONNREFUSED 127.0.0.1:2222', { code: 'ECONNREFUSED', level: 'client-socket' }),
      'host-unreachable',
      'web1: cannot reach 10.0.0.1:22: connection refused',
      true,
    ],
    [
      err('connect EHOSTUNREACH', { code: 'EHOSTUNREACH' }),
      'host-unreachable',
      'web1: cannot reach 10.0.0.1:22: no route to host',
      true,
    ],
    [
      err('getaddrinfo ENOTFOUND nowhere', { code: 'ENOTFOUND' }),
      'host-unreachable',
      'web1: cannot resolve the host name of 10.0.0.1:22',
      false,
    ],
    [
      err('Timed out while waiting for handshake', { level: 'client-timeout' }),
      'connect-timeout',
      'web1: no SSH handshake with 10.0.0.1:22 in time (Timed out while waiting for handshake)',
      true,
    ],
    [
      err('connect ETIMEDOUT', { code: 'ETIMEDOUT' }),
      'connect-timeout',
      'web1: no SSH handshake with 10.0.0.1:22 in time (connect ETIMEDOUT)',
      true,
    ],
    [
      err('All configured authentication methods failed', { level: 'client-authentication' }),
      'auth-failed',
      'web1: 10.0.0.1:22 refused every key offered',
      false,
    ],
    [
      err('Connection lost before handshake', { level: 'protocol' }),
      'connection-lost',
      'web1: 10.0.0.1:22 closed the connection during the handshake (Connection lost before handshake)',
      true,
    ],
    [
      err('read ECONNRESET', { code: 'ECONNRESET' }),
      'connection-lost',
      'web1: 10.0.0.1:22 closed the connection during the handshake (read ECONNRESET)',
      true,
    ],
    [
      err('(SSH) Channel open failure: Connection refused'),
      'host-unreachable',
      'web1: the jump host cannot reach 10.0.0.1:22: Connection refused',
      true,
    ],
    [
      err('Handshake failed: no matching key exchange algorithm', { level: 'handshake' }),
      'connection-lost',
      'web1: SSH handshake with 10.0.0.1:22 failed: Handshake failed: no matching key exchange algorithm',
      false,
    ],
    ['a string', 'connection-lost', 'web1: SSH handshake with 10.0.0.1:22 failed: a string', false],
  ];
  for (const [input, code, message, retryable] of table) {
    const got = classifyConnectError(input, 'web1', '10.0.0.1:22');
    assert.deepEqual([got.error.code, got.error.message, got.retryable], [code, message, retryable]);
    assert.equal(got.error.host, 'web1');
    assert.notEqual(got.error.hint, '');
  }
});

test('an auth failure names the user and the keys offered; a TransportError passes through', () => {
  const got = classifyConnectError(
    err('All configured authentication methods failed', { level: 'client-authentication' }),
    'web1',
    '10.0.0.1:22',
    { user: 'deploy', offered: ['ssh-agent', '/root/.ssh/id_ed25519'] },
  );
  assert.equal(
    got.error.message,
    'web1: 10.0.0.1:22 refused every key offered for user deploy (offered: ssh-agent, /root/.ssh/id_ed25519)',
  );
  const own = new TransportError('host-key-changed', 'web1', 'm', 'h');
  assert.equal(classifyConnectError(own, 'web1', 'x').error, own);
  assert.equal(classifyConnectError(own, 'web1', 'x').retryable, false);
  assert.equal(isRetryable(own), false);
  assert.equal(isRetryable(markRetryable(new TransportError('connect-timeout', 'web1', 'm', 'h'))), true);
});

test('exit codes are explained as zx explains them', () => {
  assert.equal(exitMeaning(1), '');
  assert.equal(exitMeaning(127), ' (command not found)');
  assert.equal(exitMeaning(126), ' (permission denied or not executable)');
  assert.equal(exitMeaning(137), ' (killed by SIGKILL)');
  assert.equal(signalExitCode('TERM'), 143);
  assert.equal(signalExitCode('SIGKILL'), 137);
});

test('command-failed carries the exit, the line and the tail of stderr, redacted', () => {
  const redactor = new Redactor();
  redactor.add('hunter22');
  const stderr = Array.from({ length: 15 }, (_, i) => `line ${i + 1}`).join('\n') + '\npassword hunter22 rejected\n';
  const e = commandFailed('web1', 'docker login -p hunter22', 1, stderr, (t) => redactor.redact(t));
  assert.equal(e.code, 'command-failed');
  assert.equal(
    e.message,
    `web1: exit 1: docker login -p [REDACTED]\n${Array.from({ length: 9 }, (_, i) => `line ${i + 7}`).join('\n')}\npassword [REDACTED] rejected`,
  );
});

test('sudo that needs a password or is not installed is recognised', () => {
  assert.equal(isSudoMissing(1, 'sudo: a password is required\n'), true);
  assert.equal(isSudoMissing(127, 'sh: 1: sudo: not found\n'), true);
  assert.equal(isSudoMissing(127, 'bash: sudo: command not found\n'), true);
  assert.equal(isSudoMissing(0, 'sudo: a password is required\n'), false);
  assert.equal(isSudoMissing(1, 'grep: x: No such file\n'), false);
  assert.equal(
    sudoMissing('web1', 'sudo: a password is required\n', (t) => t).message,
    'web1: sudo asks for a password (sudo: a password is required)',
  );
  assert.equal(
    sudoMissing('web1', 'sh: 1: sudo: not found\n', (t) => t).message,
    'web1: sudo is not installed (sh: 1: sudo: not found)',
  );
});

test('connect errors can be redacted whole, keeping their code', () => {
  const e = new TransportError(
    'auth-failed',
    'web1',
    'web1: refused key /keys/hunter22.key',
    'load /keys/hunter22.key',
  );
  const r = redactError(e, (t) => t.split('hunter22').join('[REDACTED]')) as TransportError;
  assert.deepEqual(
    [r.code, r.host, r.message, r.hint],
    ['auth-failed', 'web1', 'web1: refused key /keys/[REDACTED].key', 'load /keys/[REDACTED].key'],
  );
  assert.equal(
    redactError(e, (t) => t),
    e,
  );
  const plain = new Error('x');
  assert.equal(
    redactError(plain, (t) => t),
    plain,
  );
});
