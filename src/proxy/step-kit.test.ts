import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, memoryStep, testContext } from '../engine/test-helpers.js';
import { cmd } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { around, inspectedStep } from './step-kit.js';

test('around: its commands before and after apply, after rollback, and in the runbook; the inner step is left as it was', async () => {
  const log: string[] = [];
  const world = new Map<string, string>();
  const inner = memoryStep({ id: 'shop/proxy/file', world, value: 'v', log });
  const step = around(inner, {
    sudo: true,
    before: [cmd('mkdir', '-p', '/etc/x')],
    after: [cmd('systemctl', 'daemon-reload')],
  });
  const t = new RecordingTransport('h1').when('mkdir -p /etc/x', {}).when('systemctl daemon-reload', {});
  const { checked } = await drive(step, testContext(t), { rollback: true });
  assert.deepEqual(checked.observed, {});
  assert.deepEqual(t.lines, ['mkdir -p /etc/x', 'systemctl daemon-reload', 'systemctl daemon-reload']);
  assert.ok(t.calls.every((c) => c.sudo));
  assert.deepEqual(log, [
    'check shop/proxy/file',
    'apply shop/proxy/file',
    'verify shop/proxy/file',
    'rollback shop/proxy/file',
  ]);
  assert.equal(world.has('shop/proxy/file'), false);
  assert.deepEqual(step.doc().commands, ['sudo mkdir -p /etc/x', 'sudo systemctl daemon-reload']);
  assert.deepEqual(inner.doc().commands, []);
  assert.notEqual(step, inner);
});

test('around: a failing command before apply stops it before the inner step runs', async () => {
  const world = new Map<string, string>();
  const step = around(memoryStep({ id: 'f', world, value: 'v' }), {
    sudo: false,
    before: [cmd('mkdir', '-p', '/etc/x')],
  });
  const t = new RecordingTransport('h1').when('mkdir -p /etc/x', { code: 1, stderr: 'mkdir: Permission denied\n' });
  await assert.rejects(step.apply(testContext(t), {}), /Permission denied/);
  assert.equal(world.has('f'), false);
});

test('inspectedStep: the inspection gives the change and the observation; verify inspects again', async () => {
  const seen: string[] = [];
  let left: string | undefined = 'do it';
  const step = inspectedStep<{ n: number }>({
    id: 'i',
    host: 'h1',
    title: 't',
    dependsOn: [],
    doc: { purpose: 'p', commands: [], verify: 'v', undo: 'u' },
    async inspect(_ctx, stage) {
      seen.push(stage);
      return { summary: left, observed: { n: seen.length } };
    },
    async apply(_ctx, observed) {
      seen.push(`apply ${observed.n}`);
      left = undefined;
    },
    async rollback(_ctx, observed) {
      seen.push(`rollback ${observed.n}`);
    },
  });
  const { checked, verified } = await drive(step, testContext(new RecordingTransport('h1')), { rollback: true });
  assert.deepEqual(checked, { needed: true, change: { summary: 'do it' }, observed: { n: 1 } });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(seen, ['check', 'apply 1', 'verify', 'rollback 1']);
  assert.equal(step.phase, 'proxy');
});

test('inspectedStep: verify fails with what is still to do', async () => {
  const step = inspectedStep<null>({
    id: 'i',
    host: 'h1',
    title: 't',
    dependsOn: [],
    doc: { purpose: 'p', commands: [], verify: 'v', undo: 'u' },
    inspect: async () => ({ summary: 'start nginx', observed: null }),
    apply: async () => undefined,
  });
  assert.deepEqual(await step.verify(testContext(new RecordingTransport('h1')), null), {
    ok: false,
    message: 'still to do: start nginx',
  });
});
