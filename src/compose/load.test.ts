import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { MAX_EXTENDS } from './extends.js';
import { loadComposeProject, type LoadOptions } from './load.js';

function project(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'ferry-load-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

function load(dir: string, opts: Partial<LoadOptions> = {}) {
  const r = loadComposeProject({ files: ['compose.yml'], cwd: dir, env: {}, ...opts });
  const errors = r.findings.filter((f) => f.severity === 'error');
  return { ...r, errors, svc: (n: string) => r.project!.services.find((s) => s.name === n)! };
}

test('profiles: by flag, by COMPOSE_PROFILES from the environment or .env, and "*"', () => {
  const compose =
    'services:\n  web: { image: w:1 }\n  debug: { image: d:1, profiles: [debug] }\n  mon: { image: m:1, profiles: [monitoring, ops] }\n';
  const d = project({ 'compose.yml': compose });
  const names = (r: ReturnType<typeof load>) => r.project!.services.map((s) => s.name);
  assert.deepEqual(names(load(d)), ['web']);
  assert.deepEqual(load(d).project!.disabledServices, ['debug', 'mon']);
  assert.deepEqual(names(load(d, { profiles: ['ops'] })), ['web', 'mon']);
  assert.deepEqual(names(load(d, { env: { COMPOSE_PROFILES: 'debug,monitoring' } })), ['web', 'debug', 'mon']);
  assert.deepEqual(names(load(d, { profiles: ['*'] })), ['web', 'debug', 'mon']);
  const e = project({ 'compose.yml': compose, '.env': 'COMPOSE_PROFILES=debug\n' });
  assert.deepEqual(names(load(e)), ['web', 'debug']);
});

test('interpolation: process environment over .env over defaults', () => {
  const d = project({
    'compose.yml':
      'services:\n  web:\n    image: "w:${TAG:-default}"\n    container_name: "${NAME:-n}"\n    user: "${U:-fallback}"\n',
    '.env': 'TAG=from-dotenv\nNAME=dotenv-name\n',
  });
  const r = load(d, { env: { TAG: 'from-env' } });
  assert.equal(r.svc('web').image, 'w:from-env');
  assert.equal(r.svc('web').containerName, 'dotenv-name');
  assert.equal(r.svc('web').user, 'fallback');
});

test('env_file: read relative to the project, overridden by environment; missing optional files are fine', () => {
  const d = project({
    'compose.yml':
      'services:\n  web:\n    image: w:1\n    env_file: [conf/a.env, { path: conf/none.env, required: false }]\n    environment: { B: inline }\n',
    'conf/a.env': 'A=1\nB=from-file\nC="quoted # not a comment"\n',
  });
  const r = load(d);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.svc('web').environment, { A: '1', B: 'inline', C: 'quoted # not a comment' });
  assert.deepEqual(r.svc('web').inlineEnvironment, { B: 'inline' });
});

test('several files: override rules, and findings point at the file that wrote the value', () => {
  const d = project({
    'compose.yml': 'services:\n  web:\n    image: w:1\n    ports: ["8080:80"]\n    environment: [A=1]\n',
    'compose.prod.yml': 'services:\n  web:\n    image: w:2\n    deploy: { replicas: 3 }\n',
  });
  const r = load(d, { files: ['compose.yml', 'compose.prod.yml'] });
  const web = r.svc('web');
  assert.equal(web.image, 'w:2');
  assert.equal(web.replicas, 3);
  assert.equal(web.ports[0]?.published, 8080);
  assert.deepEqual(r.project!.locate(['services', 'web', 'image']), {
    file: 'compose.prod.yml',
    line: 3,
    column: 5,
    path: 'services/web/image',
  });
  assert.deepEqual(r.project!.locate(['services', 'web', 'ports', 0]), {
    file: 'compose.yml',
    line: 4,
    column: 13,
    path: 'services/web/ports/0',
  });
  assert.deepEqual(r.project!.files, ['compose.yml', 'compose.prod.yml']);
});

