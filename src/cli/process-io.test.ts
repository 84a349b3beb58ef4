import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FdWriter } from './process-io.js';

const fail = (code: string) => Object.assign(new Error(code), { code });

test('a closed reader (EPIPE) ends the output quietly: no failure, nothing more is written', () => {
  let calls = 0;
  const w = new FdWriter(1, 'standard output', () => {
    calls++;
    throw fail('EPIPE');
  });
  w.text('first\n');
  w.text('second\n');
  assert.equal(calls, 1);
  assert.equal(w.failure, undefined);
});

test('any other write failure (ENOSPC) is kept as output-failed, in words, naming the stream', () => {
  const w = new FdWriter(1, 'standard output', () => {
    throw fail('ENOSPC');
  });
  w.text('x');
  assert.deepEqual(w.failure, {
    code: 'output-failed',
    message: 'cannot write to standard output: no space left on the device',
    place: 'standard output',
    hint: 'Write the output somewhere with room for it (a disk with free space, a pipe that reads it all).',
  });
});

test('a full non-blocking pipe (EAGAIN) is waited for; partial writes continue where they stopped', () => {
  const written: string[] = [];
  let busy = 2;
  const w = new FdWriter(1, 'standard output', (_fd, buf, offset) => {
    if (busy-- > 0) throw fail('EAGAIN');
    const n = Math.min(3, buf.length - offset);
    written.push(buf.subarray(offset, offset + n).toString());
    return n;
  });
  w.text('abcdefgh');
  assert.equal(written.join(''), 'abcdefgh');
  assert.equal(w.failure, undefined);
});
