import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testContext } from '../engine/test-helpers.js';
import { cmd } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import type { ExecOptions, ExecResult } from '../transport/transport.js';
import { runTool } from './run.js';

const start = cmd('docker', 'compose', 'up', '-d');

/** Records the options runTool passes, and answers as a transport that ran the command 3 times. */
class Replayed extends RecordingTransport {
  seen: ExecOptions[] = [];
  override async exec(c: Parameters<RecordingTransport['exec']>[0], o: ExecOptions = {}): Promise<ExecResult> {
    this.seen.push(o);
    return { ...(await super.exec(c, o)), tries: 3 };
  }
}

test('replay reaches the transport, and a failure after several tries says how many', async () => {
  const t = new Replayed('web1').when('docker compose up -d', {
    code: 1,
    stderr: 'read init-p: connection reset by peer',
  });
  await assert.rejects(
    runTool(testContext(t), 'compose', start, { what: 'compose up of web', replay: true }),
    (e: Error & { code?: string }) =>
      e.code === 'compose-failed' && e.message.includes('compose up of web (tried 3 times)'),
  );
  assert.equal(t.seen[0]!.replay, true);
  const once = new Replayed('web1').when('docker compose up -d', { stdout: 'ok' });
  assert.equal(await runTool(testContext(once), 'compose', start, { what: 'up' }), 'ok');
  assert.equal(once.seen[0]!.replay, undefined);
});
