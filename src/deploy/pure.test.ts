import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../core/errors.js';
import { isSecret } from '../core/secret.js';
import { loadComposeProject } from '../compose/load.js';
import { DEFAULT_DEPLOY } from '../model/fleet.js';
import type { LoadedStack } from '../model/loaded.js';
import { envLine, makeBundle, referencedVariables } from './bundle.js';
import { parseContainers } from './containers.js';
import { healthTestCommand } from './steps/health.js';
import { stopCommand, stopGraceOf } from './steps/up.js';
import type { Service } from '../model/compose.js';
import { render } from '../shell/command.js';
import { manifestChanges, parseManifest, parseModes } from './steps/release.js';
import { createHash } from 'node:crypto';
import { releaseHistory, releasesToRemove } from './steps/prune.js';
import { idOfLink } from './release-meta.js';

function stackIn(files: Record<string, string>, env: Record<string, string> = {}): LoadedStack {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bundle-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  const compose = [join(dir, 'app/compose.yml')];
  const r = loadComposeProject({ files: compose, cwd: dir, env });
  assert.ok(r.project, JSON.stringify(r.findings));
  return {
    def: { name: 'shop', server: 'a', compose, connections: [], deploy: DEFAULT_DEPLOY },
    project: r.project,
    findings: [],
  };
}

const COMPOSE =
  'services:\n  web:\n    image: app:${TAG:-1}\n    env_file: web.env\n    volumes: ["./nginx.conf:/etc/nginx.conf:ro", "./data:/data"]\n    environment: { PASSWORD: "$$literal", URL: "${DB_URL}" }\n';

test('a bundle holds the compose file, a generated env file, env_files and bind-mounted files; data directories become shared paths', () => {
  const stack = stackIn(
    {
      'app/compose.yml': COMPOSE,
      'app/.env': 'DB_URL=postgres://u:pw-canary@db/x\nUNUSED=1\n',
      'app/web.env': 'A=1\n',
      'app/nginx.conf': 'events {}\n',
    },
    { TAG: '7' },
  );
  const b = makeBundle(stack);
  assert.deepEqual(
    b.files.map((f) => `${f.rel}${isSecret(f.content) ? ' (secret)' : ''}`),
    ['.env (secret)', 'compose.yml', 'nginx.conf', 'web.env (secret)'],
  );
  assert.deepEqual(b.dataPaths, ['data']);
  assert.deepEqual(b.composeFiles, ['compose.yml']);
  const env = b.files[0]!.content;
  assert.ok(isSecret(env));
  assert.equal(
    env.reveal(),
    '# Written by Ferry: the values this release was checked with.\nDB_URL=postgres://u:pw-canary@db/x\nTAG=7\nUNUSED=1\n',
  );
  assert.match(b.id, /^[0-9a-f]{12}$/);
  assert.equal(makeBundle(stack).id, b.id, 'the same inputs make the same release');
  assert.notEqual(makeBundle(stack, { 'app:7': 'sha256:abc' }).id, b.id, 'another image id makes another release');
  assert.notEqual(
    makeBundle(
      stackIn(
        {
          'app/compose.yml': COMPOSE,
          'app/.env': 'DB_URL=x\n',
          'app/web.env': 'A=1\n',
          'app/nginx.conf': 'events {}\n',
        },
        { TAG: '8' },
      ),
    ).id,
    b.id,
  );
});

test("modes: Compose and env files are root's alone; a mounted file keeps its execute bits; secrets and configs are read-only to all", () => {
  const compose =
    'services:\n  web:\n    image: app:1\n    env_file: web.env\n    secrets: [pw]\n    configs: [conf]\n' +
    '    volumes: ["./start.sh:/start.sh:ro", "./app.ini:/etc/app.ini:ro", "./web.env:/etc/web.env:ro"]\n' +
    'secrets: { pw: { file: ./pw.txt } }\nconfigs: { conf: { file: ./conf.yml } }\n';
  const files = {
    'app/compose.yml': compose,
    'app/web.env': 'A=1\n',
    'app/start.sh': '#!/bin/sh\n',
    'app/app.ini': 'a=1\n',
    'app/pw.txt': 'pw-canary\n',
    'app/conf.yml': 'x: 1\n',
  };
  const stack = stackIn(files);
  chmodSync(join(stack.project!.workingDir, 'start.sh'), 0o750);
  const b = makeBundle(stack);
  assert.deepEqual(
    b.files.map((f) => `${f.rel} ${(f.mode ?? 0o600).toString(8)}`),
    ['app.ini 644', 'compose.yml 600', 'conf.yml 444', 'pw.txt 444', 'start.sh 755', 'web.env 644'],
  );
  // A mode is part of the release: the same files executable or not are two releases.
  chmodSync(join(stack.project!.workingDir, 'start.sh'), 0o640);
  assert.notEqual(makeBundle(stack).id, b.id);
});

test('a file outside the project directory is refused with outside-project', () => {
  const stack = stackIn({
    'app/compose.yml': 'services:\n  web:\n    image: x\n    env_file: ../common.env\n',
    'common.env': 'A=1\n',
  });
  assert.throws(
    () => makeBundle(stack),
    (e: unknown) =>
      e instanceof InputError &&
      e.findings[0]!.code === 'outside-project' &&
      /common\.env is outside the project directory/.test(e.findings[0]!.message),
  );
});

