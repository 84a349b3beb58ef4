import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostKeyCheck, type HostKeyCheck } from './host-key.js';

const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIODOGNLG/A+MQJvIbkdIaeJ80klgXh152jtEUFjbrgYV';
const KEY_C = 'AAAAC3NzaC1lZDI1NTE5AAAAIK9e0X6xL3swhaoFw1js4w/ZjCMyg4GlWiVgjeA34Dvr';
const a = Buffer.from(KEY_A, 'base64');
const c = Buffer.from(KEY_C, 'base64');

function withDir(run: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-hostkey-'));
    try {
      await run(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const verify = (check: HostKeyCheck, key: Buffer) => new Promise<boolean>((resolve) => check.verify(key, resolve));

test(
  'an unknown key is refused with its fingerprint and how to trust it',
  withDir(async (dir) => {
    const file = join(dir, 'known_hosts');
    const check = await hostKeyCheck('web1', '127.0.0.1', 2222, { knownHostsFiles: [file], trustNewHostKey: false });
    assert.equal(await verify(check, a), false);
    assert.equal(check.refusal?.code, 'host-key-unknown');
    assert.equal(
      check.refusal?.message,
      'web1: the host key of [127.0.0.1]:2222 is not known (ssh-ed25519 key SHA256:2Q4nlgmWOH3j5LBh1j41ju31pwL4dFMggNUtlEENJC0)',
    );
    assert.match(check.refusal?.hint ?? '', /--trust-new-host-key/);
    assert.match(check.refusal?.hint ?? '', new RegExp(`ssh-keyscan -p 2222 127\\.0\\.0\\.1 >> ${file}`));
  }),
);

test(
  'trusting a new key appends it to the first file, which is created with mode 600',
  withDir(async (dir) => {
    const file = join(dir, 'ssh', 'known_hosts');
    const check = await hostKeyCheck('web1', '127.0.0.1', 2222, {
      knownHostsFiles: [file, join(dir, 'other')],
      trustNewHostKey: true,
    });
    assert.equal(await verify(check, a), true);
    assert.equal(readFileSync(file, 'utf8'), `[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = await hostKeyCheck('web1', '127.0.0.1', 2222, { knownHostsFiles: [file], trustNewHostKey: false });
    assert.equal(await verify(again, a), true);
    assert.equal(again.algorithms[0], 'ssh-ed25519');
  }),
);

test(
  'a changed key is refused even when trusting new keys; the file is left alone',
  withDir(async (dir) => {
    const file = join(dir, 'known_hosts');
    writeFileSync(file, `# mine\n[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}`);
    const check = await hostKeyCheck('web1', '127.0.0.1', 2222, { knownHostsFiles: [file], trustNewHostKey: true });
    assert.equal(await verify(check, c), false);
    assert.equal(check.refusal?.code, 'host-key-changed');
    assert.equal(
      check.refusal?.message,
      `web1: the host key of [127.0.0.1]:2222 changed: it offered ssh-ed25519 key SHA256:1acZDJ/amTF1EcGQzEyicfUicLDpCy+iGd5OSN7PScU, but ${file}:2 records another key`,
    );
    assert.match(check.refusal?.hint ?? '', /ssh-keygen -R '\[127\.0\.0\.1\]:2222'/);
    assert.equal(readFileSync(file, 'utf8'), `# mine\n[127.0.0.1]:2222 ssh-ed25519 ${KEY_A}`);
  }),
);

test(
  'a key known in a later file is accepted; a revoked key is refused',
  withDir(async (dir) => {
    const first = join(dir, 'a');
    const second = join(dir, 'b');
    writeFileSync(second, `web1.example.com ssh-ed25519 ${KEY_A}\n@revoked * ssh-ed25519 ${KEY_C}\n`);
    const check = await hostKeyCheck('web1', 'web1.example.com', 22, {
      knownHostsFiles: [first, second],
      trustNewHostKey: true,
    });
    assert.equal(await verify(check, a), true);
    assert.equal(await verify(check, c), false);
    assert.equal(check.refusal?.code, 'host-key-changed');
    assert.equal(
      check.refusal?.message,
      `web1: web1.example.com offered a key revoked at ${second}:2 (ssh-ed25519 key SHA256:1acZDJ/amTF1EcGQzEyicfUicLDpCy+iGd5OSN7PScU)`,
    );
  }),
);
