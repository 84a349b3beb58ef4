/**
 * Bad input never produces a stack trace: each case gets a finding with a stable code,
 * the place (file:line or key path) and a hint, and the documented exit code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ferry, type Transcript } from './run.js';

function dir(files: Record<string, string | Buffer>): string {
  const d = mkdtempSync(join(tmpdir(), 'ferry-bad-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), content);
  }
  return d;
}

function noTrace(r: Transcript): void {
  const all = r.out + r.err;
  assert.doesNotMatch(all, /^\s+at .+\(.+:\d+:\d+\)$/m, 'no stack frames');
  assert.doesNotMatch(all, /node_modules|TypeError|ReferenceError|error internal/, 'no internal errors');
}

async function check(
  files: Record<string, string | Buffer>,
  args: string[] = ['check', '--compose', 'compose.yml', '--json'],
) {
  const r = await ferry(args, { cwd: dir(files) });
  noTrace(r);
  const findings = r.out.startsWith('{')
    ? (
        JSON.parse(r.out) as {
          findings: { code: string; severity: string; message: string; hint: string; where: Record<string, unknown> }[];
        }
      ).findings
    : [];
  return { ...r, findings, errors: findings.filter((f) => f.severity === 'error') };
}

test('malformed YAML: yaml-syntax at file:line, exit 2', async () => {
  const r = await check({ 'compose.yml': 'services:\n  web:\n    image: nginx\n   ports: [80\n' });
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'yaml-syntax');
  assert.equal(r.errors[0]?.where.file, 'compose.yml');
  assert.equal(typeof r.errors[0]?.where.line, 'number');
  assert.ok(r.errors[0]!.hint.length > 0);
});

test('duplicate keys: yaml-syntax naming the line of the second key', async () => {
  const r = await check({ 'compose.yml': 'services:\n  web:\n    image: nginx:1.27\n    image: nginx:1.26\n' });
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'yaml-syntax');
  assert.equal(r.errors[0]!.message, 'duplicate key "image" in a mapping');
  assert.equal(r.errors[0]?.where.line, 4);
});

test('wrong types and unknown keys: schema with key path, line and suggestion', async () => {
  const r = await check({
    'compose.yml': 'services:\n  web:\n    image: nginx:1.27\n    restart: always\n    portz: ["80:80"]\n',
  });
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'schema');
  assert.equal(r.errors[0]?.where.path, 'services/web/portz');
  assert.equal(r.errors[0]?.where.line, 5);
  assert.match(r.errors[0]!.message, /did you mean "ports"/);
  const t = await check({ 'compose.yml': 'services:\n  web:\n    image: nginx:1.27\n    ports: 80\n' });
  assert.equal(t.code, 2);
  assert.equal(t.errors[0]?.code, 'schema');
  assert.equal(t.errors[0]?.where.path, 'services/web/ports');
  assert.match(t.errors[0]!.message, /must be array/);
});

test('unknown service in depends_on: unknown-reference, exit 1', async () => {
  const r = await check({
    'compose.yml': 'services:\n  web:\n    image: nginx:1.27\n    depends_on: [dbb]\n  db:\n    image: postgres:16\n',
  });
  assert.equal(r.code, 1);
  const f = r.errors.find((x) => x.code === 'unknown-reference');
  assert.ok(f, JSON.stringify(r.findings));
  assert.match(f.message, /dbb/);
  assert.equal(f.where.line, 4);
});

test('cycle in depends_on: dependency-cycle', async () => {
  const r = await check({
    'compose.yml':
      'services:\n  a:\n    image: x/a:1\n    depends_on: [b]\n  b:\n    image: x/b:1\n    depends_on: [a]\n',
  });
  assert.equal(r.code, 1);
  assert.ok(
    r.errors.some((x) => x.code === 'dependency-cycle' && /a/.test(x.message) && /b/.test(x.message)),
    JSON.stringify(r.errors),
  );
});

test('cycle in extends, within a file and across files: extends-cycle', async () => {
  const r = await check({ 'compose.yml': 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n    image: x:1\n' });
  assert.equal(r.code, 2);
  assert.ok(
    r.errors.some((x) => x.code === 'extends-cycle'),
    JSON.stringify(r.errors),
  );
  const x = await check({
    'compose.yml': 'services:\n  a:\n    extends: { file: other.yml, service: b }\n',
    'other.yml': 'services:\n  b:\n    extends: { file: compose.yml, service: a }\n',
  });
  assert.equal(x.code, 2);
  assert.ok(
    x.errors.some((e) => e.code === 'extends-cycle'),
    JSON.stringify(x.errors),
  );
});

test('missing compose file, missing extends file, missing env_file: missing-file', async () => {
  const r = await check({ 'other.yml': 'services: {}\n' });
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'missing-file');
  const e = await check({ 'compose.yml': 'services:\n  a:\n    extends: { file: nope.yml, service: b }\n' });
  assert.equal(e.code, 2);
  assert.equal(e.errors[0]?.code, 'missing-file');
  assert.equal(e.errors[0]?.where.line, 3);
  const v = await check({ 'compose.yml': 'services:\n  a:\n    image: x:1\n    env_file: prod.env\n' });
  assert.equal(v.code, 1);
  const f = v.errors.find((x) => x.code === 'missing-file');
  assert.ok(f);
  assert.equal(f.where.line, 4);
});

test('unreadable path (a directory where a file is expected): file-unreadable', async () => {
  const d = dir({ 'compose.yml/keep': '' });
  const r = await ferry(['check', '--compose', 'compose.yml'], { cwd: d });
  noTrace(r);
  assert.equal(r.code, 2);
  assert.match(
    r.out,
    /ERROR file-unreadable .*: compose.yml is a directory, not a regular file\n  at compose.yml\n  hint: Name the file inside it/,
  );
});

test('non-UTF-8 file: yaml-syntax naming the offset', async () => {
  const r = await check({
    'compose.yml': Buffer.from([
      0x73, 0x65, 0x72, 0x76, 0x69, 0x63, 0x65, 0x73, 0x3a, 0x0a, 0x20, 0x20, 0xff, 0xfe, 0x3a, 0x0a,
    ]),
  });
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'yaml-syntax');
  assert.match(r.errors[0]!.message, /not valid UTF-8.*offset 12/);
  assert.equal(r.errors[0]?.where.line, 2);
});

test('alias bomb ("billion laughs"): yaml-syntax, stopped before memory runs out', async () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  const r = await check({
    'compose.yml': `x-bomb:\n${levels.map((l) => `  ${l}`).join('\n')}\nservices:\n  a:\n    image: x:1\n`,
  });
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'yaml-syntax');
  assert.match(r.errors[0]!.message, /aliases expand to more than/);
});

test('empty file: yaml-syntax "is empty"', async () => {
  const r = await check({ 'compose.yml': '# nothing here\n\n' });
  assert.equal(r.code, 2);
  assert.match(r.errors[0]!.message, /is empty/);
});

test('missing required variable: missing-variable naming it and where it is used', async () => {
  const r = await check({ 'compose.yml': 'services:\n  a:\n    image: "x:${TAG:?set TAG}"\n' });
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'missing-variable');
  assert.match(r.errors[0]!.message, /required variable TAG is missing a value: set TAG/);
  assert.equal(r.errors[0]?.where.path, 'services/a/image');
  assert.equal(r.errors[0]?.where.line, 3);
});

test('bad fleet file: schema error with key path and suggestion; unknown server', async () => {
  const files = {
    'compose.yml': 'services:\n  a:\n    image: x:1\n',
    'ferry.yml': 'servers:\n  app: { host: 203.0.113.1 }\nstacks:\n  web: { sever: app, compose: compose.yml }\n',
  };
  const r = await check(files, ['check', '-f', 'ferry.yml', '--json']);
  assert.equal(r.code, 2);
  assert.ok(
    r.errors.some((e) => e.code === 'schema' && /did you mean "server"/.test(e.message) && e.where.line === 4),
    JSON.stringify(r.errors),
  );
  const u = await check(
    {
      ...files,
      'ferry.yml': 'servers:\n  app: { host: 203.0.113.1 }\nstacks:\n  web: { server: ap, compose: compose.yml }\n',
    },
    ['check', '-f', 'ferry.yml', '--json'],
  );
  assert.ok(
    u.errors.some((e) => e.code === 'unknown-reference' && /"app"/.test(e.message)),
    JSON.stringify(u.errors),
  );
});

test('flags: unknown option, both inputs, no fleet file: usage error, exit 2', async () => {
  const d = dir({ 'compose.yml': 'services:\n  a:\n    image: x:1\n' });
  const a = await ferry(['check', '--jsn'], { cwd: d });
  noTrace(a);
  assert.equal(a.code, 2);
  assert.match(a.err, /error usage: unknown option '--jsn'/);
  assert.match(a.err, /--json/);
  const b = await ferry(['check', '-f', 'ferry.yml', '--compose', 'compose.yml'], { cwd: d });
  assert.equal(b.code, 2);
  assert.match(b.err, /error usage: give either -f FLEET or --compose FILE/);
  const c = await ferry(['inventory'], { cwd: d });
  assert.equal(c.code, 2);
  assert.match(c.err, /ferry.yml not found/);
  const e = await ferry(['invntory'], { cwd: d });
  assert.equal(e.code, 2);
  assert.match(e.err, /inventory/);
});

test('--live with nothing to read, or a bad timeout: usage error, exit 2, nothing contacted', async () => {
  const d = dir({
    'compose.yml': 'services:\n  a:\n    image: x:1\n',
    'ferry.yml': 'servers:\n  app: { host: 203.0.113.1 }\nstacks: {}\n',
  });
  const a = await ferry(['inventory', '--compose', 'compose.yml', '--live'], { cwd: d });
  noTrace(a);
  assert.equal(a.code, 2);
  assert.match(a.err, /error usage: --live needs servers/);
  const b = await ferry(['inventory', '-f', 'ferry.yml', '--live', '--connect-timeout', 'soon'], { cwd: d });
  noTrace(b);
  assert.equal(b.code, 2);
  assert.match(
    b.err,
    /error usage: --connect-timeout must be a number of seconds greater than 0 and at most 600, not "soon"/,
  );
});

test('a misspelt anchor in the fleet file stops the check (exit 2) instead of dropping the server user and port', async () => {
  const r = await check(
    {
      'compose.yml': 'services:\n  a:\n    image: x:1\n',
      'ferry.yml':
        'x-hetzner: &hetzner\n  user: deploy\n  port: 2222\nservers:\n  app:\n    <<: *hetzer\n    host: 203.0.113.4\nstacks:\n  web: { server: app, compose: compose.yml }\n',
    },
    ['check', '-f', 'ferry.yml', '--json'],
  );
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'yaml-syntax');
  assert.match(r.errors[0]!.message, /alias \*hetzer names no anchor; did you mean \*hetzner\?/);
  assert.equal(r.errors[0]?.where.line, 6);
});

test('very deep extends, depends_on and nested ${X:-...}: a coded error or a result, never a stack overflow', async () => {
  const n = 5000;
  const extendsChain =
    'services:\n' +
    Array.from({ length: n }, (_, i) =>
      i === n - 1 ? `  s${i}:\n    image: x:1\n` : `  s${i}:\n    extends: s${i + 1}\n`,
    ).join('');
  const dependsChain =
    'services:\n' +
    Array.from({ length: n }, (_, i) => `  s${i}:\n    image: x:1\n    depends_on: [s${(i + 1) % n}]\n`).join('');
  let nested = 'x';
  for (let i = 0; i < 20_000; i++) nested = `\${X:-${nested}}`;
  const cases: [string, string][] = [
    [extendsChain, 'extends-too-deep'],
    [dependsChain, 'dependency-cycle'],
    [`services:\n  a:\n    image: "x:${nested}"\n`, 'invalid-interpolation'],
  ];
  for (const [text, code] of cases) {
    const r = await check({ 'compose.yml': text });
    assert.ok(r.code === 1 || r.code === 2, `exit ${r.code}`);
    assert.ok(
      r.errors.some((e) => e.code === code),
      `${code} in ${JSON.stringify(r.errors.slice(0, 3))}`,
    );
  }
});

test('a service name that breaks the naming rule is said to be one, not an unknown key', async () => {
  const r = await check({ 'compose.yml': 'services:\n  "my web":\n    image: nginx:1.27\n' });
  assert.equal(r.code, 2);
  assert.equal(r.errors[0]?.code, 'schema');
  assert.equal(
    r.errors[0]!.message,
    'invalid service name "my web": a service name may contain only letters, digits, ".", "_" and "-"',
  );
  assert.match(r.errors[0]!.hint, /for example to "my-web"/);
  assert.doesNotMatch(r.errors[0]!.hint, /x-/);
  assert.equal(r.errors[0]?.where.line, 2);
});
