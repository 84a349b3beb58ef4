/**
 * Ferry as a process, with its real standard output and error: a reader that goes away,
 * a full disk, and Node's own reading of `--env-file` (Node 20 reads it anywhere on its
 * command line and exits before Ferry runs, unless `--` ends Node's options first, as
 * the shebang of bin/ferry.js does).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const entry = join(root, 'test/cli/ferry-process.ts');

/** Node's options as bin/ferry.js's shebang gives them (`#!/usr/bin/env -S node --` gives `--`). */
function shebangNodeArgs(): string[] {
  const first = readFileSync(join(root, 'bin/ferry.js'), 'utf8').split('\n')[0]!;
  const words = first.replace(/^#!\s*/, '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}

function project(services = 200): string {
  const d = mkdtempSync(join(tmpdir(), 'ferry-process-'));
  let text = 'services:\n';
  for (let i = 0; i < services; i++) text += `  s${i}:\n    image: nginx:1.27\n`;
  writeFileSync(join(d, 'compose.yml'), text);
  return d;
}

/** Runs `ferry ARGS` through sh (for its redirections), as bin/ferry.js starts it. */
function sh(cwd: string, args: string, redirect: string) {
  const node = [process.execPath, '--import', import.meta.resolve('tsx'), ...shebangNodeArgs(), entry]
    .map((w) => `'${w}'`)
    .join(' ');
  return spawnSync('sh', ['-c', `${node} ${args} ${redirect}; echo "status $?" >&2`], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
}

test('output piped into a reader that stops (head) ends quietly: no stack trace, the command its status', () => {
  const r = sh(project(), 'check --compose compose.yml', '| head -c 10 >/dev/null');
  assert.doesNotMatch(r.stderr, /EPIPE|at .*\(|node:events/);
  assert.match(r.stderr, /status 0\n$/);
});

test('output to a full device is an output-failed error with a hint, exit 1', () => {
  const r = sh(project(), 'check --compose compose.yml', '>/dev/full');
  assert.match(
    r.stderr,
    /^error output-failed: cannot write to standard output: no space left on the device\n  at standard output\n  hint: /,
  );
  assert.match(r.stderr, /status 1\n$/);
});

test("--env-file reaches Ferry, not Node: a missing file is Ferry's missing-file with its place", () => {
  const r = sh(project(1), 'check --compose compose.yml --env-file missing.env', '');
  assert.doesNotMatch(r.stderr, /^node:/m);
  assert.match(r.stdout, /ERROR missing-file .*env file missing\.env: not found\n  at missing\.env\n  hint: /);
  assert.match(r.stderr, /status 2\n$/);
});
