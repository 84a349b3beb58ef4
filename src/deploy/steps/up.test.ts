import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import type { StepContext } from '../../engine/step.js';
import { RecordingTransport } from '../../transport/recording.js';
import type { Container } from '../containers.js';
import { upStep, type UpStepOptions } from './up.js';

const R = '/srv/ferry/shop/releases';
const L = {
  current: 'readlink /srv/ferry/shop/current 2>/dev/null',
  docker: "docker version --format '{{.Server.Version}}'",
  plugin: 'docker compose version --short 2>/dev/null',
  standalone: 'docker-compose version --short 2>/dev/null',
  inspect: `sh -c 'ids=$(docker ps -aq --filter "$1") || exit; if [ -n "$ids" ]; then docker inspect $ids; else echo '\\''[]'\\''; fi' sh label=com.docker.compose.project=shop`,
  switchTo: (id: string) =>
    `ln -sfn releases/${id} /srv/ferry/shop/current.new; mv -T /srv/ferry/shop/current.new /srv/ferry/shop/current; sh -c 'printf '\\''%s %s\\n'\\'' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" >> "$2"' sh ${id} /srv/ferry/shop/history`,
  compose: (id: string, args: string) => `cd ${R}/${id} && docker compose -p shop -f compose.yml ${args}`,
  meta: (id: string) => `cat ${R}/${id}/.ferry-release.json 2>/dev/null`,
  image: (name: string) => `docker image inspect --format '{{.Id}}' ${name} 2>/dev/null`,
};
const ENGINE = [L.docker, L.plugin, L.standalone];
const HASH = 'a'.repeat(64);

/** `docker inspect` of containers: id, service, status, health, image. */
function inspected(
  cs: { id: string; service: string; status?: string; health?: string; hash?: string; test?: string[] }[],
): string {
  return JSON.stringify(
    cs.map((c) => ({
      Id: c.id.padEnd(64, '0'),
      Name: `/shop-${c.service}-${c.id}`,
      Image: 'sha256:img',
      Config: {
        Image: 'app:1',
        Labels: {
          'com.docker.compose.service': c.service,
          'com.docker.compose.config-hash': c.hash ?? HASH,
        },
        ...(c.test ? { Healthcheck: { Test: c.test } } : {}),
      },
      State: { Status: c.status ?? 'running', ExitCode: 0, ...(c.health ? { Health: { Status: c.health } } : {}) },
      NetworkSettings: { Networks: { shop_default: { IPAddress: `172.20.0.${c.id.length}` } } },
    })),
  );
}

const options = (extra: Partial<UpStepOptions> = {}): UpStepOptions => ({
  id: 'shop/up',
  host: 'web1',
  stack: 'shop',
  project: 'shop',
  release: { id: 'r2', composeFiles: ['compose.yml'] },
  services: [{ name: 'web', replicas: 1, swap: false }],
  healthTimeoutMs: 1000,
  httpChecks: [],
  sudo: false,
  dependsOn: [],
  ...extra,
});

const withEngine = (t: RecordingTransport) =>
  t.when(L.docker, { stdout: '24.0.7\n' }).when(L.plugin, { stdout: '2.24.0\n' }).when(L.standalone, { code: 127 });

test('up: current switched to the new release, compose up, ready; rollback switches back and brings r1 up', async () => {
  const t = withEngine(new RecordingTransport('web1'))
    .when(L.current, { stdout: 'releases/r1\n' }, { times: 1 })
    .when(L.switchTo('r2'), {})
    .when(L.inspect, { stdout: inspected([{ id: 'c1', service: 'web' }]) })
    .when(L.compose('r2', 'up -d --remove-orphans'), {})
    .when(L.compose('r2', "config '--hash=*'"), { stdout: `web ${HASH}\n` })
    .when(L.current, { stdout: 'releases/r2\n' })
    .when(L.switchTo('r1'), {})
    .when(L.meta('r1'), { code: 1 })
    .when(L.compose('r1', 'up -d --remove-orphans'), {});
  const step = upStep(options());
  const { checked, verified } = await drive(step, testContext(t), { rollback: true });
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'current r1 -> r2; up', before: 'r1', after: 'r2' },
    observed: { previous: 'r1', switchCurrent: true },
  });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(t.lines, [
    L.current,
    ...ENGINE,
    L.switchTo('r2'),
    L.inspect,
    L.compose('r2', 'up -d --remove-orphans'),
    // What Compose wrote, recorded beside what `config --hash` says (config-hashes.ts).
    L.inspect,
    L.compose('r2', "config '--hash=*'"),
    L.inspect,
    L.current,
    L.switchTo('r1'),
    L.meta('r1'),
    L.compose('r1', 'up -d --remove-orphans'),
    // The release brought back answers before nginx is pointed at it.
    L.inspect,
  ]);
});

