import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_DEPTH, OverrideTag, ResetTag, toPlain as plainOf } from './plain.js';
import { locate, parseYamlText, type SourceFile } from './source.js';

function toPlain(f: SourceFile): Record<string, unknown> {
  const r = plainOf(f);
  assert.deepEqual(r.findings, []);
  return r.data;
}

function parse(text: string) {
  const r = parseYamlText(text, '/x/c.yml', 'c.yml');
  assert.deepEqual(r.findings, []);
  return r.file!;
}

test('merge keys: explicit keys win, earlier sources win over later', () => {
  const f = parse(
    'x-a: &a { image: a, restart: always }\nx-b: &b { image: b, user: b }\nservices:\n  s:\n    <<: [*a, *b]\n    restart: "no"\n',
  );
  assert.deepEqual(toPlain(f).services, { s: { restart: 'no', image: 'a', user: 'b' } });
});

test('a redefined anchor: each alias takes the definition before it', () => {
  const f = parse('a: &v 1\nb: *v\nc: &v 2\nd: *v\n');
  assert.deepEqual(toPlain(f), { a: 1, b: 1, c: 2, d: 2 });
});

test('!reset and !override become markers', () => {
  const f = parse('services:\n  s:\n    ports: !reset []\n    environment: !override { A: "1" }\n');
  const s = (toPlain(f).services as Record<string, Record<string, unknown>>).s!;
  assert.ok(s.ports instanceof ResetTag);
  assert.ok(s.environment instanceof OverrideTag);
  assert.deepEqual((s.environment as OverrideTag).value, { A: '1' });
});

test('locate: exact places, through merge keys, list-form keys, nearest ancestor otherwise', () => {
  const f = parse(
    'x-a: &a\n  image: a\nservices:\n  s:\n    <<: *a\n    environment:\n      - A=1\n      - B\n    ports:\n      - "80:80"\n',
  );
  assert.deepEqual(locate(f, ['services', 's', 'image']), {
    file: 'c.yml',
    line: 2,
    column: 3,
    path: 'services/s/image',
    exact: true,
  });
  assert.deepEqual(locate(f, ['services', 's', 'environment', 'B']), {
    file: 'c.yml',
    line: 8,
    column: 9,
    path: 'services/s/environment/B',
    exact: true,
  });
  assert.deepEqual(locate(f, ['services', 's', 'ports', 0]), {
    file: 'c.yml',
    line: 10,
    column: 9,
    path: 'services/s/ports/0',
    exact: true,
  });
  assert.deepEqual(locate(f, ['services', 's', 'volumes', 0]), {
    file: 'c.yml',
    line: 4,
    column: 3,
    path: 'services/s/volumes/0',
    exact: false,
  });
});

test('problems: duplicate keys, syntax, a non-mapping top level, empty files, a byte order mark', () => {
  assert.equal(parseYamlText('a: 1\na: 2\n', '/x', 'd.yml').findings[0]?.where.line, 2);
  assert.equal(parseYamlText('a: [1\n', '/x', 'd.yml').findings[0]?.code, 'yaml-syntax');
  assert.match(parseYamlText('- a\n- b\n', '/x', 'd.yml').findings[0]!.message, /must hold a mapping/);
  assert.match(parseYamlText('\n# only a comment\n   \n', '/x', 'd.yml').findings[0]!.message, /is empty/);
  assert.deepEqual(parseYamlText('\ufeffa: 1\n', '/x', 'd.yml').findings, []);
});

// Exponential backtracking here once hung on 14 comment lines; the timeout only guards against a hang.
test('a file opening with thousands of comment lines parses', { timeout: 60_000 }, () => {
  const text = `${'# comment\n'.repeat(5000)}services: {}\n`;
  assert.deepEqual(parseYamlText(text, '/x', 'c.yml').findings, []);
});

test('text nested past the depth limit is refused before the parser recurses into it', () => {
  const flow = parseYamlText(`a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, '/x', 'deep.yml').findings;
  assert.equal(flow.length, 1);
  assert.match(flow[0]!.message, /^deep\.yml nests values more than \d+ levels deep$/);
  // `a: ` is one block level; the bracket that makes it one more than the limit is the limit's own.
  assert.deepEqual([flow[0]!.where.line, flow[0]!.where.column], [1, 'a: '.length + MAX_DEPTH]);
  const block = 'a:\n' + Array.from({ length: 300 }, (_, i) => `${' '.repeat(i + 1)}k:\n`).join('');
  assert.match(parseYamlText(block, '/x', 'deep.yml').findings[0]!.message, /nests values more than/);
  // Brackets inside plain text and quotes are not nesting.
  const text = `a: "${'['.repeat(300)}"\nb: echo ${'['.repeat(300)}\nc: [[1], {d: "]]]"}]\n`;
  assert.deepEqual(parseYamlText(text, '/x', 'ok.yml').findings, []);
});

test('two documents in one file, and a fleet file that is not a mapping, are told in their own words', () => {
  const two = parseYamlText('a: 1\n---\nb: 2\n', '/x', 'c.yml').findings[0]!;
  assert.match(two.message, /c\.yml holds more than one YAML document/);
  assert.doesNotMatch(`${two.message} ${two.hint}`, /parseAllDocuments/);
  assert.equal(two.where.line, 2);
  const fleet = parseYamlText('- a\n', '/x', 'ferry.yml', 'fleet').findings[0]!;
  assert.match(fleet.hint, /servers:/);
  assert.doesNotMatch(fleet.hint, /services/);
});

test('duplicate keys are found in one pass over large mappings, at the second key', () => {
  const many = Array.from({ length: 20000 }, (_, i) => `k${i}: ${i}`).join('\n');
  const f = parseYamlText(`${many}\nk7: again\n`, '/x', 'big.yml').findings;
  assert.equal(f.length, 1);
  assert.equal(f[0]!.message, 'duplicate key "k7" in a mapping');
  assert.equal(f[0]!.where.line, 20001);
});