test('extends from another file: its relative paths are rebased onto its directory', () => {
  const d = project({
    'compose.yml': 'services:\n  api:\n    extends: { file: base/common.yml, service: app }\n    command: ["serve"]\n',
    'base/common.yml':
      'services:\n  app:\n    image: app:1\n    env_file: app.env\n    volumes: ["./data:/data"]\n    restart: always\n',
    'base/app.env': 'FROM_BASE=yes\n',
  });
  const r = load(d);
  assert.deepEqual(r.errors, []);
  const api = r.svc('api');
  assert.equal(api.image, 'app:1');
  assert.deepEqual(api.command, ['serve']);
  assert.equal(api.restart, 'always');
  assert.equal(api.volumes[0]?.source, join(d, 'base/data'));
  assert.deepEqual(api.environment, { FROM_BASE: 'yes' });
  assert.equal(r.project!.locate(['services', 'api', 'restart']).file, 'base/common.yml');
});

test('include: another project with its own directory and .env; a clash is an error', () => {
  const d = project({
    'compose.yml': 'include:\n  - monitoring/compose.yml\nservices:\n  web: { image: w:1 }\n',
    'monitoring/compose.yml':
      'services:\n  grafana:\n    image: "grafana/grafana:${GRAFANA_TAG}"\n    volumes: ["./dash:/dash"]\nvolumes:\n  grafana-data: {}\n',
    'monitoring/.env': 'GRAFANA_TAG=11.2.0\n',
  });
  const r = load(d);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.project!.services.map((s) => s.name).sort(), ['grafana', 'web']);
  assert.equal(r.svc('grafana').image, 'grafana/grafana:11.2.0');
  assert.equal(r.svc('grafana').volumes[0]?.source, join(d, 'monitoring/dash'));
  assert.ok('grafana-data' in r.project!.volumes);
  assert.equal(r.project!.locate(['services', 'grafana', 'image']).file, 'monitoring/compose.yml');

  const clash = project({
    'compose.yml': 'include: [other.yml]\nservices:\n  web: { image: w:1 }\n',
    'other.yml': 'services:\n  web: { image: w:2 }\n',
  });
  const c = load(clash);
  assert.equal(c.errors[0]?.code, 'include-conflict');
  assert.equal(c.errors[0]?.where.line, 1);
});

test('project name: fleet override, COMPOSE_PROJECT_NAME, top-level name, directory; normalized', () => {
  const d = project({ 'compose.yml': 'name: My_App\nservices:\n  web: { image: w:1 }\n' });
  assert.equal(load(d).project!.name, 'my_app');
  assert.equal(load(d, { env: { COMPOSE_PROJECT_NAME: 'from-env' } }).project!.name, 'from-env');
  assert.equal(load(d, { projectName: 'Fleet.Name' }).project!.name, 'fleetname');
});

test('unset variables warn once each, with the first place they are used', () => {
  const d = project({ 'compose.yml': 'services:\n  web:\n    image: "w:${TAG}"\n    user: "${TAG}"\n' });
  const r = load(d);
  const warn = r.findings.filter((f) => f.code === 'unset-variable');
  assert.equal(warn.length, 1);
  assert.equal(warn[0]?.where.line, 3);
  assert.equal(r.svc('web').image, 'w:');
});

test('project name: one that normalizes to nothing is refused; an explicit one that changes is said', () => {
  const d = project({ 'compose.yml': 'name: "!!!"\nservices:\n  web: { image: w:1 }\n' });
  const r = load(d);
  assert.equal(r.project, undefined);
  assert.equal(r.errors[0]?.code, 'invalid-project-name');
  assert.match(r.errors[0]!.message, /^the project name "!!!" \(name: in the compose file\) has no letter or digit/);
  assert.equal(r.errors[0]?.where.line, 1);
  const e = project({ 'compose.yml': 'name: My_App\nservices:\n  web: { image: w:1 }\n' });
  const w = load(e).findings.filter((f) => f.code === 'invalid-project-name');
  assert.deepEqual(
    w.map((f) => [f.severity, f.message]),
    [
      [
        'warning',
        'the project name "My_App" (name: in the compose file) is not a valid Compose project name; it is used as "my_app"',
      ],
    ],
  );
  assert.deepEqual(
    load(d, { env: { COMPOSE_PROJECT_NAME: '...' } }).errors.map((f) => f.code),
    ['invalid-project-name'],
  );
});

