/**
 * Generative: random projects with canary secrets in every kind of place a secret can be,
 * broken in the ways users break them, through every command that works offline (or
 * fails fast: the only server is 127.0.0.1 port 1), with and without --json. Whatever
 * happens: exit 0, 1 or 2; no stack trace; no canary (nor the start of one) in any
 * output; with --json, stdout is one JSON document; every error has a place and a hint.
 * A fixed seed and a bounded number of cases keep it reproducible in CI;
 * FERRY_FUZZ_SEED and FERRY_FUZZ_RUNS explore further.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { ferry, type Transcript } from './run.js';
import { caseArbitrary, filesOf, type Case } from './hostile-cases.js';

const SEED = Number(process.env.FERRY_FUZZ_SEED ?? 20261202);
const RUNS = Number(process.env.FERRY_FUZZ_RUNS ?? 100);

/** Every command, as run on a case: with a fleet file, or with `--compose` where it takes one. */
function commands(c: Case): string[][] {
  const input = c.mode === 'fleet' ? ['-f', 'ferry.yml'] : ['--compose', 'compose.yml', '--env-file', '.env'];
  const fleet = ['-f', 'ferry.yml', '--connect-timeout', '1'];
  const all = [['check', ...input], ['inventory', ...input], ['runs'], ['runs', 'show', 'no-such-run']];
  if (c.mode === 'fleet')
    all.push(
      ['plan', ...fleet],
      ['plan', ...fleet, '--out', 'missing-dir/plan.json'],
      ['apply', ...fleet, '--yes'],
      ['rollback', 'web', ...fleet, '--yes'],
      ['migrate', 'web', '--to', 'app', ...fleet, '--yes'],
      ['retire', 'web', '--from', 'app', ...fleet, '--yes'],
      ['lock', 'status', 'web', ...fleet],
    );
  return all.flatMap((args) => [args, [...args, '--json']]);
}

interface Where {
  file?: string;
  line?: number;
  path?: string;
  host?: string;
}
interface Doc {
  error?: { code: string; message: string; place: string; hint: string };
  findings?: { severity: string; hint: string; where: Where }[];
}

function inspect(r: Transcript, args: string[], canary: string): void {
  const what = `ferry ${args.join(' ')} (exit ${r.code})\n--- stdout\n${r.out}\n--- stderr\n${r.err}`;
  const all = r.out + r.err;
  assert.ok([0, 1, 2].includes(r.code), `exit status: ${what}`);
  assert.doesNotMatch(all, /^\s+at (?:.+ \(.+:\d+:\d+\)|(?:file|node):.+:\d+:\d+)$/m, `a stack trace: ${what}`);
  assert.doesNotMatch(all, /node_modules|TypeError|ReferenceError|RangeError|call stack|error internal/, what);
  // The canary, or its first eight random characters (a message that cut a value).
  assert.ok(!all.includes(canary.slice(0, 14)), `a canary: ${what}`);
  if (args.includes('--json')) {
    let doc: Doc;
    try {
      doc = JSON.parse(r.out) as Doc;
    } catch {
      assert.fail(`stdout is not one JSON document: ${what}`);
    }
    if (doc.error)
      for (const k of ['code', 'message', 'place', 'hint'] as const) assert.ok(doc.error[k], `error.${k}: ${what}`);
    for (const f of doc.findings ?? [])
      if (f.severity === 'error') assert.ok(f.hint && Object.keys(f.where).length > 0, `a place and a hint: ${what}`);
    if (r.code === 2) assert.ok(doc.error, `an error document for exit 2: ${what}`);
    return;
  }
  // Text: every error block and every error line has its place and its hint.
  for (const block of all.split(/\n(?=ERROR |WARNING |NOTE |INFO |error |warning )/)) {
    if (/^ERROR /.test(block)) assert.match(block, /\n {2}at .+\n {2}hint: ./, `a place and a hint: ${what}`);
    if (/^error [a-z-]+: /.test(block)) assert.match(block, /\n {2}at .+\n {2}hint: ./, `a place and a hint: ${what}`);
  }
}

test(
  'hostile and broken input: no secret, no trace, JSON when asked, a place and a hint',
  { timeout: 600_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const dir = mkdtempSync(join(tmpdir(), 'ferry-hostile-'));
        try {
          for (const [name, content] of Object.entries(filesOf(c))) writeFileSync(join(dir, name), content);
          mkdirSync(join(dir, 'home'));
          const env = { FERRY_STATE_DIR: join(dir, 'state'), HOME: join(dir, 'home') };
          for (const args of commands(c)) inspect(await ferry(args, { cwd: dir, env }), args, `CANARY${c.hex}`);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
  },
);
