/**
 * Images built on the server (`deploy.build: server`, the default), on a fresh Debian 13
 * host: two services share one build (built once), a third builds another target; the
 * context is sent as .dockerignore leaves it; a build argument (a canary secret) reaches the
 * build and no output, state file or file left on the server. A second apply builds and
 * changes nothing; a changed context is a new image and a new release, and rollback runs the
 * image the previous release ran; a build that fails leaves the running release serving;
 * prune takes the images only pruned releases ran; `ferry migrate` builds them on the target,
 * a Debian 12 host whose Compose is v1.
 *
 * ferry-test-lane: side (its two hosts are fresh ones of its own, scripts/testbed/fresh.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFreshHost, removeFreshHost } from '../../scripts/testbed/fresh.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import { containerOf, loadImages, onHost, serverLine, testbedIsUp, type TestbedHost } from './helpers.js';

const CANARY = 'build-arg-canary-2c81f7';
const HOST = 'bld';
/** The server the stack then moves to: Debian 12, whose Compose is v1 (`docker-compose`). */
const TARGET = 'bld2';
const STACK = 'tbbuild';

const COMPOSE = `services:
  api:
    build: { context: ./app, args: { APP_TOKEN: "\${APP_TOKEN}" } }
    environment: { APP_VERSION: api }
    healthcheck: { test: ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')"], interval: 2s, retries: 15 }
    restart: unless-stopped
  worker:
    build: { context: ./app, args: { APP_TOKEN: "\${APP_TOKEN}" } }
    environment: { APP_VERSION: worker }
    restart: unless-stopped
  beat:
    build: { context: ./app, target: beat }
    restart: unless-stopped
`;

/**
 * Two stages: `beat`, a target of its own, then the app (with what the context holds). In
 * this order since Docker's legacy builder (Debian's docker.io without buildx) runs every
 * stage before the target.
 */
const DOCKERFILE = `FROM ferry-tb-app:1 AS beat
COPY beat.txt /srv/build/beat.txt
FROM ferry-tb-app:1 AS app
ARG APP_TOKEN
COPY . /srv/build/
RUN test -n "$APP_TOKEN" && echo "token of $(printf %s "$APP_TOKEN" | wc -c) bytes" > /srv/build/token-seen
`;

function rig(h: TestbedHost, target: TestbedHost) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-build-'));
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(dir, 'app', 'app.txt'), 'version 1\n');
  writeFileSync(join(dir, 'app', 'beat.txt'), 'beat\n');
  writeFileSync(join(dir, 'app', 'secret.txt'), 'never sent\n');
  mkdirSync(join(dir, 'app', 'node_modules'));
  writeFileSync(join(dir, 'app', 'node_modules', 'big.js'), 'x'.repeat(100_000));
  writeFileSync(join(dir, 'app', '.dockerignore'), 'secret.txt\nnode_modules\n');
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(join(dir, '.env'), `APP_TOKEN=${CANARY}\n`);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      serverLine(h),
      serverLine(target),
      'stacks:',
      `  ${STACK}: { server: ${h.name}, compose: compose.yml, project: ${STACK}, deploy: { health_timeout: 60s, keep_releases: 2 } }`,
      '',
    ].join('\n'),
  );
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, [h, target].map((x) => readFileSync(x.knownHostsFile, 'utf8')).join(''));
  const shown: string[] = [];
  const run = async (args: string[]): Promise<Transcript> => {
    const t = await ferry([...args, '-f', 'ferry.yml', '--known-hosts', knownHosts], {
      cwd: dir,
      env: { FERRY_STATE_DIR: join(dir, 'state') },
    });
    shown.push(t.out, t.err);
    return t;
  };
  return { dir, run, shown };
}

/** `SERVICE IMAGE` of the stack's running containers, sorted. */
const running = (h: TestbedHost): string[] =>
  onHost(
    h,
    `docker ps --filter label=com.docker.compose.project=${STACK} --format '{{.Label "com.docker.compose.service"}} {{.Image}}'`,
  )
    .trim()
    .split('\n')
    .sort();

const summary = (out: string) => JSON.parse(out.trim().split('\n').pop()!) as { changed: number };