test('a secret or config file that is missing: an error when a service uses it, a warning otherwise', () => {
  const d = project({
    'compose.yml':
      'services:\n  web:\n    image: w:1\n    secrets: [db]\nsecrets:\n  db: { file: ./db.txt }\n  spare: { file: ./spare.txt }\nconfigs:\n  conf: { file: ./conf }\n',
    conf: '',
  });
  const r = load(d);
  assert.deepEqual(
    r.findings.filter((f) => f.code === 'missing-file').map((f) => [f.severity, f.message, f.where.line]),
    [
      ['error', 'secret db: file not found: db.txt', 6],
      ['warning', 'secret spare: file not found: spare.txt (no service uses the secret yet)', 7],
    ],
  );
  // The files are made absolute against the project directory, as the release bundle reads them.
  assert.equal(r.project!.configs.conf!.file, join(d, 'conf'));
});

test('a secret read from an environment variable makes that value a secret', () => {
  const d = project({
    'compose.yml': 'services:\n  web:\n    image: w:1\n    secrets: [db]\nsecrets:\n  db: { environment: DB_PASS }\n',
    '.env': 'DB_PASS=canary-3f1e\n',
  });
  assert.ok(load(d).secrets.includes('canary-3f1e'));
});

test('an .env variable used above the line that sets it is an error, and the project still loads', () => {
  const d = project({ 'compose.yml': 'services:\n  web:\n    image: "w:${A:-1}"\n', '.env': 'A=${B}\nB=x\n' });
  const r = load(d);
  assert.deepEqual(
    r.errors.map((f) => [f.code, f.where.line]),
    [['env-forward-reference', 1]],
  );
  assert.match(r.errors[0]!.message, /A refers to B, which is set only further down \(line 2\)/);
  assert.ok(r.project);
});

test('extends: a chain resolves once per service; past MAX_EXTENDS it is one error, never a stack overflow', () => {
  const chain = (n: number, reverse: boolean) =>
    'services:\n' +
    Array.from({ length: n }, (_, i) => {
      const base = reverse ? i + 1 : i - 1;
      const last = reverse ? i === n - 1 : i === 0;
      return last ? `  s${i}:\n    image: x:1\n` : `  s${i}:\n    extends: s${base}\n    environment: { L${i}: "1" }\n`;
    }).join('');
  const ok = load(project({ 'compose.yml': chain(MAX_EXTENDS, false) }));
  assert.deepEqual(ok.errors, []);
  assert.equal(Object.keys(ok.svc(`s${MAX_EXTENDS - 1}`).environment).length, MAX_EXTENDS - 1);
  for (const reverse of [false, true]) {
    const deep = load(project({ 'compose.yml': chain(5000, reverse) }));
    assert.deepEqual(
      deep.errors.map((f) => f.code),
      ['extends-too-deep'],
    );
    assert.match(deep.errors[0]!.message, new RegExp(`ends a chain of more than ${MAX_EXTENDS} extends`));
  }
});

test('extends: a cycle is reported once, however many services lead into it', () => {
  const r = load(
    project({
      'compose.yml':
        'services:\n  a: { extends: b }\n  b: { extends: a }\n  c: { extends: a }\n  d: { extends: c }\n  e: { image: x:1 }\n',
    }),
  );
  assert.deepEqual(
    r.errors.map((f) => [f.code, f.message]),
    [['extends-cycle', 'extends forms a cycle: compose.yml#a -> compose.yml#b -> compose.yml#a']],
  );
});
