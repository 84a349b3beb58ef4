import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSize, parseSize, SIZE_PATTERN } from './size.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

test('parseSize: every unit spelling is a power of 1024', () => {
  const cases: [string, number][] = [
    ['512M', 512 * MiB],
    ['512MiB', 512 * MiB],
    ['512MB', 512 * MiB],
    ['512m', 512 * MiB],
    ['512mb', 512 * MiB],
    ['16GiB', 16 * GiB],
    ['2g', 2 * GiB],
    ['1.5GB', 1.5 * GiB],
    ['160G', 160 * GiB],
    ['1T', TiB],
    ['2TiB', 2 * TiB],
    ['1P', 1024 * TiB],
    ['64k', 64 * KiB],
    ['64KiB', 64 * KiB],
    ['64KB', 64 * KiB],
    ['.5G', 512 * MiB],
    ['512 MiB', 512 * MiB],
    ['1.5 GiB', 1.5 * GiB],
    ['1024', 1024],
    ['1024B', 1024],
    ['1024b', 1024],
    ['0', 0],
    ['  16GiB  ', 16 * GiB],
  ];
  for (const [input, bytes] of cases) assert.equal(parseSize(input), bytes, input);
});

test('parseSize: fractions of a unit round to whole bytes', () => {
  assert.equal(parseSize('0.1K'), 102);
  assert.equal(parseSize('1.0000001K'), 1024);
});

test('parseSize: numbers are bytes', () => {
  assert.equal(parseSize(17179869184), 16 * GiB);
  assert.equal(parseSize(0), 0);
  assert.equal(parseSize(1.5), undefined);
  assert.equal(parseSize(-1), undefined);
  assert.equal(parseSize(Number.NaN), undefined);
  assert.equal(parseSize(Number.POSITIVE_INFINITY), undefined);
});

test('parseSize: anything else is not a size', () => {
  for (const input of [
    '',
    ' ',
    'lots',
    '16 GiBs',
    '16GiBB',
    '16X',
    '1.5',
    '1.5B',
    'G',
    '-1G',
    '1,5G',
    '16  GiB',
    '1e3',
    '0x10',
    '16iB',
    '1..5G',
    '99999999999P',
  ]) {
    assert.equal(parseSize(input), undefined, JSON.stringify(input));
  }
});

test('SIZE_PATTERN matches exactly what parseSize reads (trimmed)', () => {
  const re = new RegExp(SIZE_PATTERN);
  for (const s of ['512M', '16GiB', '1.5GB', '1024', '512 MiB', '.5g']) assert.ok(re.test(s), s);
  for (const s of ['1.5', 'lots', '16 GiBs', '']) assert.ok(!re.test(s), s);
});

test('formatSize: the largest unit, three significant digits, no trailing zeros', () => {
  const cases: [number, string][] = [
    [0, '0 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [512 * MiB, '512 MiB'],
    [1.5 * GiB, '1.5 GiB'],
    [1.25 * GiB, '1.25 GiB'],
    [15.63 * GiB, '15.6 GiB'],
    [160 * GiB, '160 GiB'],
    [1023.9 * MiB, '1 GiB'],
    [2 * TiB, '2 TiB'],
    [4096 * TiB, '4 PiB'],
    [-1.5 * GiB, '-1.5 GiB'],
  ];
  for (const [bytes, text] of cases) assert.equal(formatSize(bytes), text, String(bytes));
});

test('formatSize output reads back with parseSize', () => {
  for (const bytes of [512 * MiB, 1.5 * GiB, 160 * GiB, 2 * TiB]) assert.equal(parseSize(formatSize(bytes)), bytes);
});
