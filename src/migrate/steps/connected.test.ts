import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import { inspectProjectCommand } from '../../deploy/compose-cli.js';
import { render } from '../../shell/command.js';
import { RecordingTransport } from '../../transport/recording.js';
import { connectedStep } from './connected.js';

const step = connectedStep({
  id: 'shop/migrate/connected',
  host: 'app',
  stack: 'shop',
  project: 'shop',
  placed: { service: 'db', server: 'dbhost', address: '10.1.0.5', allowFrom: '10.1.0.4', port: 5432 },
  services: ['web'],
  sudo: false,
  dependsOn: [],
});
const INSPECT = render(inspectProjectCommand('shop'));
const running = JSON.stringify([
  {
    Id: 'a1',
    Name: '/shop_web_1',
    Config: { Labels: { 'com.docker.compose.service': 'web' } },
    State: { Status: 'running' },
  },
]);
const PID = "docker inspect -f '{{.State.Pid}}' shop_web_1";
const CONNECT = "nsenter -t 4242 -n timeout 3 bash -c 'exec 3<>/dev/tcp/10.1.0.5/5432'";

test('from inside each running container of the services that stayed, a connection to the moved service opens', async () => {
  const t = new RecordingTransport('app')
    .when(INSPECT, { stdout: running })
    .when(PID, { stdout: '4242\n' })
    .when(CONNECT, {});
  const { checked, verified } = await drive(step, testContext(t, { step }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{}, { ok: true }]);
  assert.deepEqual(t.lines, [INSPECT, PID, CONNECT]);
});

test('a connection that does not open fails verify, naming the firewall to look at', async () => {
  const t = new RecordingTransport('app')
    .when(INSPECT, { stdout: running })
    .when(PID, { stdout: '4242\n' })
    .when(CONNECT, { code: 124 });
  const { verified } = await drive(step, testContext(t, { step }));
  assert.equal(verified?.ok, false);
  assert.match(
    verified?.message ?? '',
    /^shop_web_1 cannot open a connection to 10\.1\.0\.5:5432: check dbhost's firewall/,
  );
});