test('up: resumed after the killed run switched current, the release before it is still the one rolled back to', async () => {
  const t = withEngine(new RecordingTransport('web1'))
    .when(L.current, { stdout: 'releases/r2\n' })
    .when(L.compose('r2', "config '--hash=*'"), { stdout: `web ${HASH}\n` })
    .when(L.inspect, { stdout: inspected([{ id: 'c1', service: 'web', status: 'exited' }]) })
    .when(L.image('app:1'), { stdout: 'sha256:img\n' })
    .when(L.switchTo('r1'), {})
    .when(L.meta('r1'), {
      stdout: JSON.stringify({ id: 'r1', project: 'shop', composeFiles: ['old.yml'], services: [] }),
    })
    .when(`cd ${R}/r1 && docker compose -p shop -f old.yml up -d --remove-orphans`, {});
  const step = upStep(options());
  const ctx = testContext(t, { prior: { previous: 'r1', switchCurrent: true } });
  const checked = await step.check(ctx);
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'up: web: not running or not healthy' },
    observed: { previous: 'r1', switchCurrent: false },
  });
  await step.rollback(ctx, checked.observed!);
  const waits = t.lines.slice(
    t.lines.indexOf(`cd ${R}/r1 && docker compose -p shop -f old.yml up -d --remove-orphans`) + 1,
  );
  assert.deepEqual(t.lines, [
    L.current,
    ...ENGINE,
    L.compose('r2', "config '--hash=*'"),
    L.inspect,
    L.image('app:1'),
    L.current,
    L.switchTo('r1'),
    L.meta('r1'),
    `cd ${R}/r1 && docker compose -p shop -f old.yml up -d --remove-orphans`,
    // Waited for until the health timeout (its container stays exited here), then nginx all the same.
    ...waits.map(() => L.inspect),
  ]);
  assert.ok(waits.length > 0);
});

test('up: the rollback of a first deploy removes current and stops the project; before the switch it does nothing', async () => {
  const t = withEngine(new RecordingTransport('web1'))
    .when(L.current, { stdout: 'releases/r2\n' }, { times: 1 })
    .when('rm -f /srv/ferry/shop/current', {})
    .when(L.compose('r2', 'down --remove-orphans'), {})
    .when(L.current, { code: 1 });
  const step = upStep(options());
  await step.rollback(testContext(t), { switchCurrent: true });
  await step.rollback(testContext(t), { switchCurrent: true });
  assert.deepEqual(t.lines, [
    L.current,
    'rm -f /srv/ferry/shop/current',
    ...ENGINE,
    L.compose('r2', 'down --remove-orphans'),
    L.current,
  ]);
});

test('up: compose up that fails is compose-failed, with its words redacted', async () => {
  const t = withEngine(new RecordingTransport('web1'))
    .when(L.inspect, { stdout: '[]' })
    .when(L.compose('r2', 'up -d --remove-orphans'), {
      code: 1,
      stderr: 'Error response from daemon: pull access denied for registry.example/app (token pw-canary)\n',
    });
  const ctx = testContext(t);
  ctx.redactor.add('pw-canary');
  await assert.rejects(upStep(options()).apply(ctx, { switchCurrent: false }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'compose-failed');
    assert.equal(
      e.message,
      'web1: compose up: compose failed (exit 1):\nError response from daemon: pull access denied for registry.example/app (token [REDACTED])',
    );
    return true;
  });
});

