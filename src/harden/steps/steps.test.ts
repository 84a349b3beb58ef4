/**
 * The hardening steps other than access, on the recording transport: the exact lines of
 * check, apply, verify and rollback, and a failure path of each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testContext } from '../../engine/test-helpers.js';
import { described, FileHost, sha } from '../../proxy/test-host.js';
import { render } from '../../shell/command.js';
import { RecordingTransport } from '../../transport/recording.js';
import { JAIL_PATH } from '../render/fail2ban.js';
import {
  adminStateCommand,
  adminStep,
  authorizedKeysText,
  sudoersText,
  createUserCommand,
  sudoersPath,
  visudoCommand,
} from './admin.js';
import { configFileStep } from './config-file.js';
import { installCommand, missingCommand, packagesStep } from './packages.js';
import { makeSwapCommand, removeSwapCommand, swapStateCommand, swapStep } from './swap.js';
import { enableSyncCommand, setZoneCommand, timeStateCommand, timeStep } from './time.js';

const PREV = `${JAIL_PATH}.ferry-prev`;

const jail = () =>
  configFileStep({
    id: 'harden/box/fail2ban',
    host: 'box',
    path: JAIL_PATH,
    content: '[sshd]\nport = 2222\n',
    sudo: true,
    dependsOn: [],
    title: 'fail2ban',
    purpose: 'Jails.',
    validate: { kind: 'argv', argv: ['fail2ban-client', '--test'] },
    activate: { kind: 'argv', argv: ['systemctl', 'restart', 'fail2ban'] },
    invalidCode: 'fail2ban-config-invalid',
    failedCode: 'fail2ban-failed',
    hint: 'Read fail2ban-client --test.',
  });

/** A host whose `cp -p` and `mv -f` of the previous copy act on its files. */
function host(files: Record<string, string>) {
  const t = new FileHost('box', files);
  t.when(`cp -p ${JAIL_PATH} ${PREV}`, () => (t.put(PREV, t.fs.get(JAIL_PATH)!), {}));
  t.when(/^sh -c '\[ ! -e "\$2" \] \|\| mv -f "\$2" "\$1"' sh /, () => {
    if (t.fs.has(PREV)) {
      t.put(JAIL_PATH, t.fs.get(PREV)!);
      t.fs.delete(PREV);
    }
    return {};
  });
  t.when('mkdir -p -m 755 /etc/fail2ban/jail.d', {});
  t.when('systemctl restart fail2ban', {});
  return t;
}

test('a config file: the old one kept, the new one judged by its tool, activated; verify; rollback puts the old one back and activates it', async () => {
  const t = host({ [JAIL_PATH]: 'old\n' }).when('fail2ban-client --test', {});
  const s = jail();
  const ctx = testContext(t);
  const c = await s.check(ctx);
  assert.deepEqual(c.observed, { existed: true, hash: sha('old\n'), content: '[sshd]\nport = 2222\n' });
  assert.match(c.change!.summary, /^\/etc\/fail2ban\/jail.d\/ferry-harden.local: sha256 \w{12}… -> \w{12}…$/);
  assert.deepEqual(t.take(), [`sha256sum ${JAIL_PATH}`]);
  await s.apply(ctx, c.observed!);
  assert.deepEqual(t.take(), [
    `sha256sum ${JAIL_PATH}`,
    `cp -p ${JAIL_PATH} ${PREV}`,
    'mkdir -p -m 755 /etc/fail2ban/jail.d',
    `upload ${JAIL_PATH} 644 "[sshd]\\nport = 2222\\n"`,
    'fail2ban-client --test',
    'systemctl restart fail2ban',
  ]);
  assert.deepEqual(await s.verify(ctx, c.observed!), { ok: true });
  assert.deepEqual(t.take(), [`sha256sum ${JAIL_PATH}`, 'fail2ban-client --test']);
  await s.rollback(ctx, c.observed!);
  assert.deepEqual(t.take(), [
    `sha256sum ${JAIL_PATH}`,
    `sha256sum ${PREV}`,
    `sh -c '[ ! -e "$2" ] || mv -f "$2" "$1"' sh ${JAIL_PATH} ${PREV}`,
    'systemctl restart fail2ban',
  ]);
  assert.equal(t.fs.get(JAIL_PATH), 'old\n');
  assert.ok(t.calls.every((x) => x.sudo));
});

