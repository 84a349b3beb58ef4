import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { cmd, script } from '../../shell/command.js';
import { ShellTransport } from './shell-transport.js';
import type { RunOutcome } from './run.js';

const NOT_STARTED =
  'OCI runtime exec failed: exec failed: unable to start container process: waiting for init preliminary setup: read init-p: connection reset by peer: unknown';

/** Answers each line with the next scripted exit (code, stderr), and records the lines. */
class Scripted extends ShellTransport {
  readonly name = 'h1';
  readonly lines: string[] = [];
  protected readonly commandTimeoutMs = 1000;
  protected override readonly execRetryDelayMs = 0;
  constructor(private readonly answers: [number, string][]) {
    super({});
  }
  protected runLine(line: string): Promise<RunOutcome> {
    this.lines.push(line);
    const [code, stderr] = this.answers.shift() ?? [0, ''];
    return Promise.resolve({
      kind: 'exited',
      code,
      stdout: Buffer.from(''),
      stderr: Buffer.from(stderr),
      durationMs: 1,
    });
  }
  protected wantsSudo(): Promise<boolean> {
    return Promise.resolve(false);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const psql = cmd('docker', 'exec', '-i', 'db', 'psql', '-c', 'SELECT 1');

test('a docker exec whose process runc could not start runs again, and its next answer is the result', async () => {
  const t = new Scripted([
    [126, NOT_STARTED],
    [0, ''],
  ]);
  const r = await t.exec(psql, { stdin: 'SELECT 1' });
  assert.equal(r.code, 0);
  assert.equal(t.lines.length, 2);
});

test('three attempts at most, then the failure is the result (or thrown with check)', async () => {
  const t = new Scripted([
    [126, NOT_STARTED],
    [126, NOT_STARTED],
    [126, NOT_STARTED],
    [0, ''],
  ]);
  assert.equal((await t.exec(psql)).code, 126);
  assert.equal(t.lines.length, 3);
  const c = new Scripted([
    [126, NOT_STARTED],
    [126, NOT_STARTED],
    [126, NOT_STARTED],
  ]);
  await assert.rejects(c.exec(psql, { check: true }), (e: Error & { code?: string }) => e.code === 'command-failed');
});

test('never run again: other failures, other commands, and a stdin stream that cannot be sent twice', async () => {
  const other = new Scripted([[126, 'permission denied']]);
  assert.equal((await other.exec(psql)).code, 126);
  assert.equal(other.lines.length, 1);
  const compound = new Scripted([[126, NOT_STARTED]]);
  assert.equal((await compound.exec(script('docker exec db true && rm -f /x'))).code, 126);
  assert.equal(compound.lines.length, 1);
  const streamed = new Scripted([[126, NOT_STARTED]]);
  assert.equal((await streamed.exec(psql, { stdin: Readable.from(['x']) })).code, 126);
  assert.equal(streamed.lines.length, 1);
});
