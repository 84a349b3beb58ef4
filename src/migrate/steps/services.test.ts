import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecret } from '../../core/secret.js';
import { StepError } from '../../engine/errors.js';
import { drive, testContext } from '../../engine/test-helpers.js';
import { render } from '../../shell/command.js';
import { inspectProjectCommand, pluginVersionCommand, dockerVersionCommand } from '../../deploy/compose-cli.js';
import type { ReleaseMeta } from '../../deploy/release-meta.js';
import { RecordingTransport } from '../../transport/recording.js';
import type { ExecOptions } from '../../transport/transport.js';
import type { Command } from '../../shell/command.js';
import { createStep, servicesStateStep, type ServicesStateOptions } from './services.js';

const release: ReleaseMeta = {
  id: 'r1',
  project: 'shop',
  composeFiles: ['compose.yml'],
  services: [
    { name: 'web', replicas: 1, swap: false, stopGrace: 30 },
    { name: 'cache', replicas: 1, swap: false },
  ],
};
const INSPECT = render(inspectProjectCommand('shop'));
const UP = 'cd /srv/ferry/shop/releases/r1 && docker compose -p shop -f compose.yml up -d --no-deps';
const CONFIG = "docker inspect --format '{{json .Config}}' shop_cache_1";
const INFO = 'docker exec shop_cache_1 redis-cli INFO persistence';
const BGSAVE = 'docker exec shop_cache_1 redis-cli BGSAVE';

const containers = (running: Record<string, boolean>) => ({
  stdout: JSON.stringify(
    Object.entries(running).map(([service, up]) => ({
      Id: `${service}0000000000000`,
      Name: `/shop_${service}_1`,
      Config: { Labels: { 'com.docker.compose.service': service } },
      State: { Status: up ? 'running' : 'exited' },
    })),
  ),
});
const persistence = (lastSave: number, inProgress: 0 | 1, status = 'ok') => ({
  stdout: `# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:${inProgress ? 5 : 0}\r\nrdb_bgsave_in_progress:${inProgress}\r\nrdb_last_save_time:${lastSave}\r\nrdb_last_bgsave_status:${status}\r\n`,
});

const freeze = (extra: Partial<ServicesStateOptions> = {}) =>
  servicesStateStep({
    id: 'shop/migrate/freeze',
    stack: 'shop',
    redis: ['cache'],
    side: { name: 'old', sudo: false },
    release,
    services: ['web', 'cache'],
    want: 'stopped',
    phase: 'deploy',
    dependsOn: [],
    title: 'stop the writers on old',
    ...extra,
  });

/** The engine: docker and the compose plugin there. */
const withEngine = (t: RecordingTransport) =>
  t
    .when(render(dockerVersionCommand), { stdout: '24.0.7\n' })
    .when(render(pluginVersionCommand), { stdout: '2.24.0\n' })
    .when(/^docker-compose version/, { code: 127 });

test('the freeze saves Redis (BGSAVE, then INFO until it has ended), stops the writers; rollback starts them', async () => {
  const t = withEngine(new RecordingTransport('old'))
    .when(INSPECT, containers({ web: true, cache: true }), { times: 2 })
    .when(INSPECT, containers({ web: false, cache: false }))
    .when(CONFIG, { stdout: JSON.stringify({ Cmd: ['redis-server', '--save', '60', '1'], Env: ['PATH=/bin'] }) })
    .when(INFO, persistence(100, 0), { times: 1 })
    .when(BGSAVE, { stdout: 'Background saving started\n' })
    .when(INFO, persistence(100, 1), { times: 1 })
    .when(INFO, persistence(101, 0))
    .when(/^docker stop /, {})
    .when('docker start shop_web_1 shop_cache_1', {});
  const step = freeze({ redisSaveTimeoutMs: 5000 });
  const ctx = testContext(t, { step });
  const { checked, verified } = await drive(servicesStateStep(optionsOf(step)), ctx, { rollback: true });
  assert.deepEqual(checked.observed, { changed: ['web', 'cache'] });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(
    t.lines.filter((l) => !/version/.test(l)),
    [
      INSPECT,
      INSPECT,
      CONFIG,
      INFO,
      BGSAVE,
      INFO,
      INFO,
      'docker stop -t 30 shop_web_1',
      'docker stop -t 10 shop_cache_1',
      INSPECT,
      INSPECT,
      'docker start shop_web_1 shop_cache_1',
    ],
  );
  assert.match(step.doc().commands[0]!, /redis-cli BGSAVE, then redis-cli INFO persistence .*at most 5 s/);
});