test('up: a swap whose new container never becomes healthy removes it and keeps the old one serving', async () => {
  const switched: string[] = [];
  const switchUpstream = async (_ctx: StepContext, service: string, cs: Container[]) => {
    switched.push(`${service} ${cs.map((c) => c.id).join(',')}`);
  };
  const old = { id: 'old', service: 'web', hash: 'b'.repeat(64) };
  const t = withEngine(new RecordingTransport('web1'))
    .when(L.inspect, { stdout: inspected([old]) }, { times: 2 })
    .when(L.compose('r2', "config '--hash=*'"), { stdout: `web ${HASH}\n` })
    .when(L.compose('r2', 'up -d --no-deps --no-recreate --scale web=2 web'), {})
    .when(L.inspect, { stdout: inspected([old, { id: 'new', service: 'web', health: 'unhealthy' }]) })
    .when('docker rm -f new000000000', {});
  const step = upStep(options({ services: [{ name: 'web', replicas: 1, swap: true }], switchUpstream }));
  await assert.rejects(step.apply(testContext(t), { switchCurrent: false }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'health-check-failed');
    assert.match(
      e.message,
      /^web1: the new web of release r2 did not become ready within 1 s: .*the previous web kept serving\.$/,
    );
    return true;
  });
  assert.deepEqual(switched, []);
  assert.deepEqual(t.lines, [
    ...ENGINE,
    L.inspect,
    L.compose('r2', "config '--hash=*'"),
    L.inspect,
    L.compose('r2', 'up -d --no-deps --no-recreate --scale web=2 web'),
    L.inspect,
    'docker rm -f new000000000',
  ]);
});

test('up: a swap that succeeds switches nginx to the new container, then stops and removes the old one', async () => {
  const switched: string[] = [];
  const switchUpstream = async (_ctx: StepContext, service: string, cs: Container[]) => {
    switched.push(`${service} ${cs.map((c) => c.id).join(',')}`);
  };
  const old = { id: 'old', service: 'web', hash: 'b'.repeat(64) };
  const t = withEngine(new RecordingTransport('web1'))
    .when(L.inspect, { stdout: inspected([old]) }, { times: 2 })
    .when(L.compose('r2', "config '--hash=*'"), { stdout: `web ${HASH}\n` })
    .when(L.compose('r2', 'up -d --no-deps --no-recreate --scale web=2 web'), {})
    .when(L.inspect, { stdout: inspected([old, { id: 'new', service: 'web', health: 'healthy' }]) })
    .when('docker stop -t 30 old000000000', {})
    .when('docker rm old000000000', {});
  const step = upStep(options({ services: [{ name: 'web', replicas: 1, swap: true, stopGrace: 30 }], switchUpstream }));
  await step.apply(testContext(t), { switchCurrent: false });
  assert.deepEqual(switched, ['web new000000000']);
  assert.deepEqual(t.lines.slice(-5, -2), [L.inspect, 'docker stop -t 30 old000000000', 'docker rm old000000000']);
  // Then what Compose wrote is recorded beside what `config --hash` says.
  assert.deepEqual(t.lines.slice(-2), [L.inspect, L.compose('r2', "config '--hash=*'")]);
});

test('up: a container still `starting` whose own health test passes now is in step, as the verify counts it; one whose test fails is not', async () => {
  const check = async (code: number) => {
    const t = withEngine(new RecordingTransport('web1'))
      .when(L.current, { stdout: 'releases/r2\n' })
      .when(L.compose('r2', "config '--hash=*'"), { stdout: `web ${HASH}\n` })
      .when(L.inspect, {
        stdout: inspected([
          { id: 'c1', service: 'web', health: 'starting', test: ['CMD', 'curl', '-f', 'http://127.0.0.1/'] },
        ]),
      })
      .when(L.image('app:1'), { stdout: 'sha256:img\n' })
      .when('docker exec shop-web-c1 curl -f http://127.0.0.1/', { code });
    return upStep(options()).check(testContext(t));
  };
  assert.equal((await check(0)).needed, false);
  assert.deepEqual((await check(1)).change, { summary: 'up: web: not running or not healthy' });
});
