import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepError } from '../engine/errors.js';
import { drive, testContext } from '../engine/test-helpers.js';
import { render } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { channelFor, type Endpoint } from './channel.js';
import {
  containerAddressCommand,
  containerPidCommand,
  tunnelAnswersCommand,
  tunnelRunningCommand,
  tunnelStartCommand,
  tunnelStopCommand,
  tunnelSteps,
} from './tunnel.js';

const target: Endpoint = { name: 'new', address: '10.0.0.2', port: 22, user: 'root', sudo: false };
const source: Endpoint = { name: 'old', address: '10.0.0.1', port: 22, user: 'root', sudo: false };
const back = channelFor('shop-replica', target, source);
const steps = () =>
  tunnelSteps({
    id: 'shop/migrate/tunnel/db',
    ch: back,
    service: 'db',
    targetContainer: async () => 'shop_db_1',
    sourceContainer: async (ctx) => (ctx.on('old'), 'shop-old_db_1'),
    dependsOn: [],
    stopId: 'shop/migrate/tunnel-close/db',
    stopDependsOn: ['shop/migrate/cutover/db'],
  });
const ANSWERS = render(tunnelAnswersCommand('shop_db_1'));
const RUNNING = render(tunnelRunningCommand(back, 'db'));
const STOP = render(tunnelStopCommand(back, 'db'));
const START = render(tunnelStartCommand(back, 'db', '4242', '172.18.0.3:5432'));

test('start: the pid of the target database, the address of the source one (over there), ssh -L; rollback stops it', async () => {
  const here = new RecordingTransport('new')
    .when(ANSWERS, { code: 1 }, { times: 1 })
    .when(ANSWERS, {})
    .when(RUNNING, { code: 1 })
    .when(render(containerPidCommand('shop_db_1')), { stdout: '4242\n' })
    .when(START, {})
    .when(STOP, {});
  const there = new RecordingTransport('old').when(render(containerAddressCommand('shop-old_db_1')), {
    stdout: '172.18.0.3 \n',
  });
  const { start, stop } = steps();
  assert.deepEqual(
    [start.host, start.reaches, stop.id, stop.dependsOn],
    ['new', ['old'], 'shop/migrate/tunnel-close/db', ['shop/migrate/cutover/db']],
  );
  const { checked, verified } = await drive(start, testContext(here, { step: start, others: { old: there } }), {
    rollback: true,
  });
  assert.deepEqual([checked.observed, verified], [{ answering: false }, { ok: true }]);
  assert.deepEqual(here.lines, [ANSWERS, RUNNING, render(containerPidCommand('shop_db_1')), START, ANSWERS, STOP]);
  assert.deepEqual(there.lines, [render(containerAddressCommand('shop-old_db_1'))]);
  assert.match(start.doc().verify, /at most 20 times \(5 s\)/);
});

test("start fails with docker's code when the target database's container is gone; stop stops a running tunnel", async () => {
  const here = new RecordingTransport('new')
    .when(ANSWERS, { code: 1 })
    .when(RUNNING, { code: 1 })
    .when(render(containerPidCommand('shop_db_1')), { code: 1, stderr: 'Error: No such container: shop_db_1\n' });
  const { start, stop } = steps();
  await assert.rejects(
    drive(start, testContext(here, { step: start, others: { old: new RecordingTransport('old') } })),
    (e: StepError) => e.code === 'container-missing',
  );
  const t = new RecordingTransport('new').when(RUNNING, {}, { times: 1 }).when(RUNNING, { code: 1 }).when(STOP, {});
  const { checked, verified } = await drive(stop, testContext(t, { step: stop }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{ running: true }, { ok: true }]);
  assert.deepEqual(t.lines, [RUNNING, STOP, RUNNING]);
});
