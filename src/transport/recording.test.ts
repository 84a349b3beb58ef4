import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../core/redact.js';
import { Secret } from '../core/secret.js';
import { cmd, pipe } from '../shell/command.js';
import { RecordingTransport, UnexpectedCommandError } from './recording.js';
import { TransportError } from './transport.js';

test('answers scripted commands and records every line, redacted', async () => {
  const redactor = new Redactor();
  redactor.add('s3cret-pass');
  const t = new RecordingTransport('web1', { redactor })
    .when("docker version --format '{{.Server.Version}}'", { stdout: '27.1.1\n' })
    .when(/^docker login /, { code: 0 })
    .when(
      (line) => line.startsWith('systemctl'),
      (line) => ({ stdout: `ran ${line}` }),
    );
  const chunks: string[] = [];
  const v = await t.exec(cmd('docker', 'version', '--format', '{{.Server.Version}}'), {
    onStdout: (c) => chunks.push(c),
  });
  assert.deepEqual(v, {
    code: 0,
    stdout: '27.1.1\n',
    stderr: '',
    durationMs: 0,
    command: "docker version --format '{{.Server.Version}}'",
  });
  assert.deepEqual(chunks, ['27.1.1\n']);
  await t.exec(cmd('docker', 'login', '-u', 'me', '-p', 's3cret-pass'), { sudo: true });
  assert.equal((await t.exec(cmd('systemctl', 'is-active', 'docker'))).stdout, 'ran systemctl is-active docker');
  assert.deepEqual(t.lines, [
    "docker version --format '{{.Server.Version}}'",
    'docker login -u me -p [REDACTED]',
    'systemctl is-active docker',
  ]);
  assert.deepEqual(t.calls[1], { kind: 'exec', line: 'docker login -u me -p [REDACTED]', sudo: true });
});

test('a string matcher is the whole line; the first rule with uses left wins', async () => {
  const t = new RecordingTransport()
    .when('docker ps', { stdout: 'first' }, { times: 1 })
    .when('docker ps', { stdout: 'later' });
  assert.equal((await t.exec(cmd('docker', 'ps'))).stdout, 'first');
  assert.equal((await t.exec(cmd('docker', 'ps'))).stdout, 'later');
  assert.deepEqual(t.unused(), []);
  await assert.rejects(t.exec(cmd('docker', 'ps', '-a')), UnexpectedCommandError);
});

test('an unexpected command fails loudly, listing what was scripted', async () => {
  const t = new RecordingTransport('web1').when('uname -r', {}).when(/^docker /, {}, { times: 2 });
  await assert.rejects(t.exec(pipe(cmd('rm', '-rf', '/srv'), cmd('cat'))), (e: unknown) => {
    assert.ok(e instanceof UnexpectedCommandError);
    assert.ok(!(e instanceof TransportError));
    assert.equal(e.message, 'web1: unexpected command: rm -rf /srv | cat\nscripted: uname -r\n          /^docker /');
    return true;
  });
  assert.deepEqual(t.unused(), ['/^docker /']);
});

test('non-zero exits are data unless check is asked; canned errors are thrown', async () => {
  const lost = new TransportError('connection-lost', 'web1', 'web1: gone', 'hint');
  const t = new RecordingTransport('web1').when('false', { code: 1, stderr: 'no\n' }).when('reboot', { error: lost });
  assert.equal((await t.exec(cmd('false'))).code, 1);
  await assert.rejects(
    t.exec(cmd('false'), { check: true }),
    (e: unknown) =>
      e instanceof TransportError && e.code === 'command-failed' && e.message === 'web1: exit 1: false\nno',
  );
  await assert.rejects(t.exec(cmd('reboot')), (e: unknown) => e === lost);
});

test('uploads are recorded with their content (a Secret stays one) and can be downloaded back', async () => {
  const t = new RecordingTransport('web1').file('/etc/hostname', 'web1\n').file('/srv/missing', null);
  const secret = new Secret('canary-91f2');
  await t.upload('/srv/app/.env', secret, { mode: 0o600, owner: 'app:app', sudo: true });
  await t.exec(cmd('cat'), { stdin: secret }).catch(() => undefined);
  assert.deepEqual(t.calls[0], {
    kind: 'upload',
    path: '/srv/app/.env',
    content: secret,
    mode: 0o600,
    owner: 'app:app',
    sudo: true,
  });
  assert.equal(JSON.stringify(t.calls).includes('canary'), false);
  assert.equal((await t.download('/srv/app/.env')).toString(), 'canary-91f2');
  assert.equal((await t.download('/etc/hostname')).toString(), 'web1\n');
  await assert.rejects(
    t.download('/srv/missing'),
    (e: unknown) =>
      e instanceof TransportError &&
      e.code === 'command-failed' &&
      e.message.startsWith('web1: exit 1: cat -- /srv/missing'),
  );
  await assert.rejects(t.download('/nowhere'), UnexpectedCommandError);
});
