import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../engine/test-helpers.js';
import { render } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { timerStateCommand } from './commands.js';
import { nginxStep, renewalTimerStep, webrootStep } from './host-steps.js';

const host = { id: 'shop/proxy/x', host: 'web1', sudo: true, dependsOn: [] };
const ACTIVE =
  'if [ -d /run/systemd/system ]; then systemctl is-active --quiet nginx; else pgrep -x nginx >/dev/null; fi';
const INSTALL = 'apt-get update -qq && env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx';
const START = 'if [ -d /run/systemd/system ]; then systemctl enable --now nginx; else nginx; fi';
const WEBROOT = '/var/www/ferry-acme';
const TIMER = render(timerStateCommand);
const ENABLE = 'systemctl enable --now certbot.timer';
const DISABLE = 'systemctl disable --now certbot.timer';

test('nginx missing: check by nginx -v, apply installs with apt-get and starts it, verify, and rollback leaves it', async () => {
  const t = new RecordingTransport('web1')
    .when('nginx -v', { code: 127, stderr: 'sh: 1: nginx: not found\n' }, { times: 1 })
    .when('nginx -v', { stderr: 'nginx version: nginx/1.22.1\n' })
    .when(ACTIVE, {})
    .when(INSTALL, {})
    .when(START, {});
  const { checked, verified } = await drive(nginxStep(host), testContext(t), { rollback: true });
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'install nginx (apt-get install -y nginx) and start it' },
    observed: { installed: false, active: false },
  });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(t.lines, ['nginx -v', INSTALL, START, 'nginx -v', ACTIVE]);
  assert.ok(t.calls.every((c) => c.sudo));
});

test('nginx installed but stopped: only started', async () => {
  const t = new RecordingTransport('web1')
    .when('nginx -v', {})
    .when(ACTIVE, { code: 3 }, { times: 1 })
    .when(ACTIVE, {})
    .when(START, {});
  const { checked } = await drive(nginxStep(host), testContext(t));
  assert.deepEqual(checked.observed, { installed: true, active: false });
  assert.deepEqual(t.lines, ['nginx -v', ACTIVE, START, 'nginx -v', ACTIVE]);
});

test('apt-get failing is nginx-install-failed, with the host and its last words; nothing is started', async () => {
  const t = new RecordingTransport('web1').when(INSTALL, { code: 100, stderr: 'E: Unable to locate package nginx\n' });
  await assert.rejects(
    nginxStep(host).apply(testContext(t), { installed: false, active: false }),
    (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'nginx-install-failed');
      assert.equal(e.message, 'web1: installing nginx: apt-get failed (exit 100):\nE: Unable to locate package nginx');
      assert.match(e.hint ?? '', /apt-get/);
      return true;
    },
  );
  assert.deepEqual(t.lines, [INSTALL]);
});

test('a start that fails is nginx-start-failed; a specific cause keeps the classifier code', async () => {
  const failing = (stderr: string) => new RecordingTransport('web1').when(START, { code: 1, stderr });
  const codeOf = async (t: RecordingTransport) =>
    nginxStep(host)
      .apply(testContext(t), { installed: true, active: false })
      .then(
        () => 'none',
        (e: Error & { code?: string }) => e.code,
      );
  assert.equal(
    await codeOf(failing('Job for nginx.service failed because the control process exited with error code.\n')),
    'nginx-start-failed',
  );
  assert.equal(await codeOf(failing('Failed to enable unit: Unit nginx.service not found.\n')), 'unit-missing');
});

test('webroot: created when missing, verified, and removed by rollback only when it did not exist before', async () => {
  let exists = false;
  const t = new RecordingTransport('web1')
    .when(`test -e ${WEBROOT}`, () => ({ code: exists ? 0 : 1 }))
    .when(`mkdir -p -m 755 ${WEBROOT}`, () => {
      exists = true;
      return {};
    })
    .when(`rmdir ${WEBROOT} 2>/dev/null`, {});
  const { checked, verified } = await drive(webrootStep(host), testContext(t), { rollback: true });
  assert.deepEqual(checked, { needed: true, change: { summary: `create ${WEBROOT}` }, observed: { existed: false } });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(t.lines, [
    `test -e ${WEBROOT}`,
    `mkdir -p -m 755 ${WEBROOT}`,
    `test -e ${WEBROOT}`,
    `rmdir ${WEBROOT} 2>/dev/null`,
  ]);
  const kept = new RecordingTransport('web1');
  await webrootStep(host).rollback(testContext(kept), { existed: true });
  assert.deepEqual(kept.lines, []);
});

test('webroot: a mkdir that fails is the transport command-failed', async () => {
  const t = new RecordingTransport('web1').when(`mkdir -p -m 755 ${WEBROOT}`, {
    code: 1,
    stderr: `mkdir: cannot create directory '${WEBROOT}': Read-only file system\n`,
  });
  await assert.rejects(webrootStep(host).apply(testContext(t), { existed: false }), /Read-only file system/);
});

test('renewal timer: enabled and started when off, and disabled again by rollback', async () => {
  const t = new RecordingTransport('web1')
    .when(TIMER, { stdout: 'disabled inactive\n' }, { times: 1 })
    .when(TIMER, { stdout: 'enabled active\n' })
    .when(ENABLE, {})
    .when(DISABLE, {});
  const { checked, verified } = await drive(renewalTimerStep(host), testContext(t), { rollback: true });
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: 'enable and start certbot.timer (now: disabled inactive)' },
    observed: { systemd: true, enabled: false, active: false },
  });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(t.lines, [TIMER, ENABLE, TIMER, DISABLE]);
});

test('renewal timer: rollback leaves a timer that was enabled or active before; nothing to do without systemd', async () => {
  const t = new RecordingTransport('web1').when(TIMER, { stdout: 'no-systemd\n' });
  const step = renewalTimerStep(host);
  assert.deepEqual(await step.check(testContext(t)), {
    needed: false,
    observed: { systemd: false, enabled: false, active: false },
  });
  await step.rollback(testContext(t), { systemd: true, enabled: true, active: false });
  await step.rollback(testContext(t), { systemd: false, enabled: false, active: false });
  assert.deepEqual(t.lines, [TIMER]);
});

test('renewal timer: resumed, the state before the first apply comes from prior', async () => {
  const t = new RecordingTransport('web1').when(TIMER, { stdout: 'enabled active\n' });
  const prior = { systemd: true, enabled: false, active: false };
  assert.deepEqual(await renewalTimerStep(host).check(testContext(t, { prior })), { needed: false, observed: prior });
});

test('renewal timer: systemctl failing is systemctl-failed, naming the host and what', async () => {
  const t = new RecordingTransport('web1').when(ENABLE, {
    code: 1,
    stderr: 'Failed to enable unit: Unit file certbot.timer does not exist.\n',
  });
  await assert.rejects(
    renewalTimerStep(host).apply(testContext(t), { systemd: true, enabled: false, active: false }),
    (e: Error & { code?: string }) =>
      e.code === 'systemctl-failed' && e.message.startsWith('web1: enabling certbot.timer: systemctl failed (exit 1)'),
  );
});
