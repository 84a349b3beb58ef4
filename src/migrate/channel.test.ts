import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../engine/test-helpers.js';
import { cmd, and, render } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { StepError } from '../engine/errors.js';
import {
  authorizeCommand,
  authorizedCountCommand,
  authorizedLine,
  channelError,
  channelFor,
  channelSteps,
  hostKeysCommand,
  keyFilesCommand,
  keygenCommand,
  knownHostsText,
  onTarget,
  probeCommand,
  publicKeyCommand,
  removeKeyCommand,
  sshArgv,
  unauthorizeCommand,
  type Endpoint,
} from './channel.js';

const src: Endpoint = { name: 'old', address: '10.0.0.1', port: 22, user: 'root', sudo: false };
const dst: Endpoint = { name: 'new', address: '10.0.0.2', port: 22, user: 'root', sudo: false };
const ch = channelFor('shop', src, dst);
const PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOJrt/jJU3qTF1/n9mFczQBbTM78wBMI3u/9KosNqIY ferry-migrate-shop\n';
// /etc/ssh/ssh_host_*_key.pub as a test bed host shows them.
const HOST_KEYS = [
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKgCuSRJxmjTozYq4B= root@ferry-tb-host3',
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHfoyiWMbzv8b+ps0hnXktXjw0De8DwWAQyopkcfVHS9 root@ferry-tb-host3',
  '',
].join('\n');
const SSH =
  'ssh -i /root/.ssh/ferry-migrate-shop -o UserKnownHostsFile=/root/.ssh/ferry-migrate-shop.known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 -o Ciphers=aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr -p 22';
const PROBE = `test -f /root/.ssh/ferry-migrate-shop && ${SSH} root@10.0.0.2 true`;

test("the key sits in root's ~/.ssh when Ferry is root or sudo on the source, else in the user's; stack names only", () => {
  assert.deepEqual(
    [ch.keyPath, ch.knownHostsPath],
    ['/root/.ssh/ferry-migrate-shop', '/root/.ssh/ferry-migrate-shop.known_hosts'],
  );
  assert.equal(
    channelFor('shop', { ...src, user: 'deploy', sudo: true }, dst).keyPath,
    '/root/.ssh/ferry-migrate-shop',
  );
  assert.equal(channelFor('shop', { ...src, user: 'deploy' }, dst).keyPath, '/home/deploy/.ssh/ferry-migrate-shop');
  assert.throws(() => channelFor('../x', src, dst), /not a stack name/);
});

test('ssh argv, and a remote command passed as one quoted argument, through sudo -n for a sudo user', () => {
  assert.equal(sshArgv(ch).join(' '), `${SSH} root@10.0.0.2`);
  assert.equal(
    sshArgv(channelFor('shop', src, { ...dst, port: 2222, user: 'deploy' }))
      .slice(-3)
      .join(' '),
    '-p 2222 deploy@10.0.0.2',
  );
  assert.equal(
    render(onTarget(ch, cmd('ls', '/var/lib/my data'))),
    `${SSH} root@10.0.0.2 'ls '\\''/var/lib/my data'\\'''`,
  );
  const sudo = channelFor('shop', src, { ...dst, user: 'deploy', sudo: true });
  assert.equal(render(onTarget(sudo, cmd('true'))).split(' deploy@10.0.0.2 ')[1], "'sudo -n true'");
  assert.equal(
    render(onTarget(sudo, and(cmd('cd', '/a'), cmd('ls')))).split(' deploy@10.0.0.2 ')[1],
    `'sudo -n sh -c '\\''cd /a && ls'\\'''`,
  );
  assert.equal(
    render(onTarget(channelFor('shop', src, { ...dst, sudo: true }), cmd('true'))).endsWith('root@10.0.0.2 true'),
    true,
    'root needs no sudo',
  );
});

test('exact commands on both servers', () => {
  assert.equal(
    render(keygenCommand(ch)),
    "mkdir -p -m 700 /root/.ssh && { test -f /root/.ssh/ferry-migrate-shop || ssh-keygen -q -t ed25519 -N '' -C ferry-migrate-shop -f /root/.ssh/ferry-migrate-shop; }",
  );
  assert.equal(render(probeCommand(ch)), PROBE);
  assert.equal(render(publicKeyCommand(ch)), 'cat /root/.ssh/ferry-migrate-shop.pub');
  assert.equal(render(hostKeysCommand), 'cat /etc/ssh/ssh_host_*_key.pub');
  assert.equal(
    render(authorizeCommand(ch, 'LINE ferry-migrate-shop')),
    'mkdir -p -m 700 /root/.ssh && { test -f /root/.ssh/authorized_keys || install -m 600 /dev/null /root/.ssh/authorized_keys; } && ' +
      "sed --follow-symlinks -i '/ ferry-migrate-shop$/d' /root/.ssh/authorized_keys && { printf '%s\\n' 'LINE ferry-migrate-shop' >> /root/.ssh/authorized_keys; }",
  );
  assert.equal(
    render(unauthorizeCommand(ch)),
    "test '!' -f /root/.ssh/authorized_keys || sed --follow-symlinks -i '/ ferry-migrate-shop$/d' /root/.ssh/authorized_keys",
  );
  assert.equal(
    render(authorizedCountCommand(channelFor('shop', src, { ...dst, user: 'deploy' }))),
    "grep -c -e ' ferry-migrate-shop$' /home/deploy/.ssh/authorized_keys 2>/dev/null",
  );
  assert.equal(
    render(removeKeyCommand(ch)),
    'rm -f /root/.ssh/ferry-migrate-shop /root/.ssh/ferry-migrate-shop.pub /root/.ssh/ferry-migrate-shop.known_hosts',
  );
  assert.equal(
    render(keyFilesCommand(ch)),
    'ls -1d /root/.ssh/ferry-migrate-shop /root/.ssh/ferry-migrate-shop.pub /root/.ssh/ferry-migrate-shop.known_hosts 2>/dev/null',
  );
});

