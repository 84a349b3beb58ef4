import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cmd, render, type Command } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { StepError } from '../engine/errors.js';
import { allOf, dumpFailure, parallelDump, type ParallelDump } from './parallel-dump.js';
import type { Database } from './postgres.js';

const d: Database = { service: 'db', user: 'demo', db: 'demo', volumes: [] };
const through = (remote: Command): Command => cmd('ssh', 'new', render(remote));

function sides(failing?: { line: RegExp; stderr: string }) {
  const source = new RecordingTransport('old')
    .when(/psql .* -c 'SELECT /, {
      stdout: '"public"."bulk"|41000000\n"public"."nokey"|40960\n"public"."ferry_hits"|8192\n',
    })
    .when(/^docker exec -i old_db_1 psql -X -q -At/, { stdout: '00000003-0000001B-1\n' });
  if (failing) source.when(failing.line, { code: 1, stderr: failing.stderr });
  // Each stream's dd says what it carried.
  source.when(/^bash -o pipefail -c /, {
    stdout: '2+1 records in\n2+1 records out\n131072 bytes (131 kB, 128 KiB) copied, 0.1 s, 1.3 MB/s\n',
  });
  const target = new RecordingTransport('new').when(/.*/, {});
  const p: ParallelDump = {
    d,
    jobs: 2,
    through,
    where: 'old -> new',
    redact: (s) => s.replace('s3cret', '[REDACTED]'),
    source: { transport: source, sudo: false, container: 'old_db_1' },
    target: { transport: target, sudo: false, container: 'new_db_1' },
  };
  return { source, target, p };
}

test('a parallel dump: database anew, schema file, pre-data, the tables in shares and the rest from one snapshot, post-data, file removed', async () => {
  const { source, target, p } = sides();
  assert.deepEqual(await parallelDump(p), { tables: 3, streams: 2, bytes: 4 * 131072 });
  const streams = source.lines.filter((l) => l.startsWith('bash '));
  assert.equal(streams.length, 4);
  assert.ok(streams.every((l) => l.includes('--snapshot=00000003-0000001B-1')));
  assert.match(
    streams[0]!,
    /--schema-only \| LC_ALL=C dd bs=65536 2>&3 \| ssh new .*cat > .* \/tmp\/ferry-migrate-db\.schema\.dump/,
  );
  // Two streams for three tables: the large one alone, the two small ones together; then the rest.
  assert.deepEqual(
    streams
      .slice(1)
      .map((l) => [...l.matchAll(/-t '\\''("[^']*")'\\''|(--exclude-table-data)/g)].map((x) => x[1] ?? x[2])),
    [
      ['"public"."bulk"'],
      ['"public"."nokey"', '"public"."ferry_hits"'],
      ['--exclude-table-data', '--exclude-table-data', '--exclude-table-data'],
    ],
  );
  const session = source.calls.find((c) => c.kind === 'exec' && c.line.includes('-At -v'));
  assert.equal(session?.kind === 'exec' ? session.stdin : undefined, '(stream)');
  assert.deepEqual(
    target.lines.map((l) =>
      l
        .split(' ')
        .slice(3, 4)
        .concat(l.includes('--section=') ? [/--section=[a-z-]+/.exec(l)![0]] : [])
        .join(' '),
    ),
    ['psql', 'pg_restore --section=pre-data', 'pg_restore --section=post-data', 'rm'],
  );
  assert.match(target.lines[2]!, /--jobs=2 /);
});

test('a failing stream fails the dump with dump-failed, redacted; the file is still removed', async () => {
  const { target, p } = sides({
    line: /-t '\\''"public"."nokey"'/,
    stderr: 'psql: error: connection to server failed: password s3cret\nERROR:  relation "nokey" does not exist\n',
  });
  const error = await parallelDump(p).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'dump-failed');
  assert.equal(
    error.message,
    'old -> new: moving database demo (rows of "public"."nokey", "public"."ferry_hits"): psql failed (exit 1):\n' +
      'psql: error: connection to server failed: password [REDACTED]\nERROR:  relation "nokey" does not exist',
  );
  assert.match(error.hint, /only read .*--resume/);
  assert.equal(
    target.lines.some((l) => l.includes('--section=post-data')),
    false,
  );
  assert.match(target.lines.at(-1)!, /rm -f \/tmp\/ferry-migrate-db\.schema\.dump$/);
});

test('a full disk on the target is no-space; a session without a snapshot fails before any stream', async () => {
  const full = dumpFailure({ d, where: 'old -> new', redact: (s) => s }, 'rows of "public"."bulk"', {
    code: 1,
    stdout: '',
    stderr: 'ERROR:  could not extend file "base/16384/16390": No space left on device\n',
  });
  assert.equal(full?.code, 'no-space');
  assert.match(full?.hint ?? '', /^Free space on the target/);
  // psql without ON_ERROR_STOP reports an error and exits 0: a failure all the same.
  const at = { d, where: 'old -> new', redact: (s: string) => s };
  const reported = dumpFailure(at, 'schema', { code: 0, stdout: '', stderr: 'ERROR:  syntax error at or near "x"\n' });
  assert.equal(reported?.code, 'dump-failed');
  assert.equal(dumpFailure(at, 'schema', { code: 0, stdout: '', stderr: '' }), undefined);
  const source = new RecordingTransport('old')
    .when(/psql .* -c 'SELECT /, { stdout: '' })
    .when(/^docker exec -i old_db_1 psql -X -q -At/, {
      code: 2,
      stderr: 'psql: error: FATAL:  too many connections\n',
    });
  const target = new RecordingTransport('new').when(/.*/, {});
  const error = await parallelDump({
    ...sides().p,
    source: { transport: source, sudo: false, container: 'old_db_1' },
    target: { transport: target, sudo: false, container: 'new_db_1' },
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof StepError);
  assert.match(
    error.message,
    /\(exporting a snapshot on the source\): psql failed \(exit 2\):\npsql: error: FATAL: {2}too many/,
  );
  assert.equal(source.lines.filter((l) => l.startsWith('bash ')).length, 0);
});

test('all of the streams: each runs to its end, then the first failure is thrown', async () => {
  const ended: number[] = [];
  const work = (n: number, ms: number, fail = false) =>
    new Promise<void>((resolve, reject) =>
      setTimeout(() => (ended.push(n), fail ? reject(new Error(`stream ${n}`)) : resolve()), ms),
    );
  await assert.rejects(allOf([work(1, 20), work(2, 1, true), work(3, 10, true)]), /stream 2/);
  assert.deepEqual(ended, [2, 3, 1]);
  await allOf([]);
});

test('a target database that cannot be created anew fails the dump before any stream', async () => {
  const { source, p } = sides();
  const target = new RecordingTransport('new').when(/DROP DATABASE/, {
    code: 1,
    stderr:
      'ERROR:  database "demo" is being accessed by other users\nDETAIL:  There is 1 other session using the database.\n',
  });
  const error = await parallelDump({ ...p, target: { ...p.target, transport: target } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof StepError);
  assert.equal(error.code, 'dump-failed');
  assert.match(
    error.message,
    /\(creating demo anew on the target\): psql failed \(exit 1\):\nERROR: {2}database "demo" is being accessed by other users\nDETAIL/,
  );
  assert.equal(source.lines.filter((l) => l.startsWith('bash ')).length, 0);
});
