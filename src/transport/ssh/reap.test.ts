import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announcePid, killGroupLine, PidFilter } from './reap.js';

const feed = (chunks: string[]) => {
  const passed: string[] = [];
  const filter = new PidFilter((c) => passed.push(c.toString()));
  for (const c of chunks) filter.push(Buffer.from(c));
  filter.flush();
  return { pid: filter.pid, passed: passed.join('') };
};

test('each line announces its process group before running in sh -c', () => {
  assert.equal(
    announcePid("docker ps --format '{{.Names}}'"),
    `echo ferry-pid:$$ >&2; exec sh -c 'docker ps --format '\\''{{.Names}}'\\'''`,
  );
  assert.equal(killGroupLine(4242, false), 'kill -KILL -- -4242');
  assert.equal(killGroupLine(4242, true), 'sudo -n kill -KILL -- -4242');
});

test('the announcement is taken off stderr, even split across chunks', () => {
  assert.deepEqual(feed(['ferry-pid:123\nreal error\n']), { pid: 123, passed: 'real error\n' });
  assert.deepEqual(feed(['ferry-', 'pid:4', '56\n', 'more']), { pid: 456, passed: 'more' });
  assert.deepEqual(feed(['ferry-pid:7\n']), { pid: 7, passed: '' });
});

test('stderr that does not start with an announcement passes untouched', () => {
  assert.deepEqual(feed(['warning: x\nferry-pid:1\n']), { pid: undefined, passed: 'warning: x\nferry-pid:1\n' });
  assert.deepEqual(feed(['ferry']), { pid: undefined, passed: 'ferry' });
  const long = 'y'.repeat(40);
  assert.deepEqual(feed([long, 'z']), { pid: undefined, passed: `${long}z` });
  assert.deepEqual(feed([]), { pid: undefined, passed: '' });
});
