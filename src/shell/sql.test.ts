import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conninfoValue, sqlIdent, sqlLiteral, sqlQualified } from './sql.js';

test('sqlLiteral doubles quotes, and writes an escape string when there is a backslash', () => {
  assert.equal(sqlLiteral('plain'), "'plain'");
  assert.equal(sqlLiteral("it's"), "'it''s'");
  assert.equal(sqlLiteral("''"), "''''''");
  assert.equal(sqlLiteral('a\\b'), "E'a\\\\b'");
  assert.equal(sqlLiteral("x\\'; DROP TABLE t; --"), "E'x\\\\''; DROP TABLE t; --'");
  assert.equal(sqlLiteral('$$ body $$'), "'$$ body $$'");
  assert.equal(sqlLiteral('line1\nline2'), "'line1\nline2'");
});

test('sqlIdent always quotes and doubles double quotes', () => {
  assert.equal(sqlIdent('users'), '"users"');
  assert.equal(sqlIdent('My "table"'), '"My ""table"""');
  assert.equal(sqlIdent("o'brien\\$$"), '"o\'brien\\$$"');
  assert.equal(sqlIdent('a\nb'), '"a\nb"');
  assert.equal(sqlQualified('public', 'x"y'), '"public"."x""y"');
});

test('conninfoValue escapes backslashes and quotes for libpq', () => {
  assert.equal(conninfoValue("p'w\\x"), "'p\\'w\\\\x'");
  assert.equal(conninfoValue('$$'), "'$$'");
});

test('a NUL byte is refused with a code', () => {
  for (const f of [sqlLiteral, sqlIdent, conninfoValue]) {
    assert.throws(
      () => f('a\0b'),
      (e: unknown) => (e as { code?: string }).code === 'sql-unquotable',
    );
  }
});
