import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyHostOutput, cpuPercent, emptySample, errorLines } from './sample.js';

test('CPU busy share between two /proc/stat lines, iowait counted as idle', () => {
  // 100 jiffies passed: 30 user, 10 system, 50 idle, 10 iowait: 40 % busy.
  assert.equal(cpuPercent('cpu  100 0 100 1000 100 0 0 0 0 0', 'cpu  130 0 110 1050 110 0 0 0 0 0'), 40);
  assert.equal(cpuPercent('cpu  1 2 3 4', 'cpu  1 2 3 4'), undefined, 'no time passed');
  assert.equal(cpuPercent('garbage', 'cpu  1 2 3 4'), undefined);
});

test('the host command output gives CPU, memory and the data filesystems', () => {
  const s = emptySample('web1', '2026-01-01T00:00:00.000Z');
  applyHostOutput(
    s,
    [
      '@@stat0',
      'cpu  100 0 100 1000 0 0 0 0 0 0',
      '@@pause',
      '@@stat1',
      'cpu  150 0 150 1100 0 0 0 0 0 0',
      '@@meminfo',
      'MemTotal:        1000 kB',
      'MemFree:          100 kB',
      'MemAvailable:     250 kB',
      '@@df',
      'Filesystem 1-blocks Used Available Capacity Mounted on',
      '/dev/vda1 100 91 9 91% /',
      'tmpfs 100 1 99 1% /run',
    ].join('\n'),
  );
  assert.equal(s.cpuPercent, 50);
  assert.equal(s.memoryPercent, 75);
  assert.deepEqual(s.disks, [{ mount: '/', usePercent: 91 }]);
});

test('error lines are counted by word, not by substring, and the last is kept short', () => {
  const text = [
    'GET /errors 200',
    'ERROR: connection refused',
    'terror',
    `Traceback (most recent call last) ${'x'.repeat(300)}`,
  ].join('\n');
  const found = errorLines(text);
  assert.equal(found.lines, 2);
  assert.equal(found.last.length, 200);
  assert.deepEqual(errorLines('all good\n'), { lines: 0, last: '' });
});
