import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { composeFlavor, engineStep } from './engine.js';

const DOCKER = "docker version --format '{{.Server.Version}}'";
const PLUGIN = 'docker compose version --short 2>/dev/null';
const STANDALONE = 'docker-compose version --short 2>/dev/null';
const INSTALL =
  'apt-get update -qq && env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose && systemctl enable --now docker';
const step = engineStep({ id: 'shop/engine', host: 'web1', sudo: true });

test('engine: Compose missing is installed from the distribution, then both versions are read again', async () => {
  const t = new RecordingTransport('web1')
    .when(DOCKER, { stdout: '24.0.7\n' })
    .when(PLUGIN, { code: 1 }, { times: 1 })
    .when(STANDALONE, { code: 127 }, { times: 1 })
    .when(INSTALL, {})
    .when(PLUGIN, { code: 1 })
    .when(STANDALONE, { stdout: '1.29.2\n' });
  const { checked, verified } = await drive(step, testContext(t));
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'install docker-compose from the distribution', before: 'missing', after: 'docker-compose' },
    observed: { missing: ['docker-compose'] },
  });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(t.lines, [DOCKER, PLUGIN, STANDALONE, INSTALL, DOCKER, PLUGIN, STANDALONE]);
  assert.ok(t.calls.every((c) => c.sudo));
  // Rollback leaves installed packages: it runs nothing.
  await step.rollback(testContext(t), checked.observed!);
  assert.equal(t.lines.length, 7);
});

test('engine: nothing to install when both are there; the flavor is found once per connection', async () => {
  const t = new RecordingTransport('web1')
    .when(DOCKER, { stdout: '24.0.7\n' })
    .when(PLUGIN, { stdout: 'v2.24.0\n' })
    .when(STANDALONE, { code: 127 });
  assert.deepEqual(await step.check(testContext(t)), { needed: false, observed: { missing: [] } });
  assert.equal(await composeFlavor(t, true), 'plugin');
  assert.equal(await composeFlavor(t, true), 'plugin');
  assert.deepEqual(t.lines, [DOCKER, PLUGIN, STANDALONE, DOCKER, PLUGIN, STANDALONE]);
});

test('engine: a failed install is install-failed with its words redacted; a refused docker is permission-denied', async () => {
  const t = new RecordingTransport('web1').when(INSTALL, {
    code: 100,
    stderr: 'E: Unable to fetch http://mirror-pw-canary/\nE: Some index files failed to download\n',
  });
  const ctx = testContext(t);
  ctx.redactor.add('pw-canary');
  await assert.rejects(step.apply(ctx, { missing: ['docker-compose'] }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'install-failed');
    assert.equal(
      e.message,
      'web1: installing docker-compose: failed (exit 100):\nE: Unable to fetch http://mirror-[REDACTED]/\nE: Some index files failed to download',
    );
    return true;
  });
  const refused = new RecordingTransport('web1')
    .when(DOCKER, {
      code: 1,
      stderr: 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock\n',
    })
    .when(PLUGIN, { code: 1 })
    .when(STANDALONE, { code: 1 });
  await assert.rejects(
    step.check(testContext(refused)),
    (e: Error & { code?: string }) => e.code === 'permission-denied',
  );
});