test('Redis answering NOAUTH with exit status 0 fails the freeze at once: redis-auth-failed, nothing stopped', async () => {
  const t = new RecordingTransport('old')
    .when(INSPECT, containers({ web: true, cache: true }))
    .when(CONFIG, { stdout: JSON.stringify({ Cmd: ['redis-server'], Env: [] }) })
    .when(INFO, { stdout: 'NOAUTH Authentication required.\n' });
  const step = freeze();
  const started = Date.now();
  await assert.rejects(drive(step, testContext(t, { step })), (e: StepError) => {
    assert.equal(e.code, 'redis-auth-failed');
    assert.match(e.message, /^old: redis-cli INFO persistence in shop_cache_1: redis-cli reported an error:\nNOAUTH/);
    return true;
  });
  assert.ok(Date.now() - started < 1000, 'no wait');
  assert.ok(!t.lines.some((l) => /BGSAVE|docker stop/.test(l)));
});

/** A transport that also keeps what each command got on stdin, revealed (what the host would read). */
class StdinKeeping extends RecordingTransport {
  readonly stdin: string[] = [];
  override async exec(c: Command, opts: ExecOptions = {}) {
    if (opts.stdin !== undefined) this.stdin.push(isSecret(opts.stdin) ? opts.stdin.reveal() : String(opts.stdin));
    return super.exec(c, opts);
  }
}

test('a password from --requirepass reaches redis-cli as REDISCLI_AUTH on stdin, never on a command line', async () => {
  const auth = (args: string) =>
    `sh -c 'IFS= read -r REDISCLI_AUTH && export REDISCLI_AUTH && exec docker exec -e REDISCLI_AUTH "$@"' sh shop_cache_1 redis-cli ${args}`;
  const t = new StdinKeeping('old')
    .when(INSPECT, containers({ cache: true }), { times: 2 })
    .when(INSPECT, containers({ cache: false }))
    .when(CONFIG, {
      stdout: JSON.stringify({ Cmd: ['sh', '-c', 'exec redis-server --requirepass "$PW"'], Env: ['PW=s3cret-pw'] }),
    })
    .when(auth('INFO persistence'), persistence(100, 0), { times: 1 })
    .when(auth('BGSAVE'), { stdout: 'Background saving started\n' })
    .when(auth('INFO persistence'), persistence(101, 0))
    .when('docker stop -t 10 shop_cache_1', {});
  const step = freeze({ services: ['cache'] });
  const ctx = testContext(t, { step });
  await drive(step, ctx);
  assert.deepEqual(t.lines.slice(3, 6), [auth('INFO persistence'), auth('BGSAVE'), auth('INFO persistence')]);
  assert.deepEqual(t.stdin, ['s3cret-pw\n', 's3cret-pw\n', 's3cret-pw\n']);
  assert.ok(!t.lines.join('\n').includes('s3cret-pw'));
  assert.equal(ctx.redactor.redact('pw s3cret-pw'), 'pw [REDACTED]', 'the password is redacted from then on');
});

test('a save that does not end within its bound gives up with redis-save-failed, the writers left running', async () => {
  const t = new RecordingTransport('old')
    .when(INSPECT, containers({ cache: true }))
    .when(CONFIG, { stdout: JSON.stringify({ Cmd: ['redis-server'] }) })
    .when(INFO, persistence(100, 0), { times: 1 })
    .when(BGSAVE, { stdout: 'Background saving started\n' })
    .when(INFO, persistence(100, 1));
  const step = freeze({ services: ['cache'], redisSaveTimeoutMs: 300 });
  await assert.rejects(
    drive(step, testContext(t, { step })),
    (e: StepError) => e.code === 'redis-save-failed' && /did not finish BGSAVE within 0 s/.test(e.message),
  );
  assert.ok(!t.lines.some((l) => l.startsWith('docker stop')));
});

test('a failed background save (rdb_last_bgsave_status:err) fails at once', async () => {
  const t = new RecordingTransport('old')
    .when(INSPECT, containers({ cache: true }))
    .when(CONFIG, { stdout: JSON.stringify({ Cmd: ['redis-server'] }) })
    .when(INFO, persistence(100, 0), { times: 1 })
    .when(BGSAVE, { stdout: 'Background saving started\n' })
    .when(INFO, {
      stdout:
        'rdb_changes_since_last_save:7\r\nrdb_bgsave_in_progress:0\r\nrdb_last_save_time:100\r\nrdb_last_bgsave_status:err\r\n',
    });
  const step = freeze({ services: ['cache'] });
  await assert.rejects(drive(step, testContext(t, { step })), (e: StepError) => e.code === 'redis-save-failed');
});