test('the authorized_keys line: from=, restrict and the marker; known hosts in [address]:port form off port 22', () => {
  const key = 'AAAAC3NzaC1lZDI1NTE5AAAAIJOJrt/jJU3qTF1/n9mFczQBbTM78wBMI3u/9KosNqIY';
  assert.equal(authorizedLine(ch, PUB, '10.0.0.1'), `from="10.0.0.1",restrict ssh-ed25519 ${key} ferry-migrate-shop`);
  assert.equal(
    authorizedLine(ch, `ssh-ed25519 ${key} someone@else`, false),
    `restrict ssh-ed25519 ${key} ferry-migrate-shop`,
  );
  assert.throws(
    () => authorizedLine(ch, 'not a key', false),
    (e: StepError) => e.code === 'channel-key-invalid',
  );
  assert.equal(
    knownHostsText(ch, HOST_KEYS),
    [
      '10.0.0.2 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBKgCuSRJxmjTozYq4B=',
      '10.0.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHfoyiWMbzv8b+ps0hnXktXjw0De8DwWAQyopkcfVHS9',
      '',
    ].join('\n'),
  );
  assert.match(
    knownHostsText(channelFor('shop', src, { ...dst, port: 2222 }), HOST_KEYS),
    /^\[10\.0\.0\.2\]:2222 ecdsa-sha2-nistp256 /,
  );
  assert.throws(
    () => knownHostsText(ch, 'cat: /etc/ssh/ssh_host_*_key.pub: No such file or directory\n'),
    (e: StepError) => e.code === 'host-keys-unreadable',
  );
});

test("open: a key on the source, its line on the target, the target's host keys pinned; the private key is never read", async () => {
  const source = new RecordingTransport('old')
    .when(PROBE, { code: 255, stderr: 'Permission denied (publickey).\n' }, { times: 2 })
    .when(PROBE, {})
    .when(render(keygenCommand(ch)), {})
    .when(render(publicKeyCommand(ch)), { stdout: PUB });
  const target = new RecordingTransport('new')
    .when(render(hostKeysCommand), { stdout: HOST_KEYS })
    .when(/^mkdir -p -m 700 \/root\/.ssh && /, {});
  const { open, close } = channelSteps({
    ch,
    dependsOn: ['shop/preflight'],
    closeAfter: ['shop/volumes'],
  });
  assert.deepEqual(
    [open.id, open.host, open.reaches, open.phase, open.dependsOn],
    ['shop/channel/open', 'old', ['new'], 'prepare', ['shop/preflight']],
  );
  const ctx = testContext(source, { step: open, others: { new: target } });
  assert.deepEqual(
    [close.id, close.phase, close.dependsOn],
    ['shop/channel/close', 'verify', ['shop/channel/open', 'shop/volumes']],
  );
  assert.deepEqual(await open.check(ctx), {
    needed: true,
    change: {
      summary:
        "key /root/.ssh/ferry-migrate-shop on old, authorized for root on new from 10.0.0.1; new's host keys pinned",
    },
    observed: { works: false },
  });
  await assert.rejects(
    open.apply(ctx, { works: false }),
    (e: StepError) =>
      e.code === 'channel-failed' &&
      /refused old's key: if new sees old under another address than 10\.0\.0\.1/.test(e.hint),
  );
  await open.apply(ctx, { works: false });
  assert.deepEqual(await open.verify(ctx, { works: false }), { ok: true });
  assert.deepEqual(
    source.calls.slice(1, 5).map((c) => (c.kind === 'exec' ? c.line : `${c.kind} ${c.path}`)),
    [
      render(keygenCommand(ch)),
      render(publicKeyCommand(ch)),
      'upload /root/.ssh/ferry-migrate-shop.known_hosts',
      PROBE,
    ],
  );
  const upload = source.calls.find((c) => c.kind === 'upload');
  assert.ok(upload?.kind === 'upload');
  assert.deepEqual([upload.mode, upload.content], [0o600, knownHostsText(ch, HOST_KEYS)]);
  assert.equal(target.lines[1], render(authorizeCommand(ch, authorizedLine(ch, PUB, '10.0.0.1'))));
  assert.ok(
    target.calls.every((c) => !c.sudo),
    'the target user edits its own authorized_keys',
  );
  const all = [...source.calls, ...target.calls].map((c) => JSON.stringify(c)).join('\n');
  assert.doesNotMatch(all, /cat \/root\/.ssh\/ferry-migrate-shop(?!\.pub)|download/);
});

