import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmd, render, type Command } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { StepError } from '../engine/errors.js';
import { dumpFailure, inParallel, parallelDump, type ParallelDump } from './parallel-dump.js';
import type { Database } from './postgres.js';

const d: Database = { service: 'db', user: 'demo', db: 'demo', volumes: [] };
const through = (remote: Command): Command => cmd('ssh', 'new', render(remote));

function sides(failing?: { line: RegExp; stderr: string }) {
  const source = new RecordingTransport('old')
    .when(/psql .* -c 'SELECT /, { stdout: '"public"."bulk"|41000000\n"public"."nokey"|40960\n"public"."ferry_hits"|8192\n' })
    .when(/^docker exec -i old_db_1 psql -X -q -At/, { stdout: '00000003-0000001B-1\n' });
  if (failing) source.when(failing.line, { code: 1, stderr: failing.stderr });
  source.when(/^bash -o pipefail -c /, {});
  const target = new RecordingTransport('new').when(/.*/, {});
  const p: ParallelDump = {
    d, jobs: 2, through, where: 'old -> new', redact: (s) => s.replace('s3cret', '[REDACTED]'),
    source: { transport: source, sudo: false, container: 'old_db_1' },
    target: { transport: target, sudo: false, container: 'new_db_1' },
  };
  return { source, target, p };
}

test('a parallel dump: database anew, schema file, pre-data, every table and the rest from one snapshot, post-data, file removed', async () => {
  const { source, target, p } = sides();
  assert.deepEqual(await parallelDump(p), { tables: 3, streams: 2 });
  const streams = source.lines.filter((l) => l.startsWith('bash '));
  assert.equal(streams.length, 5);
  assert.ok(streams.every((l) => l.includes('--snapshot=00000003-0000001B-1')));
  assert.match(streams[0]!, /--schema-only \| ssh new .*cat > .* \/tmp\/ferry-migrate-db\.schema\.dump/);
  assert.deepEqual(streams.slice(1).map((l) => /-t '\\''("[^']*")'\\''|(--exclude-table-data)/.exec(l)?.slice(1).find(Boolean)), ['"public"."bulk"', '"public"."nokey"', '"public"."ferry_hits"', '--exclude-table-data']);
  const session = source.calls.find((c) => c.kind === 'exec' && c.line.includes('-At -v'));
  assert.equal(session?.kind === 'exec' ? session.stdin : undefined, '(stream)');
  assert.deepEqual(target.lines.map((l) => l.split(' ').slice(3, 4).concat(l.includes('--section=') ? [/--section=[a-z-]+/.exec(l)![0]] : []).join(' ')), [
    'psql', 'pg_restore --section=pre-data', 'pg_restore --section=post-data', 'rm',
  ]);
  assert.match(target.lines[2]!, /--jobs=2 /);
});

test('a failing stream fails the dump with dump-failed, redacted; the file is still removed', async () => {
  const { target, p } = sides({ line: /-t '\\''"public"."nokey"'/, stderr: 'psql: error: connection to server failed: password s3cret\nERROR:  relation "nokey" does not exist\n' });
  const error = await parallelDump(p).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'dump-failed');
  assert.match(error.message, /^old -> new: moving database demo failed \(rows of "public"\."nokey"\): psql: error: .*password \[REDACTED\] \/ ERROR: {2}relation "nokey" does not exist$/);
  assert.match(error.hint, /only read .*--resume/);
  assert.equal(target.lines.some((l) => l.includes('--section=post-data')), false);
  assert.match(target.lines.at(-1)!, /rm -f \/tmp\/ferry-migrate-db\.schema\.dump$/);
});

test('a full disk on the target is no-space; a session without a snapshot fails before any stream', async () => {
  const full = dumpFailure({ d, where: 'old -> new', redact: (s) => s }, 'rows of "public"."bulk"', 'ERROR:  could not extend file "base/16384/16390": No space left on device\n');
  assert.equal(full.code, 'no-space');
  assert.match(full.hint, /^Free space on the target/);
  const source = new RecordingTransport('old')
    .when(/psql .* -c 'SELECT /, { stdout: '' })
    .when(/^docker exec -i old_db_1 psql -X -q -At/, { code: 2, stderr: 'psql: error: FATAL:  too many connections\n' });
  const target = new RecordingTransport('new').when(/.*/, {});
  const error = await parallelDump({ ...sides().p, source: { transport: source, sudo: false, container: 'old_db_1' }, target: { transport: target, sudo: false, container: 'new_db_1' } }).then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof StepError);
  assert.match(error.message, /\(exporting a snapshot on the source\): psql: error: FATAL: {2}too many connections/);
  assert.equal(source.lines.filter((l) => l.startsWith('bash ')).length, 0);
});

test('in parallel: never more than the width at once; after a failure nothing new starts, the first failure is thrown', async () => {
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const work = async (n: number) => {
    started.push(n);
    running += 1;
    peak = Math.max(peak, running);
    await new Promise((r) => setTimeout(r, n === 2 ? 1 : 10));
    running -= 1;
    if (n === 2) throw new Error('two');
  };
  await assert.rejects(inParallel([1, 2, 3, 4, 5, 6], 2, work), /two/);
  assert.equal(peak, 2);
  assert.deepEqual(started, [1, 2], 'the failure of 2 came before 1 ended: 3 never started');
  started.length = 0;
  await inParallel([1, 3, 4, 5, 6], 3, work);
  assert.deepEqual([started.length, peak], [5, 3]);
});
