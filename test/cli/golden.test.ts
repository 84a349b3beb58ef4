/**
 * The bundled examples' inventory and check outputs, text and JSON, against golden
 * files in examples/golden/. `UPDATE_GOLDEN=1 npm test` rewrites them after a
 * deliberate change; review the diff before committing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ferry } from './run.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const golden = (name: string): string => `${root}examples/golden/${name}`;

function compare(name: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN) {
    mkdirSync(`${root}examples/golden`, { recursive: true });
    writeFileSync(golden(name), actual);
  }
  assert.equal(
    actual,
    readFileSync(golden(name), 'utf8'),
    `examples/golden/${name} differs; rerun with UPDATE_GOLDEN=1 after checking the change`,
  );
}

const cases: [string, string[], number][] = [
  ['inventory.txt', ['inventory', '-f', 'examples/ferry.yml'], 0],
  ['inventory.json', ['inventory', '-f', 'examples/ferry.yml', '--json'], 0],
  ['check.txt', ['check', '-f', 'examples/ferry.yml'], 0],
  ['check.json', ['check', '-f', 'examples/ferry.yml', '--json'], 0],
];

for (const [name, args, code] of cases) {
  test(`golden: ferry ${args.join(' ')}`, async () => {
    const r = await ferry(args, { cwd: root });
    assert.equal(r.err, '');
    assert.equal(r.code, code);
    compare(name, r.out);
  });
}

test("the examples never print their env files' secret values", async () => {
  const secrets = [
    'example-db-password-3f9a',
    'example-secret-key-81c2d7',
    'example-pg-password-c41d',
    'example-redis-password-9e07',
    'example-minio-password-52ab',
    'example-grafana-password-6d13',
    'flower-canary-4b1e',
  ];
  for (const [, args] of cases) {
    const r = await ferry(args, { cwd: root });
    for (const s of secrets)
      assert.ok(!r.out.includes(s) && !r.err.includes(s), `${s} printed by ferry ${args.join(' ')}`);
  }
});