/** The canary in no output, file of the state directory, file of Ferry's on the hosts, or process list there. */
function noCanary(hosts: TestbedHost[], dir: string, shown: string[]): void {
  for (const text of shown) assert.equal(text.includes(CANARY), false, 'the canary in an output');
  for (const f of readdirSync(join(dir, 'state'), { recursive: true }).map(String)) {
    const path = join(dir, 'state', f);
    if (statSync(path).isFile()) assert.equal(readFileSync(path).includes(CANARY), false, `the canary in state/${f}`);
  }
  for (const x of hosts) {
    assert.equal(
      onHost(x, `grep -rl ${CANARY} /srv/ferry || true`).trim(),
      '',
      `no file of Ferry on ${x.name} holds it`,
    );
    assert.equal(
      onHost(x, `ls /srv/ferry/${STACK} | grep -c '\\.args$' || true`).trim(),
      '0',
      'the arguments file is gone',
    );
    assert.equal(onHost(x, 'ps -eo args').includes(CANARY), false);
  }
}

describe('images built on the server', { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' }, () => {
  let h: TestbedHost;
  let target: TestbedHost;
  let dir: string;
  let run: (args: string[]) => Promise<Transcript>;
  let shown: string[];
  let first: string;

  before(async () => {
    h = await createFreshHost(HOST);
    target = await createFreshHost(TARGET, 'debian-12');
    for (const x of [h, target]) loadImages(x, ['ferry-tb-app:1']);
    ({ dir, run, shown } = rig(h, target));
  });
  after(async () => {
    await removeFreshHost(HOST);
    await removeFreshHost(TARGET);
  });

  test('apply builds each distinct image once on the server from what .dockerignore leaves, and runs it', async () => {
    const plan = await run(['plan']);
    assert.equal(plan.code, 0, plan.out + plan.err);
    // One build for api and worker (the same context and arguments), one for beat's target.
    assert.match(plan.out, /tbbuild\/build\/api +change +build tbbuild-build:[0-9a-f]{12}\n/);
    assert.match(plan.out, /tbbuild\/build\/beat +change +build tbbuild-build:[0-9a-f]{12}\n/);
    assert.doesNotMatch(plan.out, /build\/worker/);
    const t = await run(['apply', '--yes']);
    assert.equal(t.code, 0, t.out + t.err);
    const r = running(h);
    const tag = /^api (\S+)$/.exec(r[0]!)?.[1];
    assert.match(tag ?? '', /^tbbuild-build:[0-9a-f]{12}$/, r.join('; '));
    assert.equal(r[2], `worker ${tag}`, 'api and worker run the one image built for both');
    assert.match(r[1]!, /^beat tbbuild-build:[0-9a-f]{12}$/);
    assert.notEqual(r[1], `beat ${tag}`);
    first = tag!;
    const inApi = (line: string) => onHost(h, `docker exec ${STACK}-api-1 sh -c ${JSON.stringify(line)}`).trim();
    assert.equal(inApi('cat /srv/build/app.txt'), 'version 1');
    assert.equal(inApi('ls /srv/build'), ['Dockerfile', 'app.txt', 'beat.txt', 'token-seen'].join('\n'));
    assert.equal(
      inApi('cat /srv/build/token-seen'),
      `token of ${CANARY.length} bytes`,
      'the argument reached the build',
    );
    assert.equal(
      onHost(h, `docker image ls --format '{{.Repository}}:{{.Tag}}' ${STACK}-build`).trim().split('\n').length,
      2,
    );
  });

  test('a second apply builds nothing and changes nothing', async () => {
    const t = await run(['apply', '--yes', '--json']);
    assert.equal(t.code, 0, t.out + t.err);
    assert.equal(summary(t.out).changed, 0, t.out);
  });

  test('a changed context is a new image and a new release; rollback runs the image the previous one ran', async () => {
    const release = () => onHost(h, `readlink /srv/ferry/${STACK}/current`).trim();
    const before = release();
    writeFileSync(join(dir, 'app', 'app.txt'), 'version 2\n');
    const t = await run(['apply', '--yes']);
    assert.equal(t.code, 0, t.out + t.err);
    assert.notEqual(release(), before);
    const now = running(h)[0]!.split(' ')[1]!;
    assert.notEqual(now, first);
    assert.equal(onHost(h, `docker exec ${STACK}-api-1 cat /srv/build/app.txt`).trim(), 'version 2');
    const back = await run(['rollback', STACK, '--yes']);
    assert.equal(back.code, 0, back.out + back.err);
    assert.equal(release(), before);
    assert.equal(running(h)[0], `api ${first}`);
    assert.equal(onHost(h, `docker exec ${STACK}-api-1 cat /srv/build/app.txt`).trim(), 'version 1');
  });

  test('a build that fails is image-build-failed; the running release keeps serving', async () => {
    const release = onHost(h, `readlink /srv/ferry/${STACK}/current`).trim();
    const was = running(h);
    appendFileSync(join(dir, 'app', 'Dockerfile'), 'RUN echo "the build breaks here" && false\n');
    writeFileSync(join(dir, 'app', 'app.txt'), 'version 3\n');
    const t = await run(['apply', '--yes']);
    assert.equal(t.code, 1, t.out + t.err);
    assert.match(t.err, /error image-build-failed: bld: docker build of tbbuild-build:[0-9a-f]{12}/);
    assert.match(t.err, /the build breaks here/);
    assert.equal(onHost(h, `readlink /srv/ferry/${STACK}/current`).trim(), release);
    assert.deepEqual(running(h), was);
    assert.equal(onHost(h, `docker exec ${STACK}-api-1 cat /srv/build/app.txt`).trim(), 'version 1');
  });

  test('an image only a pruned release ran is removed with it; the kept releases keep theirs', async () => {
    const tags = () =>
      onHost(h, `docker image ls --format '{{.Repository}}:{{.Tag}}' ${STACK}-build`).trim().split('\n').sort();
    const before = tags();
    // Run by nothing now: version 2's two images (the app's and beat's: a build's tag covers its
    // whole context), and beat's of version 3, whose own build passed before the app's failed.
    const second = before.filter((t) => !running(h).some((r) => r.endsWith(` ${t}`)));
    assert.equal(second.length, 3, `the images of versions 2 and 3 are there: ${before.join(', ')}`);
    writeFileSync(join(dir, 'app', 'Dockerfile'), DOCKERFILE);
    writeFileSync(join(dir, 'app', 'app.txt'), 'version 4\n');
    const t = await run(['apply', '--yes']);
    assert.equal(t.code, 0, t.out + t.err);
    // History: 1, 2, 1 (rollback), 4; two kept: 4 and 1. Version 2's release and images go, and
    // version 3's image that no release ran.
    const after = tags();
    for (const gone of second) assert.equal(after.includes(gone), false, `${gone} removed: ${after.join(', ')}`);
    assert.ok(after.includes(first), 'version 1 is kept, and its image');
    assert.equal(onHost(h, `docker exec ${STACK}-api-1 cat /srv/build/app.txt`).trim(), 'version 4');
  });

  test('ferry migrate moves the stack to a Debian 12 server (Compose v1), building its images there', async () => {
    assert.match(onHost(target, 'docker-compose version --short'), /^1\./, 'the target runs Compose v1');
    const t = await run(['migrate', STACK, '--to', TARGET, '--mode', 'dump', '--yes']);
    assert.equal(t.code, 0, t.out + t.err);
    assert.match(t.err, new RegExp(`${STACK}/build/api .*: changed`));
    const there = running(target);
    assert.deepEqual(
      there.map((r) => r.split(' ')[0]),
      ['api', 'beat', 'worker'],
    );
    assert.match(there[0]!, /^api tbbuild-build:[0-9a-f]{12}$/);
    // Compose v1 names it tbbuild_api_1: found by its labels.
    assert.equal(onHost(target, `docker exec ${containerOf(STACK, 'api')} cat /srv/build/app.txt`).trim(), 'version 4');
    assert.deepEqual(running(h), [''], 'the source runs nothing of it');
  });

  test('the build argument is in no output, state file, file Ferry left on the server or process list', () =>
    noCanary([h, target], dir, shown));
});
