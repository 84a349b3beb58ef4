/**
 * Golden-file tests of pure renderers: each case's output against test/golden/KIND/FILE,
 * byte for byte. `UPDATE_GOLDEN=1` rewrites the files after a deliberate change; review
 * the diff before committing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface GoldenCase {
  file: string;
  render: () => string;
}

/** One test per case, against test/golden/`kind`/. */
export function goldenTests(kind: string, cases: readonly GoldenCase[]): void {
  const dir = fileURLToPath(new URL(`../../../test/golden/${kind}/`, import.meta.url));
  for (const c of cases) {
    test(`golden ${c.file}`, () => {
      const actual = c.render();
      if (process.env.UPDATE_GOLDEN) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(`${dir}${c.file}`, actual);
      }
      assert.equal(
        actual,
        readFileSync(`${dir}${c.file}`, 'utf8'),
        `test/golden/${kind}/${c.file} differs; rerun with UPDATE_GOLDEN=1 after checking the change`,
      );
    });
  }
}
