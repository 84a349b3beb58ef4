import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { unitText } from '../firewall.js';
import type { Placed } from '../split.js';
import { firewallStep } from './firewall.js';

const p: Placed = { service: 'db', server: 'db', address: '10.0.0.3', allowFrom: '10.0.0.2', port: 5432 };
const UNIT = 'ferry-firewall-shop-db.service';
const PATH = `/etc/systemd/system/${UNIT}`;
const TEXT = unitText('shop', p);
const RULE =
  "iptables -w -C DOCKER-USER -p tcp -m conntrack --ctorigdst 10.0.0.3 --ctorigdstport 5432 --ctdir ORIGINAL '!' -s 10.0.0.2 -m comment --comment ferry-shop-db -j DROP";
const UFW_LINE = "ufw allow from 10.0.0.2 to 10.0.0.3 port 5432 proto tcp comment 'ferry shop/db'";
const L = {
  systemd: 'systemctl --version 2>/dev/null',
  read: `cat ${PATH} 2>/dev/null`,
  enabled: `systemctl is-enabled ${UNIT} 2>/dev/null`,
  rule: `${RULE} 2>/dev/null`,
  hasUfw: "sh -c 'command -v ufw' 2>/dev/null",
  ufwShow: 'ufw show added 2>/dev/null',
  write: `cat > ${PATH}`,
  start: `systemctl daemon-reload; { systemctl enable ${UNIT} && systemctl restart ${UNIT}; }`,
  allow:
    "flock -w 60 /run/ferry-ufw.lock ufw allow proto tcp from 10.0.0.2 to 10.0.0.3 port 5432 comment 'ferry shop/db'",
  removeUnit: `sh -c 'systemctl disable --now "$1" 2>/dev/null; rm -f "$2"; systemctl daemon-reload' sh ${UNIT} ${PATH}`,
  deleteUfw:
    "flock -w 60 /run/ferry-ufw.lock ufw delete allow proto tcp from 10.0.0.2 to 10.0.0.3 port 5432 comment 'ferry shop/db' 2>/dev/null",
};
const CHECK = [L.systemd, L.read, L.enabled, L.rule, L.hasUfw, L.ufwShow];
const step = firewallStep({ id: 'shop/db/firewall', host: 'db', stack: 'shop', placed: p, sudo: true, dependsOn: [] });

test('firewall: a new unit, its rule and the ufw allowance, verified, and rolled back to nothing', async () => {
  const t = new RecordingTransport('db')
    .when(L.systemd, { stdout: 'systemd 252\n' })
    .when(L.read, { code: 1 }, { times: 2 })
    .when(L.enabled, { stdout: 'not-found\n' }, { times: 1 })
    .when(L.rule, { code: 1 }, { times: 1 })
    .when(L.hasUfw, { stdout: '/usr/sbin/ufw\n' })
    .when(L.ufwShow, { stdout: 'Added user rules:\n' }, { times: 2 })
    .when(L.write, {})
    .when(L.start, {})
    .when(L.allow, {})
    .when(L.read, { stdout: TEXT })
    .when(L.enabled, { stdout: 'enabled\n' })
    .when(L.rule, {})
    .when(L.ufwShow, { stdout: `Added user rules:\n${UFW_LINE}\n` })
    .when(L.removeUnit, {})
    .when(L.deleteUfw, {});
  const { checked, verified } = await drive(step, testContext(t), { rollback: true });
  assert.deepEqual(checked, {
    needed: true,
    change: {
      summary: `add: unit ${UNIT}, ${UNIT} enabled, DOCKER-USER drop of 10.0.0.3:5432 except from 10.0.0.2, ufw allow`,
    },
    observed: { unitExisted: false, ufwAdds: true },
  });
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(t.lines, [
    ...CHECK,
    L.read,
    L.write,
    L.start,
    L.hasUfw,
    L.ufwShow,
    L.allow,
    ...CHECK,
    L.removeUnit,
    L.deleteUfw,
  ]);
  assert.deepEqual(
    t.calls.filter((c) => c.kind === 'exec' && c.line === L.write).map((c) => c.kind === 'exec' && c.stdin),
    [TEXT],
  );
  assert.ok(t.calls.every((c) => c.sudo));
});

test('firewall: on resume, what was there before the killed run decides the undo; a unit there before stays', async () => {
  const t = new RecordingTransport('db')
    .when(L.systemd, { stdout: 'systemd 252\n' })
    .when(L.read, { stdout: TEXT })
    .when(L.enabled, { stdout: 'enabled\n' })
    .when(L.rule, {})
    .when(L.hasUfw, { code: 1 });
  const resumed = await step.check(testContext(t, { prior: { unitExisted: false, ufwAdds: false } }));
  assert.deepEqual(resumed, { needed: false, observed: { unitExisted: false, ufwAdds: false } });
  await step.rollback(testContext(t), { unitExisted: true, ufwAdds: false });
  assert.deepEqual(t.lines, [L.systemd, L.read, L.enabled, L.rule, L.hasUfw]);
});

test('firewall: a unit that does not start is firewall-failed; a server without systemd is no-systemd', async () => {
  const t = new RecordingTransport('db')
    .when(L.read, { code: 1 })
    .when(L.write, {})
    .when(L.start, { code: 1, stderr: `Job for ${UNIT} failed because the control process exited with error code.\n` });
  await assert.rejects(
    step.apply(testContext(t), { unitExisted: false, ufwAdds: false }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'firewall-failed');
      assert.equal(
        e.message,
        `db: starting ${UNIT}: systemctl failed (exit 1):\nJob for ${UNIT} failed because the control process exited with error code.`,
      );
      return true;
    },
  );
  assert.deepEqual(t.lines, [L.read, L.write, L.start]);
  const bare = new RecordingTransport('db').when(L.systemd, { code: 127 });
  await assert.rejects(step.check(testContext(bare)), { code: 'no-systemd' });
});
