import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { scramMatches, scramVerifier } from './scram.js';

test('a verifier made here matches its password and no other', () => {
  const v = scramVerifier('s3cret-canary');
  assert.match(v, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
  assert.equal(scramMatches('s3cret-canary', v), true);
  assert.equal(scramMatches('s3cret-canarY', v), false);
  assert.notEqual(scramVerifier('s3cret-canary'), v, 'a new salt each time');
});

test("RFC 7677's example: the server key of 'pencil' with its salt signs the example's exchange as the RFC says", () => {
  const v = scramVerifier('pencil', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
  assert.equal(v.split('$')[1], '4096:W22ZaJ0SNY7soEsUEjb6gQ==');
  const serverKey = Buffer.from(v.split(':').at(-1)!, 'base64');
  const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
  const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
  assert.equal(
    createHmac('sha256', serverKey).update(authMessage).digest('base64'),
    '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  );
  assert.equal(scramMatches('pencil', v), true);
});

test('anything but a SCRAM verifier does not match', () => {
  for (const v of ['', 'md5a3556571e93b0d20722ba62be61e8c2d', 'SCRAM-SHA-256$4096:abc', 'pencil'])
    assert.equal(scramMatches('pencil', v), false, v);
});
