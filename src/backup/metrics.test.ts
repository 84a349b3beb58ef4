import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { testContext } from '../engine/test-helpers.js';
import { StepError } from '../engine/errors.js';
import type { Command } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import type { ExecOptions } from '../transport/transport.js';
import { lastSuccessIn, metricsPath, recordBackupRun, renderBackupMetrics } from './metrics.js';

/** A transport that keeps what each command got on stdin. */
class Keeping extends RecordingTransport {
  readonly stdin: string[] = [];
  override async exec(c: Command, opts: ExecOptions = {}) {
    if (opts.stdin !== undefined) this.stdin.push(String(opts.stdin));
    return super.exec(c, opts);
  }
}

const PATH = '/var/lib/ferry/textfile/ferry_backup_shop_offsite.prom';
const WRITE = `sh -c 'mkdir -p "$1" && cat > "$2.tmp" && mv "$2.tmp" "$2"' sh /var/lib/ferry/textfile ${PATH}`;
const READ = `sh -c 'cat "$1" 2>/dev/null || true' sh ${PATH}`;

test('the metrics file: the last run, its outcome and the last good run; what promtool accepts', () => {
  assert.equal(metricsPath('shop', 'offsite'), PATH);
  const text = renderBackupMetrics({
    stack: 'shop',
    repository: 'offsite',
    lastRun: 1700000100,
    ok: false,
    lastSuccess: 1700000000,
  });
  assert.match(text, /^ferry_backup_last_run_timestamp_seconds\{stack="shop",repository="offsite"\} 1700000100$/m);
  assert.match(text, /^ferry_backup_last_run_success\{stack="shop",repository="offsite"\} 0$/m);
  assert.equal(lastSuccessIn(text), 1700000000);
  const none = renderBackupMetrics({ stack: 'shop', repository: 'offsite', lastRun: 1700000100, ok: false });
  assert.equal(lastSuccessIn(none), undefined);
  assert.doesNotMatch(none, /last_success/);
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (promtool.error && !process.env.CI) return; // promtool absent here: CI has it
  assert.equal(promtool.status, 0, `${promtool.stdout}${promtool.stderr}`);
});

test('a good run writes its start as the last good one; a failed run keeps the last good one the file held', async () => {
  const ok = new Keeping('app').when(WRITE, {});
  await recordBackupRun(testContext(ok), {
    stack: 'shop',
    repository: 'offsite',
    sudo: false,
    startedAt: new Date('2026-12-03T00:00:00Z'),
    ok: true,
  });
  assert.deepEqual(ok.lines, [WRITE], 'a good run reads nothing first');
  assert.equal(lastSuccessIn(ok.stdin[0]!), Date.parse('2026-12-03T00:00:00Z') / 1000);

  const failed = new Keeping('app').when(READ, { stdout: ok.stdin[0]! }).when(WRITE, {});
  await recordBackupRun(testContext(failed), {
    stack: 'shop',
    repository: 'offsite',
    sudo: false,
    startedAt: new Date('2026-12-04T00:00:00Z'),
    ok: false,
  });
  assert.deepEqual(failed.lines, [READ, WRITE]);
  assert.match(failed.stdin[0]!, /^ferry_backup_last_run_success\{stack="shop",repository="offsite"\} 0$/m);
  assert.equal(lastSuccessIn(failed.stdin[0]!), Date.parse('2026-12-03T00:00:00Z') / 1000);
});

test('a good run whose file cannot be written fails with backup-metrics-failed; a failed run does not hide its own error', async () => {
  const full = new RecordingTransport('app').when(WRITE, {
    code: 1,
    stderr: 'cat: write error: No space left on device\n',
  });
  const run = (ok: boolean) =>
    recordBackupRun(testContext(full), {
      stack: 'shop',
      repository: 'offsite',
      sudo: false,
      startedAt: new Date(0),
      ok,
    });
  await assert.rejects(run(true), (e: StepError) => {
    assert.equal(e.code, 'backup-metrics-failed');
    assert.match(e.message, /^app: the backup into offsite is complete, but .* could not be written .*No space left/);
    return true;
  });
  const failing = new RecordingTransport('app')
    .when(READ, { stdout: '' })
    .when(WRITE, { code: 1, stderr: 'no space\n' });
  await recordBackupRun(testContext(failing), {
    stack: 'shop',
    repository: 'offsite',
    sudo: false,
    startedAt: new Date(0),
    ok: false,
  });
});
