import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DEPTH, toPlain } from './plain.js';
import { parseYamlText } from './source.js';

function plain(text: string) {
  const r = parseYamlText(text, '/x/f.yml', 'f.yml');
  assert.deepEqual(r.findings, []);
  return toPlain(r.file!);
}

const messages = (text: string): string[] =>
  plain(text).findings.map((f) => `${f.code} ${f.where.line}:${f.where.column} ${f.message} | ${f.hint}`);

test('a misspelt anchor in a merge key is refused with a suggestion, not dropped with its keys', () => {
  const text =
    'x-hetzner: &hetzner\n  user: deploy\n  port: 2222\nservers:\n  app:\n    <<: *hetzer\n    host: 203.0.113.4\n';
  assert.deepEqual(messages(text), [
    'yaml-syntax 6:9 alias *hetzer names no anchor; did you mean *hetzner? | Write *hetzner, or define &hetzer on the value to repeat.',
  ]);
});

test('every alias that names no anchor is refused, wherever it is; anchors in the file are listed', () => {
  const r = messages('a: &one 1\nb: [*nope]\nc: { d: *zzz }\n');
  assert.equal(r.length, 2);
  assert.match(r[0]!, /^yaml-syntax 2:5 alias \*nope names no anchor \| .*Anchors in this file: one\.$/);
  assert.match(r[1]!, /^yaml-syntax 3:9 alias \*zzz names no anchor/);
});

test('an alias before its anchor, and an alias inside its own anchored value, are refused', () => {
  assert.match(messages('a: *later\nb: &later 1\n')[0]!, /alias \*later is used before its anchor &later \(line 2\)/);
  assert.match(messages('a: &self [1, *self]\n')[0]!, /alias \*self is inside the value anchored &self/);
});

test('a merge key takes mappings only: a scalar or a list of scalars is refused as Compose refuses it', () => {
  assert.match(
    messages('a:\n  <<: 5\n  b: 1\n')[0]!,
    /^yaml-syntax 2:7 a merge key \(<<\) takes a mapping or a list of mappings, not a number/,
  );
  assert.match(messages('x: &x [1]\na:\n  <<: [*x]\n')[0]!, /not a list of lists/);
  assert.deepEqual(plain('x: &x { k: 1 }\na:\n  <<: [*x]\n  b: 2\n').data, { x: { k: 1 }, a: { b: 2, k: 1 } });
});

test(`aliases that nest values past ${MAX_DEPTH} levels stop the conversion, with a finding instead of a stack overflow`, () => {
  let text = 'a0: &a0 [x]\n';
  for (let i = 1; i <= MAX_DEPTH + 5; i++) text += `a${i}: &a${i} [*a${i - 1}]\n`;
  const r = plain(text);
  assert.equal(r.findings.length, 1);
  assert.match(r.findings[0]!.message, new RegExp(`values nested more than ${MAX_DEPTH} levels deep`));
});