test('a failed probe says why: a firewall, a changed host key', () => {
  const timeout = channelError(ch, 'ssh: connect to host 10.0.0.2 port 22: Connection timed out\n', '10.0.0.1');
  assert.equal(
    timeout.message,
    'old: cannot reach new over the migration channel: ssh: connect to host 10.0.0.2 port 22: Connection timed out',
  );
  assert.match(
    timeout.hint,
    /allow old through new's firewall to port 22 \(e\.g\. `ufw allow from 10\.0\.0\.1 to any port 22` on new\)/,
  );
  assert.match(
    channelError(ch, 'Host key verification failed.\n', false).hint,
    /differ from its \/etc\/ssh\/ssh_host_\*_key\.pub/,
  );
});

test('a sudo user on the source: key commands through sudo; close removes everything and is idempotent', async () => {
  const sch = channelFor('shop', { ...src, user: 'deploy', sudo: true }, dst);
  const source = new RecordingTransport('old')
    .when(render(keyFilesCommand(sch)), { code: 2, stdout: '/root/.ssh/ferry-migrate-shop\n' }, { times: 1 })
    .when(render(keyFilesCommand(sch)), { code: 2 })
    .when(render(removeKeyCommand(sch)), {});
  const target = new RecordingTransport('new')
    .when(render(authorizedCountCommand(sch)), { stdout: '1\n' }, { times: 1 })
    .when(render(authorizedCountCommand(sch)), { code: 1, stdout: '0\n' })
    .when(render(unauthorizeCommand(sch)), {});
  const { close } = channelSteps({
    ch: sch,
    dependsOn: [],
    openId: 'shop/migrate/channel',
    closeId: 'shop/migrate/channel-close',
  });
  assert.deepEqual([close.id, close.dependsOn], ['shop/migrate/channel-close', ['shop/migrate/channel']]);
  const ctx = testContext(source, { step: close, others: { new: target } });
  const left = ['1 line(s) in new:/root/.ssh/authorized_keys', 'old:/root/.ssh/ferry-migrate-shop'];
  assert.deepEqual(await close.check(ctx), {
    needed: true,
    change: { summary: `remove ${left.join(', ')}` },
    observed: { left },
  });
  await close.apply(ctx, { left });
  assert.deepEqual(await close.verify(ctx, { left }), { ok: true });
  assert.deepEqual(await close.check(ctx), { needed: false, observed: { left: [] } });
  assert.deepEqual(source.lines, [
    render(keyFilesCommand(sch)),
    render(removeKeyCommand(sch)),
    render(keyFilesCommand(sch)),
    render(keyFilesCommand(sch)),
  ]);
  assert.deepEqual(target.lines, [
    render(authorizedCountCommand(sch)),
    render(unauthorizeCommand(sch)),
    render(authorizedCountCommand(sch)),
    render(authorizedCountCommand(sch)),
  ]);
  assert.ok(source.calls.every((c) => c.sudo));
  assert.ok(target.calls.every((c) => !c.sudo));
});

test("open's rollback removes the key's line on the target and its files on the source; permitOpen reads through the step's context", async () => {
  const source = new RecordingTransport('old')
    .when(PROBE, { code: 255, stderr: 'Permission denied (publickey).\n' })
    .when(render(keygenCommand(ch)), {})
    .when(render(publicKeyCommand(ch)), { stdout: PUB })
    .when(render(removeKeyCommand(ch)), {});
  const target = new RecordingTransport('new')
    .when(render(hostKeysCommand), { stdout: HOST_KEYS })
    .when(/^mkdir -p -m 700 \/root\/.ssh && /, {})
    .when(render(unauthorizeCommand(ch)), {});
  const asked: string[] = [];
  const { open } = channelSteps({
    ch,
    dependsOn: [],
    permitOpen: async (c) => {
      asked.push(c.on('new').name);
      return ['172.18.0.3:5432'];
    },
  });
  const ctx = testContext(source, { step: open, others: { new: target } });
  await assert.rejects(drive(open, ctx, { rollback: true }), (e: StepError) => e.code === 'channel-failed');
  await open.rollback(ctx, { works: false });
  assert.deepEqual(asked, ['new']);
  assert.match(target.lines[1]!, /permitopen="172\.18\.0\.3:5432"/);
  assert.equal(target.lines.at(-1), render(unauthorizeCommand(ch)));
  assert.equal(source.lines.at(-1), render(removeKeyCommand(ch)));
});
