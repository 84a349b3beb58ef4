// Runs every *.test.ts under src/ and test/ with Node's own test runner (through tsx),
// so that one runner reports one summary, then prints `N passed, N failed`.
// Pass path fragments to run a subset: `node scripts/run-tests.mjs src/compose`.
import { readdirSync, readFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) continue;
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
const files = ['src', 'test']
  .flatMap((d) => { try { return find(d); } catch { return []; } })
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'ferry-tests-'));
const tap = join(dir, 'results.tap');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { stdio: 'inherit' },
);
let pass = 0, fail = 0, skipped = 0;
try {
  const text = readFileSync(tap, 'utf8');
  pass = Number(/^# pass (\d+)/m.exec(text)?.[1] ?? 0);
  fail = Number(/^# fail (\d+)/m.exec(text)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(text)?.[1] ?? 0);
  skipped = Number(/^# skipped (\d+)/m.exec(text)?.[1] ?? 0) + Number(/^# todo (\d+)/m.exec(text)?.[1] ?? 0);
} catch {
  fail = Math.max(fail, 1);
}
rmSync(dir, { recursive: true, force: true });
console.log(`${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(r.status === 0 && fail === 0 && pass > 0 ? 0 : 1);
