import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redactor } from '../../src/core/redact.js';
import { Secret } from '../../src/core/secret.js';
import type { TransportEvent } from '../../src/transport/ssh/events.js';
import { SshTransport } from '../../src/transport/ssh/transport.js';
import { TransportError } from '../../src/transport/transport.js';
import { sshdUnavailable, TestSshd } from './sshd.js';

const skip = sshdUnavailable();
const CANARY = 'canary-7f3c9e1d';

/** `ps -eo args` samples taken until `stop()`; the sshd runs on this machine, so these are the server's processes. */
function sampleProcesses(): { stop: () => Promise<string[]> } {
  const samples: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      samples.push(
        await new Promise<string>((resolve) => {
          let out = '';
          const ps = spawn('ps', ['-eo', 'args'], { stdio: ['ignore', 'pipe', 'ignore'] });
          ps.stdout.on('data', (c: Buffer) => (out += c.toString()));
          ps.on('close', () => resolve(out));
        }),
      );
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return samples;
    },
  };
}

describe('ssh upload and download against a real sshd', { skip }, () => {
  let sshd: TestSshd;
  let t: SshTransport;
  let area: string;
  const events: TransportEvent[] = [];
  const redactor = new Redactor();
  redactor.add(CANARY);

  before(async () => {
    sshd = await TestSshd.start();
    area = join(sshd.dir, 'srv');
    mkdirSync(area);
    t = new SshTransport(sshd.target(), sshd.options({ redactor, onEvent: (e) => events.push(e) }));
    await t.connect();
  });
  after(async () => {
    await t?.close();
    await sshd?.stop();
  });

  test('a secret lands with mode 600, atomically, and never on a command line or in the process list', async () => {
    const path = join(area, 'app.env');
    const content = `TOKEN=${CANARY}\n` + 'PADDING=' + 'x'.repeat(6_000_000) + '\n';
    // The process list is sampled while the upload runs. On a loaded machine a sample may miss a
    // short upload, so it is repeated (each time a complete, atomic upload) until one was seen.
    const samples: string[] = [];
    const seen = () => samples.some((s) => s.includes('mv -f "$tmp" "$4"') && s.includes(path));
    for (let attempt = 0; attempt < 20 && !seen(); attempt++) {
      const ps = sampleProcesses();
      await t.upload(path, new Secret(content), { mode: 0o600 });
      samples.push(...(await ps.stop()));
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(readFileSync(path, 'utf8') === content, true);
      // No temp file is left next to the target.
      assert.deepEqual(readdirSync(area), ['app.env']);
    }
    // The sampling saw the upload's shell running, and never the canary.
    assert.ok(seen(), `${samples.length} samples, none during the uploads`);
    assert.equal(samples.filter((s) => s.includes(CANARY)).length, 0);
    const commands = events.flatMap((e) => (e.kind === 'exec' ? [e.result.command] : []));
    assert.ok(commands.length > 0);
    assert.equal(commands.filter((c) => c.includes(CANARY) || c.includes('PADDING')).length, 0);
  });

  test('an upload that fails says why, without the content', async () => {
    const path = join(area, 'missing-dir', 'app.env');
    await assert.rejects(t.upload(path, new Secret(`TOKEN=${CANARY}\n`), { mode: 0o600 }), (e: unknown) => {
      assert.ok(e instanceof TransportError);
      assert.equal(e.code, 'command-failed');
      assert.match(e.message, /^test: exit 1: sh -c 'tmp=\$\(mktemp /);
      assert.match(e.message, /mktemp: failed to create file via template/);
      assert.equal(e.message.includes(CANARY), false);
      return true;
    });
  });

  test('mode, owner and replacement of an existing file; binary content round-trips through download', async () => {
    const path = join(area, 'blob.bin');
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    await t.upload(path, 'old', { mode: 0o644 });
    await t.upload(path, bytes, { mode: 0o640, owner: 'nobody:nogroup' });
    const st = statSync(path);
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal((await t.exec({ kind: 'raw', text: `stat -c %U:%G ${path}` })).stdout, 'nobody:nogroup\n');
    assert.deepEqual(await t.download(path), bytes);
    await assert.rejects(
      t.download(join(area, 'nope')),
      (e: unknown) =>
        e instanceof TransportError &&
        e.code === 'command-failed' &&
        e.message.startsWith(`test: exit 1: cat -- ${join(area, 'nope')}\ncat: `),
    );
  });
});
