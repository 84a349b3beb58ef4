/**
 * With `--json`, standard output is one JSON document whatever happens: on an error,
 * `{"error": {"code", "message", "place", "hint"}}` (with the findings when the input
 * could not be read), on every command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ferry, type Transcript } from './run.js';

interface ErrorDoc {
  error: { code: string; message: string; place: string; hint: string };
  findings?: { code: string }[];
}

function errorDoc(r: Transcript, args: string[]): ErrorDoc {
  let doc: ErrorDoc;
  try {
    doc = JSON.parse(r.out) as ErrorDoc;
  } catch {
    assert.fail(`ferry ${args.join(' ')}: stdout is not JSON:\n${r.out}\n(stderr: ${r.err})`);
  }
  for (const k of ['code', 'message', 'place', 'hint'] as const)
    assert.ok(
      typeof doc.error?.[k] === 'string' && doc.error[k].length > 0,
      `${args.join(' ')}: error.${k} in ${r.out}`,
    );
  return doc;
}

function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'ferry-json-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

const compose = 'services:\n  web:\n    image: nginx:1.27\n    restart: always\n';
// A server on loopback where nothing listens: every connection is refused at once.
const fleet = 'servers:\n  app: { host: 127.0.0.1, port: 1 }\nstacks:\n  web: { server: app, compose: compose.yml }\n';

test('every command, given what it cannot use, answers --json with one error document', async () => {
  const none = project({});
  const bad = project({ 'ferry.yml': 'servers: [1]\n' });
  const good = project({ 'ferry.yml': fleet, 'compose.yml': compose });
  // Reaching the server fails before or at the handshake: which depends on this machine's SSH keys.
  const unreachable = 'auth-failed|host-unreachable';
  const cases: [string, string[], string, number][] = [
    [none, ['inventory', '--json'], 'usage', 2],
    [none, ['check', '--json', '--jsn'], 'usage', 2],
    [none, ['plan', '--json'], 'usage', 2],
    [none, ['apply', '--json', '--yes'], 'usage', 2],
    [none, ['apply', 'saved.json', '--json', '--yes'], 'missing-file', 2],
    [none, ['rollback', 'web', '--json', '--yes'], 'usage', 2],
    [none, ['retire', 'web', '--from', 'app', '--json', '--yes'], 'usage', 2],
    [none, ['migrate', 'web', '--to', 'app', '--json', '--yes'], 'usage', 2],
    [none, ['lock', 'status', 'web', '--json'], 'missing-file', 2],
    [none, ['runs', '--json', '--limit', '0'], 'usage', 2],
    [bad, ['inventory', '-f', 'ferry.yml', '--json'], 'schema', 2],
    [bad, ['plan', '-f', 'ferry.yml', '--json'], 'schema', 2],
    [good, ['plan', '--json', '--out', 'missing/plan.json'], 'file-unwritable', 2],
    [good, ['lock', 'status', 'nope', '--json'], 'usage', 2],
    [good, ['inventory', '--json', '--live', '--connect-timeout', 'Infinity'], 'usage', 2],
    [good, ['apply', '--json', '--yes', '--connect-timeout', '2'], unreachable, 1],
    [good, ['lock', 'status', 'web', '--json', '--connect-timeout', '2'], unreachable, 1],
  ];
  for (const [cwd, args, code, exit] of cases) {
    const env = { FERRY_STATE_DIR: join(cwd, 'state'), HOME: cwd };
    const r = await ferry(args, { cwd, env });
    const doc = errorDoc(r, args);
    assert.match(doc.error.code, new RegExp(`^(?:${code})$`), `${args.join(' ')}: ${r.out}`);
    assert.equal(r.code, exit, args.join(' '));
  }
});

test('runs show with an unknown id, and an input that cannot be read, in JSON too', async () => {
  const d = project({ 'compose.yml': 'services:\n  web:\n    image: nginx:1.27\n   ports: [80\n' });
  const r = await ferry(['runs', 'show', 'nope', '--json'], { env: { FERRY_STATE_DIR: d } });
  assert.equal(errorDoc(r, ['runs', 'show']).error.code, 'run-not-found');
  const c = await ferry(['check', '--compose', 'compose.yml', '--json'], { cwd: d });
  const doc = errorDoc(c, ['check']);
  assert.equal(doc.error.code, 'yaml-syntax');
  assert.equal(doc.error.place, 'compose.yml:4:1');
  assert.equal(doc.findings?.[0]?.code, 'yaml-syntax');
  assert.equal(c.code, 2);
});