test('a config file its tool refuses is never activated: the old one is put back, fail2ban-config-invalid with its words', async () => {
  const t = host({ [JAIL_PATH]: 'old\n' }).when('fail2ban-client --test', {
    code: 255,
    stderr: "ERROR  No section: 'sshd'\nERROR  test failed\n",
  });
  const s = jail();
  const ctx = testContext(t);
  const c = await s.check(ctx);
  await assert.rejects(s.apply(ctx, c.observed!), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'fail2ban-config-invalid');
    assert.equal(
      e.message,
      `box: fail2ban-client --test refused the new ${JAIL_PATH}; the previous file was put back:\nERROR  No section: 'sshd'\nERROR  test failed`,
    );
    assert.equal(e.hint, 'Read fail2ban-client --test.');
    return true;
  });
  assert.equal(t.lines.includes('systemctl restart fail2ban'), false);
  assert.equal(t.fs.get(JAIL_PATH), 'old\n');
});

/** The admin step for user ops with one key and sudo. */
const opsAdmin = (id: string) =>
  adminStep({ id, server: 'box', user: 'ops', keys: ['ssh-ed25519 AAAA me'], sudo: true, dependsOn: [] });

test('the admin user: created, keys and sudo written, sudoers judged by visudo; rollback removes a user Ferry made', async () => {
  const state = render(adminStateCommand('ops'));
  const t = new RecordingTransport('box')
    .when(state, { stdout: '@@id\n@@keys\n@@sudoers\n' })
    .when(render(createUserCommand('ops')), {})
    .when(render(visudoCommand('ops')), {})
    .when(/^sh -c 'rm -f "\$2"; userdel/, {});
  const s = opsAdmin('harden/box/admin');
  const ctx = testContext(t);
  const c = await s.check(ctx);
  assert.deepEqual(c.change, { summary: 'add: user ops, authorized_keys, sudo' });
  assert.deepEqual(c.observed, { existed: false });
  await s.apply(ctx, c.observed!);
  assert.deepEqual(t.calls.slice(1).map(described), [
    'sh -c \'id -u "$1" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash --groups sudo "$1"; home=$(getent passwd "$1" | cut -d: -f6); install -d -m 700 -o "$1" -g "$1" "$home/.ssh"\' sh ops',
    `upload /home/ops/.ssh/authorized_keys 600 ${JSON.stringify(authorizedKeysText(['ssh-ed25519 AAAA me']))}`,
    `upload ${sudoersPath('ops')} 440 ${JSON.stringify(sudoersText('ops'))}`,
    `visudo -c -q -f ${sudoersPath('ops')}`,
  ]);
  assert.ok(
    t.calls.some((x) => x.kind === 'upload' && x.path === '/home/ops/.ssh/authorized_keys' && x.owner === 'ops:ops'),
  );
  await s.rollback(ctx, c.observed!);
  assert.equal(
    t.lines.at(-1),
    `sh -c 'rm -f "$2"; userdel --remove "$1" 2>/dev/null; true' sh ops ${sudoersPath('ops')}`,
  );
});

test('the admin user: a sudoers file visudo refuses is removed, sudoers-invalid', async () => {
  const t = new RecordingTransport('box')
    .when(/^sh -c 'echo @@id/, { stdout: '@@id\n1001\n@@keys\n@@sudoers\n' })
    .when(/useradd/, {})
    .when(render(visudoCommand('ops')), {
      code: 1,
      stderr: '>>> /etc/sudoers.d/ferry-harden-ops: syntax error near line 2 <<<\n',
    })
    .when(`rm -f ${sudoersPath('ops')}`, {});
  const s = opsAdmin('a');
  const ctx = testContext(t);
  const c = await s.check(ctx);
  assert.deepEqual(c.observed, { existed: true });
  await assert.rejects(
    s.apply(ctx, c.observed!),
    /^StepError: box: visudo refused \/etc\/sudoers.d\/ferry-harden-ops: >>> .*syntax error/,
  );
  assert.equal(t.lines.at(-1), `rm -f ${sudoersPath('ops')}`);
});

test('packages: only the missing ones are installed; a failed install is package-install-failed', async () => {
  const t = new RecordingTransport('box').when(render(missingCommand(['ufw', 'fail2ban'])), { stdout: 'fail2ban\n' });
  t.when(render(installCommand(['fail2ban'])), { code: 100, stderr: 'E: Unable to locate package fail2ban\n' });
  const s = packagesStep({ id: 'p', server: 'box', packages: ['ufw', 'fail2ban'], sudo: true });
  const ctx = testContext(t);
  const c = await s.check(ctx);
  assert.deepEqual(c.change, { summary: 'install fail2ban' });
  await assert.rejects(
    s.apply(ctx, c.observed!),
    (e: Error & { code?: string }) => e.code === 'package-install-failed',
  );
  assert.deepEqual(t.lines, [
    render(missingCommand(['ufw', 'fail2ban'])),
    `sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get install -y --no-install-recommends "$@" || { apt-get update -qq && apt-get install -y --no-install-recommends "$@"; }' sh fail2ban`,
  ]);
});

test('swap: made when missing, verified by swapon, removed by rollback; a size that differs is made again', async () => {
  const size = 2 ** 30;
  let active = '';
  const t = new RecordingTransport('box')
    .when(render(swapStateCommand), () => ({ stdout: active }))
    .when(render(makeSwapCommand(size)), () => ((active = `active ${size - 4096}\nfstab\n`), {}))
    .when(render(removeSwapCommand), () => ((active = ''), {}));
  const s = swapStep({ id: 's', server: 'box', bytes: size, sudo: true, dependsOn: [] });
  const ctx = testContext(t);
  const c = await s.check(ctx);
  assert.deepEqual(c.change, { summary: '/swapfile: create; /etc/fstab: add' });
  await s.apply(ctx, c.observed!);
  assert.deepEqual(await s.verify(ctx, c.observed!), { ok: true });
  assert.equal((await s.check(ctx)).needed, false);
  active = 'active 536866816\nfstab\n';
  assert.deepEqual((await s.check(ctx)).change, { summary: `/swapfile: 536866816 -> ${size} bytes` });
  await s.rollback(ctx, c.observed!);
  assert.equal(
    t.lines.at(-1),
    'sh -c \'swapoff "$1" 2>/dev/null; rm -f "$1"; sed -i "\\#^$1 #d" /etc/fstab\' sh /swapfile',
  );
  assert.equal(
    render(makeSwapCommand(size)).split("' sh ")[1],
    `/swapfile ${size}`,
    'the size and the path are arguments, never shell text',
  );
});

test('time: the zone set and timesyncd enabled; rollback puts the zone read before back; an unknown zone is time-failed', async () => {
  let zone = 'Etc/UTC';
  const t = new RecordingTransport('box')
    .when(render(timeStateCommand), () => ({ stdout: `@@zone\n${zone}\n@@sync\ndisabled\n` }))
    .when(render(setZoneCommand('Europe/Paris')), () => ((zone = 'Europe/Paris'), {}))
    .when(render(setZoneCommand('Etc/UTC')), () => ((zone = 'Etc/UTC'), {}))
    .when(render(enableSyncCommand), {})
    .when(render(setZoneCommand('Mars/Olympus')), {
      code: 1,
      stderr: 'no time zone Mars/Olympus in /usr/share/zoneinfo\n',
    });
  const s = timeStep({ id: 't', server: 'box', zone: 'Europe/Paris', sync: true, sudo: true, dependsOn: [] });
  const ctx = testContext(t);
  const c = await s.check(ctx);
  assert.deepEqual(c.change, { summary: 'time zone Etc/UTC -> Europe/Paris; systemd-timesyncd: enable' });
  await s.apply(ctx, c.observed!);
  assert.deepEqual(t.lines.slice(-2), [render(setZoneCommand('Europe/Paris')), render(enableSyncCommand)]);
  await s.rollback(ctx, c.observed!);
  assert.equal(zone, 'Etc/UTC');
  const bad = timeStep({ id: 't', server: 'box', zone: 'Mars/Olympus', sync: false, sudo: true, dependsOn: [] });
  await assert.rejects(
    bad.apply(ctx, (await bad.check(ctx)).observed!),
    (e: Error & { code?: string }) => e.code === 'time-failed',
  );
});