test('variables referenced by compose text, and env lines both Compose flavors read alike', () => {
  assert.deepEqual(referencedVariables(['a: ${A}', 'b: $B c: $$NOT d: ${D:-x} e: ${E?err}']), ['A', 'B', 'D', 'E']);
  assert.equal(envLine('K', 'plain-1.2:/x'), 'K=plain-1.2:/x');
  assert.equal(envLine('K', 'has space $x'), "K='has space $x'");
  assert.equal(envLine('K', `it's "q" $x`), 'K="it\'s \\"q\\" \\$x"');
});

test('manifests: parsed, and compared naming files without showing secret hashes', () => {
  const m = parseManifest(`${'a'.repeat(64)}  compose.yml\n${'b'.repeat(64)}  .env\n${'c'.repeat(64)}  gone.txt\n`);
  const bundle = {
    id: 'x',
    composeFiles: [],
    dataPaths: [],
    files: [
      { rel: 'compose.yml', content: Buffer.from('new') },
      { rel: 'new.txt', content: Buffer.from('n') },
    ],
  };
  assert.deepEqual(manifestChanges(m, bundle), ['~ compose.yml', '+ new.txt', '- .env', '- gone.txt']);
  // The same content in another mode (a script made executable, a release of before modes were kept).
  const same = {
    ...bundle,
    files: [{ rel: 'start.sh', content: Buffer.from('#!/bin/sh\n'), mode: 0o755 }],
  };
  const text = `${createHash('sha256').update('#!/bin/sh\n').digest('hex')}  start.sh\n600 start.sh\n`;
  assert.deepEqual(manifestChanges(parseManifest(text), same, parseModes(text)), ['~ start.sh (mode 755)']);
  assert.deepEqual(manifestChanges(parseManifest(text), same), [], 'modes not read: no change seen');
});

test('pruning keeps the most recent releases of the history and the current one; partial uploads go', () => {
  const history =
    '2026-01-01T00:00:00Z r1\n2026-01-02T00:00:00Z r2\n2026-01-03T00:00:00Z r3\n2026-01-04T00:00:00Z r2\n';
  assert.deepEqual(releasesToRemove(['r1', 'r2', 'r3', 'r4.partial', 'stray'], history, 'r2', 2), [
    'r1',
    'r4.partial',
    'stray',
  ]);
  assert.deepEqual(releasesToRemove(['r1', 'r2'], history, 'r1', 1), []);
  assert.deepEqual(releaseHistory(history), ['r2', 'r3', 'r1']);
  assert.equal(idOfLink('releases/abc123\n'), 'abc123');
  assert.equal(idOfLink('/somewhere/else'), undefined);
});

test('containers from docker inspect: service, config hash, health, addresses', () => {
  const json = JSON.stringify([
    {
      Id: 'a'.repeat(64),
      Name: '/shop_web_1',
      Created: 't',
      Image: 'sha256:1',
      Config: {
        Image: 'app:1',
        Labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.config-hash': 'h1' },
      },
      State: { Status: 'running', ExitCode: 0, Health: { Status: 'healthy' } },
      NetworkSettings: { Networks: { shop_default: { IPAddress: '172.20.0.3' } } },
    },
  ]);
  assert.deepEqual(parseContainers(json), [
    {
      id: 'aaaaaaaaaaaa',
      name: 'shop_web_1',
      service: 'web',
      configHash: 'h1',
      image: 'sha256:1',
      imageName: 'app:1',
      status: 'running',
      health: 'healthy',
      exitCode: 0,
      addresses: ['172.20.0.3'],
      created: 't',
    },
  ]);
});

test("a container's own health test, run at once: CMD as its words, CMD-SHELL through /bin/sh, NONE not at all", () => {
  const json = (test: unknown) =>
    JSON.stringify([
      {
        Id: 'b'.repeat(64),
        Name: '/shop_web_1',
        Config: { Image: 'app:1', Labels: {}, Healthcheck: { Test: test } },
        State: { Status: 'running', Health: { Status: 'starting' } },
      },
    ]);
  const [cmdForm] = parseContainers(json(['CMD', 'pg_isready', '-U', 'demo']));
  assert.equal(render(healthTestCommand(cmdForm!)!), 'docker exec shop_web_1 pg_isready -U demo');
  const [shell] = parseContainers(json(['CMD-SHELL', 'curl -f http://localhost/ || exit 1']));
  assert.equal(
    render(healthTestCommand(shell!)!),
    "docker exec shop_web_1 /bin/sh -c 'curl -f http://localhost/ || exit 1'",
  );
  const [none] = parseContainers(json(['NONE']));
  assert.equal(none!.healthTest, undefined);
  assert.equal(healthTestCommand(none!), undefined);
});

test("containers are stopped with their service's stop_grace_period, rounded up to seconds; Compose's 10 s without one", () => {
  const svc = (raw: Record<string, unknown>) => ({ raw }) as unknown as Service;
  assert.deepEqual(stopGraceOf(svc({ stop_grace_period: '1m30s' })), { stopGrace: 90 });
  assert.deepEqual(stopGraceOf(svc({ stop_grace_period: '1500ms' })), { stopGrace: 2 });
  assert.deepEqual(stopGraceOf(svc({ stop_grace_period: 'soon' })), {});
  assert.deepEqual(stopGraceOf(svc({})), {});
  assert.equal(render(stopCommand({ stopGrace: 90 }, ['a', 'b'])), 'docker stop -t 90 a b');
  assert.equal(render(stopCommand(undefined, ['a'])), 'docker stop -t 10 a');
});
