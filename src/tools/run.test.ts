import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testContext } from '../engine/test-helpers.js';
import { cmd } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { STARTS, runTool } from './run.js';

const HICCUP =
  'Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: waiting for init preliminary setup: read init-p: connection reset by peer: unknown';
const start = cmd('docker', 'start', 'app-web-1');

test('a start that runc failed to set up is run again, and succeeds without a word', async () => {
  const t = new RecordingTransport('web1')
    .when('docker start app-web-1', { code: 1, stderr: HICCUP }, { times: 1 })
    .when('docker start app-web-1', { stdout: 'app-web-1\n' });
  const out = await runTool(testContext(t), 'docker', start, { what: 'docker start of web', starts: true }, 0);
  assert.equal(out, 'app-web-1\n');
  assert.equal(t.lines.length, 2);
});

test('a start that keeps failing so stops after STARTS tries and says so', async () => {
  const t = new RecordingTransport('web1').when('docker start app-web-1', { code: 1, stderr: HICCUP });
  await assert.rejects(
    runTool(testContext(t), 'docker', start, { what: 'docker start of web', starts: true }, 0),
    (e: Error & { code?: string }) =>
      e.code === 'docker-failed' && e.message.includes(`docker start of web (tried ${STARTS} times)`),
  );
  assert.equal(t.lines.length, STARTS);
});

test('other failures, and commands that do not start containers, are run once', async () => {
  const bad = new RecordingTransport('web1').when('docker start app-web-1', {
    code: 1,
    stderr:
      'Error response from daemon: failed to create shim task: OCI runtime create failed: exec: "nope": executable file not found in $PATH',
  });
  await assert.rejects(runTool(testContext(bad), 'docker', start, { what: 'start', starts: true }, 0));
  assert.equal(bad.lines.length, 1);
  const plain = new RecordingTransport('web1').when('docker start app-web-1', { code: 1, stderr: HICCUP });
  await assert.rejects(runTool(testContext(plain), 'docker', start, { what: 'start' }, 0));
  assert.equal(plain.lines.length, 1);
});