test('starting services: docker start of the stopped containers, the health wait; rollback stops what it started; a resumed run keeps what the killed one changed', async () => {
  const t = withEngine(new RecordingTransport('new'))
    .when(INSPECT, containers({ web: false }), { times: 2 })
    .when(INSPECT, containers({ web: true }))
    .when('docker start shop_web_1', {})
    .when('docker stop -t 30 shop_web_1', {});
  const step = servicesStateStep({
    id: 'shop/migrate/target-db',
    stack: 'shop',
    side: { name: 'new', sudo: false },
    release,
    services: ['web'],
    want: 'running',
    phase: 'transfer',
    dependsOn: [],
    title: 'start web on new',
    healthTimeoutMs: 1000,
  });
  const { checked, verified } = await drive(step, testContext(t, { step }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{ changed: ['web'] }, { ok: true }]);
  assert.deepEqual(
    t.lines.filter((l) => !/version/.test(l)),
    [INSPECT, INSPECT, 'docker start shop_web_1', INSPECT, INSPECT, 'docker stop -t 30 shop_web_1'],
  );
  assert.match(step.doc().verify, /at most 1 s/);

  // Resumed after the killed run started web: nothing to start, but rollback still stops it.
  const again = new RecordingTransport('new').when(INSPECT, containers({ web: true }));
  const resumed = await step.check(testContext(again, { step, prior: { changed: ['web'] } }));
  assert.deepEqual(resumed, {
    needed: true,
    change: { summary: 'web started on new by the interrupted run' },
    observed: { changed: ['web'] },
  });
});

test('a service with no container is created by compose up --no-deps; one that fails is compose-failed with its words', async () => {
  const t = withEngine(new RecordingTransport('new'))
    .when(INSPECT, { stdout: '[]' })
    .when(`${UP} web`, { code: 1, stderr: 'service "web" refers to undefined network front\n' });
  const step = servicesStateStep({ ...optionsOf(freeze()), want: 'running', services: ['web'] });
  await assert.rejects(
    drive(step, testContext(t, { step })),
    (e: StepError) => e.code === 'compose-failed' && /undefined network front/.test(e.message),
  );
});

test('rollback of a stop starts only what is not running again, then points the proxy at it; a later rollback that started them leaves nothing to do', async () => {
  const calls: string[] = [];
  const step = freeze({
    services: ['web'],
    redis: [],
    healthTimeoutMs: 1000,
    afterStart: async () => {
      calls.push('afterStart');
    },
  });
  const t = new RecordingTransport('old')
    .when(INSPECT, containers({ web: false }), { times: 1 })
    .when(INSPECT, containers({ web: true }))
    .when('docker start shop_web_1', {});
  await step.rollback!(testContext(t, { step }), { changed: ['web'] });
  assert.deepEqual(t.lines, [INSPECT, 'docker start shop_web_1', INSPECT]);
  assert.deepEqual(calls, ['afterStart']);

  const already = new RecordingTransport('old').when(INSPECT, containers({ web: true }));
  await step.rollback!(testContext(already, { step }), { changed: ['web'] });
  assert.deepEqual(already.lines, [INSPECT], 'no start, no compose: a later step brought web back already');
  assert.deepEqual(calls, ['afterStart']);
});

test('create: up --no-start for the services without a container; rollback removes the never-started ones', async () => {
  const CREATE = 'cd /srv/ferry/shop/releases/r1 && docker compose -p shop -f compose.yml up --no-start --no-deps web';
  const created = {
    stdout: JSON.stringify([
      {
        Id: 'web0000000000000',
        Name: '/shop_web_1',
        Config: { Labels: { 'com.docker.compose.service': 'web' } },
        State: { Status: 'created' },
      },
    ]),
  };
  const t = withEngine(new RecordingTransport('new'))
    .when(INSPECT, { stdout: '[]' }, { times: 2 })
    .when(INSPECT, created)
    .when(CREATE, {})
    .when('docker rm web000000000', {});
  const step = createStep({
    id: 'shop/migrate/create',
    stack: 'shop',
    side: { name: 'new', sudo: false },
    release,
    services: ['web'],
    dependsOn: [],
  });
  const { checked, verified } = await drive(step, testContext(t, { step }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{ created: ['web'] }, { ok: true }]);
  assert.deepEqual(
    t.lines.filter((l) => !/version/.test(l)),
    [INSPECT, INSPECT, CREATE, INSPECT, INSPECT, 'docker rm web000000000'],
  );

  const failing = withEngine(new RecordingTransport('new'))
    .when(INSPECT, { stdout: '[]' })
    .when(CREATE, { code: 1, stderr: 'Error: no space left on device\n' });
  await assert.rejects(drive(step, testContext(failing, { step })), (e: StepError) => e.code === 'no-space');
});

/** The options a step was made from, as far as the tests need them again. */
function optionsOf(step: ReturnType<typeof freeze>): ServicesStateOptions {
  return {
    id: step.id,
    stack: 'shop',
    redis: ['cache'],
    side: { name: step.host, sudo: false },
    release,
    services: ['web', 'cache'],
    want: 'stopped',
    phase: step.phase,
    dependsOn: step.dependsOn,
    title: step.title,
    redisSaveTimeoutMs: 5000,
  };
}
