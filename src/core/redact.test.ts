import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from './redact.js';

test('redactor replaces every known value, longest first, also JSON-escaped', () => {
  const r = new Redactor();
  r.addAll(['canary-7d1f3c9e', 'canary-7d1f3c9e-long', 'a"b\\c', 'x']);
  assert.equal(r.redact('v=canary-7d1f3c9e-long and canary-7d1f3c9e'), 'v=[REDACTED] and [REDACTED]');
  assert.equal(r.redact(JSON.stringify({ v: 'a"b\\c' })), '{"v":"[REDACTED]"}');
  assert.equal(r.redact('x marks'), 'x marks');
});

test('a secret that looks like a word is masked as a whole token only, never inside other words', () => {
  const r = new Redactor();
  r.addAll(['postgres', '1234']);
  assert.equal(
    r.redact('image postgres:16, data /var/lib/postgresql/data, volume postgres_data, port 12345 and 1234'),
    'image [REDACTED]:16, data /var/lib/postgresql/data, volume postgres_data, port 12345 and [REDACTED]',
  );
});

test('any other secret is masked wherever it appears, even glued to a flag', () => {
  const r = new Redactor();
  r.add('S3cr3t!x');
  assert.equal(r.redact('mysql -pS3cr3t!x; url=a:S3cr3t!x@db'), 'mysql -p[REDACTED]; url=a:[REDACTED]@db');
});

test('each long line of a multi-line secret is masked on its own', () => {
  const r = new Redactor();
  r.add('-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----');
  assert.equal(r.redact('first line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'), 'first line: [REDACTED]');
});

test('secrets learned after a first redaction are masked from then on', () => {
  const r = new Redactor();
  r.add('first-secret');
  assert.equal(r.redact('first-secret second-secret'), '[REDACTED] second-secret');
  r.add('second-secret');
  assert.equal(r.redact('first-secret second-secret'), '[REDACTED] [REDACTED]');
});
