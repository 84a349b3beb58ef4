import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StepError } from '../../engine/errors.js';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { channelFor } from '../channel.js';
import { holdSteps } from './hold.js';

const ch = channelFor(
  'shop',
  { name: 'old', address: '10.0.0.1', port: 22, user: 'root', sudo: false },
  { name: 'new', address: '10.0.0.2', port: 22, user: 'root', sudo: false },
);
const side = (name: string) => ({ name, sudo: true, transport: () => new RecordingTransport(name) });
const m = { stack: 'shop', ch, source: side('old'), target: side('new') };
const RULE = 'INPUT -p tcp -s 10.0.0.1 --dport 80 -m comment --comment ferry-hold-shop -j DROP';
const line = (op: string): string => `iptables -w ${op} ${RULE}`;
const [INSERT, CHECK, DELETE] = [line('-I'), line('-C'), line('-D')] as const;
const steps = () =>
  holdSteps({
    m,
    holdId: 'shop/migrate/hold',
    releaseId: 'shop/migrate/unhold',
    holdDependsOn: [],
    releaseDependsOn: [],
  });

test('hold inserts the DROP rule for the source; rollback deletes it while -C finds it; release does the same', async () => {
  const t = new RecordingTransport('new')
    .when(CHECK, { code: 1 }, { times: 1 })
    .when(INSERT, {})
    .when(CHECK, {}, { times: 2 })
    .when(DELETE, {})
    .when(CHECK, { code: 1 });
  const { hold, release } = steps();
  const { checked, verified } = await drive(hold, testContext(t, { step: hold }), { rollback: true });
  assert.deepEqual([checked.observed, verified], [{ held: false }, { ok: true }]);
  assert.deepEqual(t.lines, [CHECK, INSERT, CHECK, CHECK, DELETE, CHECK]);
  assert.ok(t.calls.every((c) => c.sudo));

  const r = new RecordingTransport('new').when(CHECK, {}, { times: 2 }).when(DELETE, {}).when(CHECK, { code: 1 });
  const released = await drive(release, testContext(r, { step: release }));
  assert.deepEqual([released.checked.observed, released.verified], [{ held: true }, { ok: true }]);
  assert.deepEqual(r.lines, [CHECK, CHECK, DELETE, CHECK, CHECK]);
});

test('iptables refusing the rule is hold-failed with its words; a rule that never goes is bounded', async () => {
  const t = new RecordingTransport('new')
    .when(CHECK, { code: 1 })
    .when(INSERT, { code: 4, stderr: 'iptables: Permission denied (you must be root).\n' });
  const { hold, release } = steps();
  await assert.rejects(
    drive(hold, testContext(t, { step: hold })),
    (e: StepError) => e.code === 'hold-failed' && /refused the hold rule: iptables: Permission denied/.test(e.message),
  );
  const stuck = new RecordingTransport('new').when(CHECK, {}).when(DELETE, {});
  await assert.rejects(
    release.apply(testContext(stuck, { step: release }), { held: true }),
    (e: StepError) => e.code === 'hold-failed' && /after 10 removals/.test(e.message),
  );
  assert.equal(stuck.lines.filter((l) => l === DELETE).length, 10);
});
