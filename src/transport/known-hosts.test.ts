import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkHostKey,
  fingerprint,
  hostPattern,
  keyTypeOf,
  knownHostsLine,
  knownKeyTypes,
  parseKnownHosts,
} from './known-hosts.js';

// Three keys made with `ssh-keygen -t ...`; their fingerprints as `ssh-keygen -l -E sha256` prints them.
const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIODOGNLG/A+MQJvIbkdIaeJ80klgXh152jtEUFjbrgYV';
const KEY_B =
  'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBO4OX2APbn/5umqnluwp2Mv6D39U1HuAmJ7QQzal3hSYcpbxiD4knOc3a2RjLTkNVtwhUFNQRvbszDpbG+hCN88=';
const KEY_C = 'AAAAC3NzaC1lZDI1NTE5AAAAIK9e0X6xL3swhaoFw1js4w/ZjCMyg4GlWiVgjeA34Dvr';
const a = Buffer.from(KEY_A, 'base64');
const b = Buffer.from(KEY_B, 'base64');
const c = Buffer.from(KEY_C, 'base64');

const PLAIN = [
  `web1.example.com,203.0.113.20 ssh-ed25519 ${KEY_A}`,
  `[db.example.com]:2222 ecdsa-sha2-nistp256 ${KEY_B}`,
  `[10.0.0.7]:2200 ssh-ed25519 ${KEY_C}`,
].join('\n');

// The same file after `ssh-keygen -H -f known_hosts` (OpenSSH 9.2): the host list of
// line 1 became two hashed lines.
const HASHED = [
  `|1|PELfH2K1Ul0gMKeH3Q+vTQ95dz0=|o3F0YqbZEP+Xi+SmPEjmrVrcVko= ssh-ed25519 ${KEY_A}`,
  `|1|ns9aAcclMWaNFHvwZsblPe/5zI4=|zXAwUNSVfXvY2sH90J6gIQS36XU= ssh-ed25519 ${KEY_A}`,
  `|1|a0jXI+WKBxcRTRXXnahPYbRijOA=|3VvS9KP33oiAXaL09OMoTt+VRww= ecdsa-sha2-nistp256 ${KEY_B}`,
  `|1|wiTXK0B7cJtIGwfk7JwEqFkM5tY=|MYbaEeTUWXUukRLPqxJy0Sb+1Co= ssh-ed25519 ${KEY_C}`,
].join('\n');

test('fingerprints are printed as ssh-keygen -l -E sha256 prints them', () => {
  assert.equal(fingerprint(a), 'SHA256:2Q4nlgmWOH3j5LBh1j41ju31pwL4dFMggNUtlEENJC0');
  assert.equal(fingerprint(b), 'SHA256:Hs2c+5kquN4WxXgPfqFPM17kBm8cOK0hrqi2sUioX20');
  assert.equal(fingerprint(c), 'SHA256:1acZDJ/amTF1EcGQzEyicfUicLDpCy+iGd5OSN7PScU');
});

test('the key type is read from inside the key', () => {
  assert.equal(keyTypeOf(a), 'ssh-ed25519');
  assert.equal(keyTypeOf(b), 'ecdsa-sha2-nistp256');
  assert.equal(keyTypeOf(Buffer.alloc(2)), '');
});

test('hosts on port 22 are recorded bare, other ports as [host]:port', () => {
  assert.equal(hostPattern('web1', 22), 'web1');
  assert.equal(hostPattern('db.example.com', 2222), '[db.example.com]:2222');
  assert.equal(knownHostsLine('10.0.0.7', 2200, c), `[10.0.0.7]:2200 ssh-ed25519 ${KEY_C}`);
});

for (const [label, text] of [
  ['plain', PLAIN],
  ['hashed by ssh-keygen -H', HASHED],
] as const) {
  test(`${label} entries: known, unknown and changed keys`, () => {
    const entries = parseKnownHosts(text);
    assert.equal(entries.length, label === 'plain' ? 3 : 4);
    assert.deepEqual(checkHostKey(entries, 'web1.example.com', 22, a), { kind: 'known', line: 1 });
    assert.deepEqual(checkHostKey(entries, '203.0.113.20', 22, a), { kind: 'known', line: label === 'plain' ? 1 : 2 });
    assert.deepEqual(checkHostKey(entries, 'db.example.com', 2222, b), {
      kind: 'known',
      line: label === 'plain' ? 2 : 3,
    });
    // The port is part of the name: db on 22 and 10.0.0.7 on 22 are not known.
    assert.deepEqual(checkHostKey(entries, 'db.example.com', 22, b), { kind: 'unknown' });
    assert.deepEqual(checkHostKey(entries, '10.0.0.7', 22, c), { kind: 'unknown' });
    // Another ed25519 key for web1: changed. An ecdsa key for 10.0.0.7 (known by ed25519 only): unknown.
    assert.deepEqual(checkHostKey(entries, 'web1.example.com', 22, c), { kind: 'changed', line: 1 });
    assert.deepEqual(checkHostKey(entries, '10.0.0.7', 2200, b), { kind: 'unknown' });
    assert.deepEqual(knownKeyTypes(entries, 'db.example.com', 2222), ['ecdsa-sha2-nistp256']);
    assert.deepEqual(knownKeyTypes(entries, 'nowhere', 22), []);
  });
}

test('@revoked keys are refused, @cert-authority lines are ignored, junk lines are skipped', () => {
  const text = [
    '# a comment',
    '',
    `@cert-authority *.example.com ssh-ed25519 ${KEY_B}`,
    `@revoked web1.example.com ssh-ed25519 ${KEY_C}`,
    `web1.example.com ssh-ed25519 ${KEY_C}`,
    'not-enough-fields ssh-ed25519',
    `|2|bad|hash ssh-ed25519 ${KEY_A}`,
    `@unknown-marker web1 ssh-ed25519 ${KEY_A}`,
    `app.example.com,!db.example.com ssh-ed25519 ${KEY_A}`,
  ].join('\n');
  const entries = parseKnownHosts(text);
  assert.deepEqual(
    entries.map((e) => [e.line, e.marker ?? '']),
    [
      [3, 'cert-authority'],
      [4, 'revoked'],
      [5, ''],
      [9, ''],
    ],
  );
  assert.deepEqual(checkHostKey(entries, 'web1.example.com', 22, c), { kind: 'revoked', line: 4 });
  // The cert-authority key is not a host key for anyone.
  assert.deepEqual(checkHostKey(entries, 'ca.example.com', 22, b), { kind: 'unknown' });
  assert.deepEqual(checkHostKey(entries, 'app.example.com', 22, a), { kind: 'known', line: 9 });
});
