import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret } from '../../core/secret.js';
import { drive, testContext } from '../../engine/test-helpers.js';
import { render } from '../../shell/command.js';
import { RecordingTransport } from '../../transport/recording.js';
import { aptInstall, missingCommands } from '../../deploy/steps/packages.js';
import { watchInstallSteps, watchRemoveStep } from './steps.js';

const W = {
  name: 'shop',
  target: { server: 'web1', sudo: true, stacks: [] },
  thresholds: { cpuPercent: 90, memoryPercent: 90, diskPercent: 90 },
  everyS: 60,
  forS: 3600,
};

test('install: packages first, then every file (the receivers a secret, mode 600), then the timer after them all', () => {
  const steps = watchInstallSteps(W, new Date(0), new Secret('[{"url":"https://hook.test/canary"}]\n'));
  assert.deepEqual(
    steps.map((s) => s.id),
    [
      'watch/shop/web1/packages',
      'watch/shop/web1/watch-run',
      'watch/shop/web1/shop.json',
      'watch/shop/web1/ferry-watch-shop.service',
      'watch/shop/web1/ferry-watch-shop.timer',
      'watch/shop/web1/shop.receivers.json',
      'watch/shop/web1/enable',
    ],
  );
  assert.deepEqual(
    steps.at(-1)!.dependsOn,
    steps.slice(1, -1).map((s) => s.id),
  );
  assert.ok(steps.slice(1, -1).every((s) => s.dependsOn.includes('watch/shop/web1/packages')));
  const doc = JSON.stringify(steps.map((s) => [s.title, s.doc?.()]));
  assert.ok(!doc.includes('canary'), 'the receivers’ URL in the plan');
});

test('packages: only the missing ones are installed, with sudo; then verified', async () => {
  const [packages] = watchInstallSteps(W, new Date(0), new Secret('[]\n'));
  const MISSING = render(missingCommands(['jq', 'curl']));
  const t = new RecordingTransport('web1')
    .when(MISSING, { stdout: 'jq\n' }, { times: 1 })
    .when(render(aptInstall(['jq'])), {})
    .when(MISSING, { stdout: '' });
  const { checked, verified } = await drive(packages!, testContext(t));
  assert.equal(checked.change?.summary, 'apt-get install jq');
  assert.deepEqual(verified, { ok: true });
  assert.ok(t.calls.every((c) => c.sudo));
  const none = new RecordingTransport('web1').when(MISSING, { stdout: '' });
  assert.equal((await packages!.check(testContext(none))).needed, false);
});

test('packages: apt-get failing is install-failed, with the server and a hint', async () => {
  const [packages] = watchInstallSteps(W, new Date(0), new Secret('[]\n'));
  const t = new RecordingTransport('web1')
    .when(render(missingCommands(['jq', 'curl'])), { stdout: 'jq\ncurl\n' })
    .when(render(aptInstall(['jq', 'curl'])), { code: 100, stderr: 'E: Unable to locate package jq' });
  await assert.rejects(drive(packages!, testContext(t)), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'install-failed');
    assert.match(e.message, /^web1: apt-get install jq curl: failed \(exit 100\)/);
    assert.match(e.hint ?? '', /by hand/);
    return true;
  });
});

test('remove: what is there is taken away; nothing there is nothing to do', async () => {
  const step = watchRemoveStep('shop', 'web1', false);
  const present = new RecordingTransport('web1').when(/is-enabled/, {
    stdout: 'enabled ferry-watch-shop.timer\nfile /etc/ferry/watch/shop.json\n',
  });
  const checked = await step.check(testContext(present));
  assert.equal(checked.needed, true);
  assert.match(checked.change?.summary ?? '', /enabled ferry-watch-shop\.timer, file \/etc\/ferry\/watch\/shop\.json/);
  const gone = new RecordingTransport('web1').when(/is-enabled/, { stdout: '' });
  assert.equal((await step.check(testContext(gone))).needed, false);
});
