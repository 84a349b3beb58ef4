// Runs every *.test.ts under src/ and test/ with Node's own test runner (through tsx),
// so that one runner reports one summary, then prints `N passed, N failed`.
// Pass path fragments to run a subset: `node scripts/run-tests.mjs src/compose`.
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
// A file that says `ferry-test-lane: side` in its opening comment uses test bed hosts of its
// own making and only reads from the shared ones: it runs in a second runner beside the
// others, whose files keep taking their turns on the shared hosts. Each runner's output is
// passed on line by line; the side runner's whole when it ends, so that files do not mix.
const side = files.filter((f) => /ferry-test-lane: side/.test(readFileSync(f, 'utf8').slice(0, 4000)));
const lanes = [files.filter((f) => !side.includes(f)), side].filter((l) => l.length > 0);
const runner = (laneFiles, streamed) => {
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
      ...laneFiles,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  // The summary's `ℹ NAME N` lines, the last of each kept: the failing tests' details come
  // after them and can be long.
  const summary = new Map();
  const kept = [];
  let partial = '';
  child.stdout.on('data', (d) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (streamed) process.stdout.write(`${line}\n`);
      else kept.push(line);
      const m = /^ℹ (\w+) (\d+)$/.exec(line.replace(/\x1b\[[0-9;]*m/g, '').trimEnd());
      if (m) summary.set(m[1], Number(m[2]));
    }
  });
  const done = new Promise((resolve) =>
    child.on('close', (code) => {
      const rest = [...kept, ...(partial ? [partial] : [])];
      if (rest.length > 0) process.stdout.write(`${rest.join('\n')}\n`);
      resolve(code);
    }),
  );
  return { child, summary, done };
};
const runners = lanes.map((l, i) => runner(l, i === 0));
// In its own process group, so that a stop takes every test file's process with it.
const stopAll = () => {
  for (const { child } of runners)
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
const statuses = await Promise.all(runners.map((r) => r.done));
clearTimeout(timer);
if (outOfTime)
  console.error(
    `tests: stopped after ${TOTAL_MINUTES} minutes (FERRY_TEST_TOTAL_MINUTES); the files above the cut are the ones that finished`,
  );
const count = (name) => runners.reduce((n, r) => n + (r.summary.get(name) ?? 0), 0);
const pass = count('pass');
const unfinished = runners.filter((r) => !r.summary.has('pass')).length;
const fail = count('fail') + count('cancelled') + (outOfTime ? 1 : unfinished);
const skipped = count('skipped') + count('todo');
console.log(`${pass} passed, ${fail} failed, ${skipped} skipped`);
process.exit(statuses.every((x) => x === 0) && fail === 0 && pass > 0 ? 0 : 1);
