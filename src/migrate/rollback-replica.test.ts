/**
 * What an unfinished replicated migration left, removed by `ferry rollback`: the exact
 * commands of the target's leftover step (hold rule, tunnels, subscription) and its failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import { drive, testContext } from '../engine/test-helpers.js';
import { RecordingTransport } from '../transport/recording.js';
import { inspectProjectCommand } from '../deploy/compose-cli.js';
import { databases, psql } from './postgres.js';
import * as q from './replica-sql.js';
import { demoCompose, fixture } from './plan-fixture.js';
import { sideOf } from './context.js';
import {
  dropHoldRulesCommand,
  holdRulesCommand,
  leftoverSteps,
  proofFilesCommand,
  removeProofFilesCommand,
  stopTunnelsCommand,
  tunnelsCommand,
} from './rollback-replica.js';

const f = fixture({ compose: demoCompose({ cache: false, files: false }), proxy: false });
const dbs = databases(f.stack.project!.services);
const d = dbs[0]!;
const [target] = leftoverSteps({
  stack: 'shop',
  source: sideOf(f.source, f.move.transports),
  target: sideOf(f.target, f.move.transports),
  sourceProject: 'shop',
  targetProject: 'shop',
  databases: dbs,
  sourceEndpoint: f.move.sourceEndpoint,
  targetEndpoint: f.move.targetEndpoint,
  dependsOn: ['shop/unmigrate/start-source'],
});

const HOLDS = render(holdRulesCommand('shop'));
const TUNNELS = render(tunnelsCommand('shop'));
const PROOFS = render(proofFilesCommand('shop'));
const RM_PROOFS = render(removeProofFilesCommand('shop'));
const INSPECT = render(inspectProjectCommand('shop'));
const EXISTS = render(psql('shop_db_1', d, q.subscriptionExistsSql(d)));
const DETACH = render(psql('shop_db_1', d, q.detachSubscriptionSql(d)));
const running = {
  stdout: JSON.stringify([
    {
      Id: 'db00000000000000',
      Name: '/shop_db_1',
      Config: { Labels: { 'com.docker.compose.service': 'db' } },
      State: { Status: 'running' },
    },
  ]),
};

test('replica-target: finds the hold rule, the tunnels and the subscription, removes them, and finds none left', async () => {
  const t = new RecordingTransport('host2')
    .when(
      HOLDS,
      { stdout: 'iptables -A INPUT -p tcp --dport 80 -m comment --comment ferry-hold-shop -j DROP\n' },
      { times: 1 },
    )
    .when(HOLDS, { stdout: '' })
    .when(TUNNELS, { stdout: '4242\n' }, { times: 1 })
    .when(TUNNELS, { code: 1 })
    .when(PROOFS, { stdout: '/srv/ferry/shop/proof-db.sql\n' }, { times: 1 })
    .when(PROOFS, { stdout: '' })
    .when(RM_PROOFS, {})
    .when(INSPECT, running)
    .when(EXISTS, { stdout: '1\n' }, { times: 2 })
    .when(EXISTS, { stdout: '0\n' })
    .when(DETACH, { stdout: 'ALTER SUBSCRIPTION\n' })
    .when(render(dropHoldRulesCommand('shop')), {})
    .when(render(stopTunnelsCommand('shop')), {});
  const { checked, verified } = await drive(target!, testContext(t, { step: target! }));
  assert.deepEqual(checked, {
    needed: true,
    change: { summary: "remove the hold rule, replication tunnels, the tables' proof files, subscription ferry_db" },
    observed: { left: ['the hold rule', 'replication tunnels', "the tables' proof files", 'subscription ferry_db'] },
  });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(t.lines, [
    HOLDS,
    TUNNELS,
    PROOFS,
    INSPECT,
    EXISTS,
    render(dropHoldRulesCommand('shop')),
    INSPECT,
    EXISTS,
    DETACH,
    render(stopTunnelsCommand('shop')),
    RM_PROOFS,
    HOLDS,
    TUNNELS,
    PROOFS,
    INSPECT,
    EXISTS,
  ]);
});

test('replica-target: after a finished migration nothing is left and nothing is done', async () => {
  const t = new RecordingTransport('host2')
    .when(HOLDS, { stdout: '' })
    .when(TUNNELS, { code: 1 })
    .when(PROOFS, { stdout: '' })
    .when(INSPECT, { stdout: '[]' });
  const { checked } = await drive(target!, testContext(t, { step: target! }));
  assert.deepEqual(checked, { needed: false, observed: { left: [] } });
  assert.deepEqual(t.lines, [HOLDS, TUNNELS, PROOFS, INSPECT]);
});

test('replica-target: psql failing on the subscription is a rollback-failed error naming the container', async () => {
  const t = new RecordingTransport('host2')
    .when(HOLDS, { stdout: '' })
    .when(TUNNELS, { code: 1 })
    .when(PROOFS, { stdout: '' })
    .when(INSPECT, running)
    .when(EXISTS, {
      code: 2,
      stderr: 'psql: error: connection to server on socket failed: No such file or directory\n',
    });
  await assert.rejects(
    target!.check(testContext(t, { step: target! })),
    (e: unknown) => e instanceof StepError && e.code === 'rollback-failed' && /psql in shop_db_1/.test(e.message),
  );
});
