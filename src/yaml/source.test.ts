import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locate, OverrideTag, parseYamlText, ResetTag, toPlain } from './source.js';

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
