// Runs every *.test.ts under src/ and test/ with Node's own test runner (through tsx),
// so that one runner reports one summary, then prints `N passed, N failed`.
// Pass path fragments to run a subset: `node scripts/run-tests.mjs src/compose`.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

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
  .flatMap((d) => {
    try {
      return find(d);
    } catch {
      return [];
    }
  })
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// Bounds, so that a stuck test fails instead of outliving CI: each file is cancelled after
// FILE_MINUTES, and a file whose tests are done exits even if something it started (a
// probe, an SSH connection) still holds its event loop; the whole run stops after
// TOTAL_MINUTES and counts as failed. The counts come from the spec reporter's summary,
// passed through as it is printed (a reporter writing to a file loses its summary when a
// forced exit cuts it short).
const FILE_MINUTES = Number(process.env.FERRY_TEST_FILE_MINUTES ?? 25);
// Files run side by side, as many as Node's default (one less than the cores);
// FERRY_TEST_CONCURRENCY sets it, e.g. to see on a small machine what a big one runs.
const CONCURRENCY = process.env.FERRY_TEST_CONCURRENCY;
const TOTAL_MINUTES = Number(process.env.FERRY_TEST_TOTAL_MINUTES ?? 70);
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-force-exit',
    `--test-timeout=${FILE_MINUTES * 60_000}`,
    ...(CONCURRENCY ? [`--test-concurrency=${CONCURRENCY}`] : []),
    '--test-reporter=spec',
    ...files,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
);
// The summary's `ℹ NAME N` lines, the last of each kept: the failing tests' details come after
// them and can be long.
const summary = new Map();
let partial = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  const lines = (partial + d.toString()).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const m = /^ℹ (\w+) (\d+)$/.exec(line.replace(/\x1b\[[0-9;]*m/g, '').trimEnd());
    if (m) summary.set(m[1], Number(m[2]));
  }
});
// In its own process group, so that a stop takes every test file's process with it.
const stopAll = () => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
};
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    stopAll();
    process.exit(130);
  });
let outOfTime = false;
const timer = setTimeout(() => {
  outOfTime = true;
  stopAll();
}, TOTAL_MINUTES * 60_000);
const status = await new Promise((resolve) => child.on('close', (code) => resolve(code)));
clearTimeout(timer);
if (outOfTime)
  console.error(
    `tests: stopped after ${TOTAL_MINUTES} minutes (FERRY_TEST_TOTAL_MINUTES); the files above the cut are the ones that finished`,
  );
const count = (name) => summary.get(name) ?? 0;
const pass = count('pass');
const fail = count('fail') + count('cancelled') + (outOfTime || !summary.has('pass') ? 1 : 0);
const skipped = count('skipped') + count('todo');
console.log(`${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(status === 0 && fail === 0 && pass > 0 ? 0 : 1);
