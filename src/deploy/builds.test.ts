/**
 * Builds on the server, planned: the context as Docker sends it (.dockerignore), one build
 * per distinct context and arguments, a tag that changes with what the image is built
 * from, the compose file Ferry ships (no `build:`, the tag), and the build step's commands
 * against a recording transport: no argument's value on a command line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FerryError, InputError } from '../core/errors.js';
import { Redactor } from '../core/redact.js';
import { testContext } from '../engine/test-helpers.js';
import { RecordingTransport } from '../transport/recording.js';
import { loadWorkspace } from '../workspace/load.js';
import { buildsOf, contextFiles } from './builds.js';
import { stackPlan } from './plan.js';
import { argsPath, buildStep } from './steps/build.js';

const ARG_CANARY = 'npm-token-canary-5e2d';

function project(files: Record<string, string>, compose: string, deploy = '') {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-builds-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  writeFileSync(join(dir, 'compose.yml'), compose);
  writeFileSync(join(dir, '.env'), `NPM_TOKEN=${ARG_CANARY}\n`);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      '  app: { host: 203.0.113.10 }',
      'stacks:',
      '  shop:',
      '    server: app',
      '    compose: compose.yml',
      '    project: shop',
      ...(deploy ? [`    deploy: ${deploy}`] : []),
      '',
    ].join('\n'),
  );
  const ws = loadWorkspace({ cwd: dir, env: {} });
  if (!ws.loaded) throw new Error(JSON.stringify(ws.findings));
  const stack = ws.loaded.stacks[0]!;
  assert.ok(stack.project, JSON.stringify(stack.findings));
  return { dir, loaded: ws.loaded, stack };
}

const APP = {
  'app/Dockerfile': 'FROM ferry-tb-app:1\nCOPY . /srv/app\n',
  'app/main.py': 'print("hello")\n',
  'app/node_modules/left-pad/index.js': 'x\n',
  'app/docs/keep.md': 'kept\n',
  'app/docs/drop.md': 'dropped\n',
  'app/.dockerignore': 'node_modules\ndocs\n!docs/keep.md\nDockerfile\n',
};

const SHARED = `services:
  api:
    build: { context: ./app, args: { NPM_TOKEN: "\${NPM_TOKEN}" } }
    image: shop/api:1
  worker:
    build: { context: ./app, args: { NPM_TOKEN: "\${NPM_TOKEN}" } }
    command: ["python3", "worker.py"]
  beat:
    build: { context: ./app, target: beat }
  db:
    image: postgres:16
`;

test('the context is what .dockerignore leaves (its exceptions too), the Dockerfile and .dockerignore always', () => {
  const { dir } = project(APP, SHARED);
  assert.deepEqual(contextFiles(join(dir, 'app'), 'Dockerfile'), [
    '.dockerignore',
    'Dockerfile',
    'docs/keep.md',
    'main.py',
  ]);
});

test('one build per distinct context, target and arguments; the tag follows what the image is built from', () => {
  const { stack, dir } = project(APP, SHARED);
  const builds = buildsOf(stack, stack.project!.services);
  assert.deepEqual(
    builds.map((b) => [b.services, b.target ?? '-', Object.keys(b.args)]),
    [
      [['api', 'worker'], '-', ['NPM_TOKEN']],
      [['beat'], 'beat', []],
    ],
  );
  assert.match(builds[0]!.tag, /^shop-build:[0-9a-f]{12}$/);
  assert.notEqual(builds[0]!.tag, builds[1]!.tag);
  // The same again: the same tags. A file of the context changed: a new tag; an ignored one: not.
  const again = () => buildsOf(stack, stack.project!.services).map((b) => b.tag);
  assert.deepEqual(again(), [builds[0]!.tag, builds[1]!.tag]);
  writeFileSync(join(dir, 'app/docs/drop.md'), 'changed, but ignored\n');
  assert.deepEqual(again(), [builds[0]!.tag, builds[1]!.tag]);
  writeFileSync(join(dir, 'app/main.py'), 'print("changed")\n');
  assert.notEqual(again()[0], builds[0]!.tag);
  chmodSync(join(dir, 'app/main.py'), 0o755);
  assert.equal(new Set([...again(), builds[0]!.tag]).size, 3, 'an executable bit is part of it');
});

test('a missing context or Dockerfile, and a remote context, are refused at the stack with their codes', () => {
  const missing = project(
    APP,
    'services:\n  api: { build: ./nope }\n  web: { build: { context: ./app, dockerfile: Dockerfile.prod } }\n',
  );
  assert.throws(
    () => buildsOf(missing.stack, missing.stack.project!.services),
    (e: InputError) =>
      e.findings.map((f) => `${f.code} ${f.service}`).join(', ') ===
        'build-context-missing api, build-context-missing web' &&
      /which has no Dockerfile\.prod/.test(e.findings[1]!.message),
  );
  const remote = project(APP, 'services:\n  api: { build: "https://github.com/example/api.git#main" }\n');
  assert.throws(
    () => buildsOf(remote.stack, remote.stack.project!.services),
    (e: InputError) => e.findings[0]!.code === 'build-context-unsupported',
  );
});

test('the plan builds each image once before up, ships a compose file without build: and pushes the rest; local builds nothing', async () => {
  const { loaded, stack } = project(APP, SHARED);
  const local = new RecordingTransport('local').when(/^docker image inspect /, { stdout: 'sha256:local\n' });
  const p = await stackPlan({ stack, server: loaded.fleet.servers.app!, local, fleet: loaded.fleet });
  const [api, beat] = buildsOf(stack, stack.project!.services);
  assert.deepEqual(p.steps.map((s) => [s.id, [...s.dependsOn]]).slice(0, 5), [
    ['shop/engine', []],
    ['shop/build/api', ['shop/engine']],
    ['shop/build/beat', ['shop/engine']],
    ['shop/images', ['shop/engine']],
    ['shop/release', ['shop/engine']],
  ]);
  assert.deepEqual(p.steps.find((s) => s.id === 'shop/up')!.dependsOn, [
    'shop/build/api',
    'shop/build/beat',
    'shop/images',
    'shop/release',
  ]);
  assert.equal(p.steps.find((s) => s.id === 'shop/images')!.title, 'images postgres:16 on app');
  assert.deepEqual(p.meta.composeFiles, ['compose.ferry.yml']);
  const file = p.bundle.files.find((f) => f.rel === 'compose.ferry.yml')!;
  const text = String(
    file.content instanceof Object && 'reveal' in file.content ? file.content.reveal() : file.content,
  );
  const doc = parse(text) as { services: Record<string, { image?: string; build?: unknown; command?: string[] }> };
  assert.deepEqual(
    Object.entries(doc.services).map(([n, s]) => [n, s.image, s.build === undefined]),
    [
      ['api', api!.tag, true],
      ['worker', api!.tag, true],
      ['beat', beat!.tag, true],
      ['db', 'postgres:16', true],
    ],
  );
  assert.deepEqual(doc.services.worker!.command, ['python3', 'worker.py']);
  assert.equal(text.includes(ARG_CANARY), false, 'no build argument in the compose file');
  // Another release when the context changes: the tag is in the compose file, the compose file in the release id.
  const { loaded: l2, stack: s2 } = project({ ...APP, 'app/main.py': 'print("v2")\n' }, SHARED);
  const p2 = await stackPlan({ stack: s2, server: l2.fleet.servers.app!, local, fleet: l2.fleet });
  assert.notEqual(p2.bundle.id, p.bundle.id);
  // Local: nothing is built; what is built here is named, and pushed like any other image.
  const unnamed = project(APP, SHARED, '{ build: local }');
  await assert.rejects(
    stackPlan({ stack: unnamed.stack, server: unnamed.loaded.fleet.servers.app!, local, fleet: unnamed.loaded.fleet }),
    (e: InputError) =>
      e.findings.map((f) => `${f.code} ${f.service}`).join(', ') ===
      'build-image-unnamed worker, build-image-unnamed beat',
  );
  const named = SHARED.replace('command:', 'image: shop/worker:1\n    command:').replace(
    'build: { context: ./app, target: beat }',
    'build: { context: ./app, target: beat }\n    image: shop/beat:1',
  );
  const { loaded: l3, stack: s3 } = project(APP, named, '{ build: local }');
  const p3 = await stackPlan({ stack: s3, server: l3.fleet.servers.app!, local, fleet: l3.fleet });
  assert.deepEqual(
    p3.steps.filter((s) => s.id.includes('/build/')),
    [],
  );
  assert.equal(
    p3.steps.find((s) => s.id === 'shop/images')!.title,
    'images shop/api:1, shop/worker:1, shop/beat:1, postgres:16 on app',
  );
  assert.deepEqual(p3.meta.composeFiles, ['compose.yml']);
});

test('the build step: nothing when the tag is there; else the tar on stdin, the arguments from a 600 file, never a command line', async () => {
  const { stack } = project(APP, SHARED);
  const [api] = buildsOf(stack, stack.project!.services);
  const step = buildStep({ id: 'shop/build/api', host: 'app', stack: 'shop', build: api!, sudo: false, dependsOn: [] });
  const there = new RecordingTransport('app').when(/^docker image inspect /, { stdout: 'sha256:abc\n' });
  assert.equal((await step.check(testContext(there))).needed, false);

  const redactor = new Redactor();
  redactor.add(ARG_CANARY);
  const t = new RecordingTransport('app', { redactor })
    .when(/^docker image inspect /, { code: 1 }, { times: 1 })
    .when(/^mkdir -p /, {})
    .when(/docker build/, {})
    .when(/^rm -f /, {})
    .when(/^docker image inspect /, { stdout: 'sha256:new\n' });
  const ctx = { ...testContext(t, { redactor }), transferred: () => {} };
  assert.equal((await step.check(ctx)).needed, true);
  await step.apply(ctx, undefined);
  assert.deepEqual(await step.verify(ctx, undefined), { ok: true });
  const upload = t.calls.find((c) => c.kind === 'upload');
  assert.ok(upload && upload.kind === 'upload');
  assert.equal(upload.path, argsPath('shop', api!));
  assert.equal(upload.mode, 0o600);
  const build = t.calls.find((c) => c.kind === 'exec' && c.line.includes('docker build'))!;
  assert.ok(build.kind === 'exec');
  assert.match(build.line, /--build-arg NPM_TOKEN --label/);
  assert.equal(build.stdin, '(stream)');
  for (const c of t.calls) assert.equal(JSON.stringify(c).includes(ARG_CANARY), false, JSON.stringify(c));

  const failed = new RecordingTransport('app')
    .when(/^mkdir -p /, {})
    .when(/docker build/, { code: 1, stderr: 'Step 2/2 : RUN false\nThe command returned a non-zero code: 1\n' })
    .when(/^rm -f /, {});
  await assert.rejects(
    step.apply({ ...testContext(failed), transferred: () => {} }, undefined),
    (e: FerryError) => e.code === 'image-build-failed' && /RUN false/.test(e.message),
  );
  assert.ok(
    failed.lines.some((l) => l.startsWith('rm -f ')),
    'the arguments file is removed after a failed build too',
  );
});

test('build secrets, SSH forwarding and the other keys a server build does not pass on are refused, naming them', () => {
  const p = project(
    APP,
    'services:\n  api: { build: { context: ./app, secrets: [npm], ssh: [default] } }\n  web: { build: { context: ./app, network: host } }\nsecrets:\n  npm: { file: ./npm.txt }\n',
  );
  assert.throws(
    () => buildsOf(p.stack, p.stack.project!.services),
    (e: InputError) =>
      e.findings.map((f) => `${f.code} ${f.service}`).join(', ') ===
        'build-option-unsupported api, build-option-unsupported web' &&
      /build\.secrets, build\.ssh/.test(e.findings[0]!.message) &&
      /deploy\.build: local/.test(e.findings[0]!.hint ?? ''),
  );
});
