import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../core/redact.js';
import { TAIL_CHARS, TAIL_LINES, toolFailure, toolTail } from './classify.js';
import { STEP_ERROR_CODES } from './codes.js';

const redactor = new Redactor();
redactor.add('canary-pw-7');
const d = { host: 'web1', what: 'saving redis', redact: (s: string) => redactor.redact(s) };
const r = (code: number, stdout = '', stderr = '') => ({ code, stdout, stderr });
const codeOf = (e: { code: string } | undefined) => e?.code;

test('redis-cli answering NOAUTH with exit 0 fails at once, as an auth failure', () => {
  const e = toolFailure('redis-cli', r(0, 'NOAUTH Authentication required.\n'), d);
  assert.equal(codeOf(e), 'redis-auth-failed');
  assert.equal(e?.message, 'web1: saving redis: redis-cli reported an error:\nNOAUTH Authentication required.');
  assert.match(e?.hint ?? '', /requirepass/);
  assert.equal(codeOf(toolFailure('redis-cli', r(0, 'ERR unknown command\n'), d)), 'redis-failed');
  assert.equal(
    codeOf(toolFailure('redis-cli', r(0, '(error) MISCONF Redis is configured to save RDB\n'), d)),
    'redis-failed',
  );
  assert.equal(toolFailure('redis-cli', r(0, 'Background saving started\n'), d), undefined);
  assert.equal(toolFailure('redis-cli', r(0, 'OK\n'), d), undefined);
});

test('psql: ERROR in its output fails even with exit 0; auth and a stopped server have their own codes', () => {
  assert.equal(codeOf(toolFailure('psql', r(0, '', 'ERROR:  relation "x" does not exist\n'), d)), 'psql-failed');
  assert.equal(codeOf(toolFailure('psql', r(0, '', 'psql:<stdin>:3: ERROR:  syntax error\n'), d)), 'psql-failed');
  assert.equal(
    codeOf(toolFailure('psql', r(2, '', 'psql: error: FATAL:  password authentication failed for user "app"\n'), d)),
    'database-auth-failed',
  );
  assert.equal(
    codeOf(
      toolFailure(
        'psql',
        r(2, '', 'psql: error: connection to server on socket failed: is the server running locally\n'),
        d,
      ),
    ),
    'database-not-running',
  );
  assert.equal(toolFailure('psql', r(0, ' count \n-------\n 3\n', 'NOTICE:  table exists, skipping\n'), d), undefined);
});

test('docker, compose, systemctl, rsync, nginx and certbot failures get their codes and the common ones', () => {
  assert.equal(
    codeOf(toolFailure('docker', r(1, '', 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock.'), d)),
    'docker-unavailable',
  );
  assert.equal(codeOf(toolFailure('docker', r(1, '', 'Error: No such container: app_db_1'), d)), 'container-missing');
  assert.equal(
    codeOf(toolFailure('docker', r(1, '', 'write /var/lib/docker/tmp: no space left on device'), d)),
    'no-space',
  );
  assert.equal(
    codeOf(toolFailure('compose', r(1, '', 'service "web" refers to undefined network front'), d)),
    'compose-failed',
  );
  assert.equal(
    codeOf(toolFailure('systemctl', r(5, '', 'Failed to start x.service: Unit x.service not found.'), d)),
    'unit-missing',
  );
  assert.equal(
    codeOf(toolFailure('nginx', r(1, '', 'nginx: [emerg] unknown directive "x"'), d)),
    'nginx-config-invalid',
  );
  assert.equal(codeOf(toolFailure('certbot', r(1, '', 'Some challenges have failed.'), d)), 'acme-failed');
  const sync = toolFailure(
    'rsync',
    r(23, '', 'rsync: [sender] send_files failed to open "/a": Permission denied (13)'),
    d,
  );
  assert.equal(codeOf(sync), 'permission-denied');
  assert.match(sync?.message ?? '', /exit 23: partial transfer due to error/);
  assert.equal(toolFailure('docker', r(0, 'abc\n'), d), undefined);
});

test('the tail is the last lines, of a fixed length, redacted', () => {
  const many = Array.from({ length: 30 }, (_, i) => `line ${i} canary-pw-7`).join('\n');
  const tail = toolTail(many, d.redact);
  assert.equal(tail.split('\n').length, TAIL_LINES);
  assert.equal(tail.startsWith('line 22 [REDACTED]'), true);
  assert.equal(tail.includes('canary-pw-7'), false);
  assert.equal(toolTail('x'.repeat(5000), d.redact).length, TAIL_CHARS + 1);
  const e = toolFailure('psql', r(1, '', `FATAL: password authentication failed (canary-pw-7)`), d);
  assert.equal(e?.message.includes('canary-pw-7'), false);
});

test('every code is written once', () => {
  assert.equal(new Set(STEP_ERROR_CODES).size, STEP_ERROR_CODES.length);
});
