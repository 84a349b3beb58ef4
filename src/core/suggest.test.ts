import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editDistance, suggest } from './suggest.js';

test('editDistance counts insertions, deletions, substitutions and swaps', () => {
  assert.equal(editDistance('server', 'server'), 0);
  assert.equal(editDistance('sever', 'server'), 1);
  assert.equal(editDistance('servers', 'server'), 1);
  assert.equal(editDistance('sercer', 'server'), 1);
  assert.equal(editDistance('hots', 'host'), 1);
  assert.equal(editDistance('proflies', 'profiles'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('abc', ''), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('ca', 'abc'), 3);
});

test('suggest picks the closest candidate within reach', () => {
  const stackKeys = ['server', 'compose', 'env_file', 'profiles', 'project', 'connections'];
  assert.equal(suggest('sever', stackKeys), 'server');
  assert.equal(suggest('compse', stackKeys), 'compose');
  assert.equal(suggest('envfile', stackKeys), 'env_file');
  assert.equal(suggest('profile', stackKeys), 'profiles');
  assert.equal(suggest('conections', stackKeys), 'connections');
  assert.equal(suggest('colour', stackKeys), undefined);
  assert.equal(suggest('env', stackKeys), undefined);
});

test('suggest ignores case and prefers the earlier candidate on a tie', () => {
  assert.equal(suggest('Server', ['server']), 'server');
  assert.equal(suggest('ab', ['ac', 'ad']), 'ac');
  assert.equal(suggest('app1', ['app2', 'app']), 'app2');
});

test('suggest allows one edit per three characters', () => {
  assert.equal(suggest('ap', ['app']), 'app');
  assert.equal(suggest('db', ['web']), undefined);
  assert.equal(suggest('abcde', ['abxye']), undefined);
  assert.equal(suggest('abcdef', ['abxyef']), 'abxyef');
});

test('suggest with no candidates', () => {
  assert.equal(suggest('server', []), undefined);
});
