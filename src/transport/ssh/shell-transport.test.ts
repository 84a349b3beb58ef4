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
  protected override readonly replayPauseMs = 0;
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
  assert.equal(r.tries, 2);
  assert.equal(t.lines.length, 2);
});

const START_HICCUP =
  'Error response from daemon: failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: waiting for init preliminary setup: read init-p: connection reset by peer: unknown';

test('a docker start, and a script its caller calls replayable, run again on the same words', async () => {
  const started = new Scripted([
    [1, START_HICCUP],
    [0, ''],
  ]);
  assert.equal((await started.exec(cmd('docker', 'start', 'app-web-1'))).code, 0);
  assert.equal(started.lines.length, 2);
  const up = script('cd "$1" && docker compose up -d', '/srv/app');
  const replayed = new Scripted([
    [1, START_HICCUP],
    [0, ''],
  ]);
  assert.equal((await replayed.exec(up, { replay: true })).code, 0);
  assert.equal(replayed.lines.length, 2);
  const unsaid = new Scripted([[1, START_HICCUP]]);
  assert.equal((await unsaid.exec(up)).code, 1);
  assert.equal(unsaid.lines.length, 1);
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
  const missing = new Scripted([
    [
      126,
      'OCI runtime exec failed: exec failed: unable to start container process: exec: "pg_dump": executable file not found in $PATH: unknown',
    ],
  ]);
  assert.equal((await missing.exec(psql, { replay: true })).code, 126);
  assert.equal(missing.lines.length, 1);
  const compound = new Scripted([[126, NOT_STARTED]]);
  assert.equal((await compound.exec(script('docker exec db true && rm -f /x'))).code, 126);
  assert.equal(compound.lines.length, 1);
  const streamed = new Scripted([[126, NOT_STARTED]]);
  assert.equal((await streamed.exec(psql, { stdin: Readable.from(['x']), replay: true })).code, 126);
  assert.equal(streamed.lines.length, 1);
});
