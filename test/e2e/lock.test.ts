/** The per-stack lock on a real server: of two applies racing, exactly one wins; the other is told who holds it. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acquireLock, LockHeldError, lockStatus, releaseLock } from '../../src/lock/lock.js';
import { SshPool } from '../../src/transport/ssh/index.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ferry } from '../cli/run.js';
import { onHost, sshTarget, testbedHosts, testbedIsUp } from './helpers.js';

describe('stack lock on the test bed', { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' }, () => {
  test('two racing acquires: one holds it, the other fails naming the holder; release frees it', async () => {
    const h = testbedHosts()[0]!;
    onHost(h, 'rm -rf /var/lib/ferry/locks/racing.lock');
    const target = sshTarget(h);
    const a = new SshPool({ sshConfigPath: null, agentSocket: null });
    const b = new SshPool({ sshConfigPath: null, agentSocket: null });
    try {
      const owner = (run: string) => ({ run, by: 'test@ferry', at: new Date().toISOString(), command: 'ferry apply' });
      const results = await Promise.allSettled([
        acquireLock(a.get(target), 'racing', owner('run-a')),
        acquireLock(b.get(target), 'racing', owner('run-b')),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1);
      assert.equal(lost.length, 1);
      const err = lost[0]!.reason as LockHeldError;
      assert.ok(err instanceof LockHeldError, String(err));
      const winner = results[0]!.status === 'fulfilled' ? 'run-a' : 'run-b';
      // The loser may read the owner file before the winner wrote it; then it says so.
      if (err.owner) assert.equal(err.owner.run, winner);
      const status = await lockStatus(a.get(target), 'racing');
      assert.ok(status && status !== 'unowned');
      assert.equal(status.run, winner);
      assert.equal(onHost(h, 'stat -c %a /var/lib/ferry/locks/racing.lock/owner.json').trim(), '600');
      await assert.rejects(releaseLock(a.get(target), 'racing', 'someone-else'), LockHeldError);
      assert.equal(await releaseLock(a.get(target), 'racing', winner), 'released');
      assert.equal(await lockStatus(a.get(target), 'racing'), undefined);
      await acquireLock(b.get(target), 'racing', owner('run-c'));
      assert.equal(await releaseLock(b.get(target), 'racing', 'run-c'), 'released');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('ferry lock status and release: a stale lock is shown and freed only with its run id', async () => {
    const h = testbedHosts()[0]!;
    onHost(h, 'rm -rf /var/lib/ferry/locks/web.lock');
    const dir = mkdtempSync(join(tmpdir(), 'ferry-lock-'));
    writeFileSync(
      join(dir, 'ferry.yml'),
      `servers:\n  host1: { host: ${h.host} }\nstacks:\n  web: { server: host1, compose: compose.yml }\n`,
    );
    const ssh = ['-i', h.identityFile, '--known-hosts', h.knownHostsFile, '--ssh-config', '/dev/null'];
    const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
    try {
      await acquireLock(pool.get(sshTarget(h)), 'web', {
        run: 'run-dead',
        by: 'ana@laptop',
        at: '2026-11-22T10:00:00Z',
        command: 'ferry apply',
      });
    } finally {
      await pool.close();
    }
    const status = await ferry(['lock', 'status', 'web', ...ssh], { cwd: dir });
    assert.equal(status.code, 0, status.err);
    assert.equal(
      status.out,
      'stack web on host1: locked by run run-dead (ana@laptop, since 2026-11-22T10:00:00Z: ferry apply)\n',
    );
    const wrong = await ferry(['lock', 'release', 'web', '--id', 'run-other', ...ssh], { cwd: dir });
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /^error lock-held: stack web on host1 is locked by run run-dead/);
    const right = await ferry(['lock', 'release', 'web', '--id', 'run-dead', ...ssh], { cwd: dir });
    assert.equal(right.code, 0, right.err);
    assert.equal(right.out, 'stack web on host1: lock of run run-dead released\n');
    const after = await ferry(['lock', 'status', 'web', '--json', ...ssh], { cwd: dir });
    assert.deepEqual(JSON.parse(after.out), { stack: 'web', server: 'host1', locked: false });
    const unknown = await ferry(['lock', 'status', 'wbe', ...ssh], { cwd: dir });
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /error usage: unknown stack "wbe"; did you mean "web"\?/);
  });
});
