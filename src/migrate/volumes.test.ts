import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../engine/test-helpers.js';
import { render } from '../shell/command.js';
import { RecordingTransport } from '../transport/recording.js';
import { StepError } from '../engine/errors.js';
import { channelFor, type Endpoint } from './channel.js';
import { manifestCommand } from './manifest.js';
import {
  ensureVolumeCommand,
  mountpointCommand,
  parseItemized,
  parseRsyncStats,
  syncCommand,
  syncError,
  syncStep,
  verifyVolumes,
  volumeMountpoint,
  type VolumeCopy,
} from './volumes.js';

const src: Endpoint = { name: 'old', address: '10.0.0.1', port: 22, user: 'root', sudo: false };
const dst: Endpoint = { name: 'new', address: '10.0.0.2', port: 22, user: 'root', sudo: false };
const ch = channelFor('shop', src, dst);
const db: VolumeCopy = {
  name: 'db',
  sourcePath: '/var/lib/docker/volumes/shop_db/_data',
  targetPath: '/var/lib/docker/volumes/shop_db/_data',
};
const E =
  "'ssh -i /root/.ssh/ferry-migrate-shop -o UserKnownHostsFile=/root/.ssh/ferry-migrate-shop.known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 -o Ciphers=aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr -p 22'";
const DRY = render(syncCommand(ch, db, true));
const REAL = render(syncCommand(ch, db));

// Captured on a test bed host: rsync 3.5.0, host1 -> host3 through the channel.
const ITEMIZED_FIRST = `created directory /tmp/ferry-exp-dst
cd+++++++++ ./
<f+++++++++ back\\slash
cL+++++++++ lnk -> d 1/a b
<f+++++++++ new\\#012line
cd+++++++++ d 1/
<f+++++++++ d 1/a b
hf+++++++++ hard => d 1/a b
cd+++++++++ sub/
<f+++++++++ sub/big
`;
const ITEMIZED_CHANGED = `*deleting   back\\slash
.d..t...... ./
<f.st...... hard
<f+++++++++ newf
hf.st...... d 1/a b
<f..t...... sub/big
`;
const STATS_FIRST = `
Number of files: 9 (reg: 5, dir: 3, link: 1)
Number of created files: 9 (reg: 5, dir: 3, link: 1)
Number of deleted files: 0
Number of regular files transferred: 4
Total file size: 3,000,015 bytes
Total transferred file size: 3,000,007 bytes
Literal data: 3,000,007 bytes
Matched data: 0 bytes
File list size: 0
File list generation time: 0.001 seconds
File list transfer time: 0.000 seconds
Total bytes sent: 3,001,181
Total bytes received: 136

sent 3,001,181 bytes  received 136 bytes  2,000,878.00 bytes/sec
total size is 3,000,015  speedup is 1.00
`;
const STATS_AGAIN = STATS_FIRST.replace('Literal data: 3,000,007', 'Literal data: 12,099')
  .replace('Number of regular files transferred: 4', 'Number of regular files transferred: 3')
  .replace('Total bytes sent: 3,001,181', 'Total bytes sent: 19,388');
const NO_SPACE = `rsync: [receiver] write failed on "/tmp/ferry-exp-tiny/sub/big": No space left on device (28)
rsync error: error in file IO (code 11) at receiver.c(657) [receiver=3.5.0]
`;
const UNREACHABLE = `ssh: connect to host 172.19.0.9 port 22: No route to host
rsync: connection unexpectedly closed (0 bytes received so far) [sender]
rsync error: unexplained error (code 255) at io.c(285) [sender=3.5.0]
`;

test('docker volume commands: Compose v1 names and labels', () => {
  assert.equal(render(mountpointCommand('shop_db')), "docker volume inspect --format '{{ .Mountpoint }}' shop_db");
  assert.equal(
    render(ensureVolumeCommand('shop', 'db')),
    'docker volume create --label com.docker.compose.project=shop --label com.docker.compose.volume=db shop_db',
  );
});

test('rsync through the channel: exact lines, and sudo on the target through --rsync-path', () => {
  assert.equal(
    REAL,
    `rsync --stats -aHAX --numeric-ids --delete --inplace -e ${E} /var/lib/docker/volumes/shop_db/_data/ root@10.0.0.2:/var/lib/docker/volumes/shop_db/_data/`,
  );
  assert.equal(
    DRY,
    `rsync -n --itemize-changes -aHAX --numeric-ids --delete --inplace -e ${E} /var/lib/docker/volumes/shop_db/_data/ root@10.0.0.2:/var/lib/docker/volumes/shop_db/_data/`,
  );
  const sudo = channelFor('shop', src, { ...dst, user: 'deploy', sudo: true, address: 'fd00::2' });
  assert.match(
    render(syncCommand(sudo, { name: 'files', sourcePath: '/srv/my files', targetPath: '/srv/my files' })),
    / '--rsync-path=sudo -n rsync' '\/srv\/my files\/' 'deploy@\[fd00::2\]:\/srv\/my files\/'$/,
  );
});

test('itemized changes and --stats as rsync prints them', () => {
  assert.deepEqual(parseItemized(ITEMIZED_FIRST), { send: 4, delete: 0, other: 5 });
  assert.deepEqual(parseItemized(ITEMIZED_CHANGED), { send: 3, delete: 1, other: 2 });
  assert.deepEqual(parseItemized(''), { send: 0, delete: 0, other: 0 });
  assert.deepEqual(parseRsyncStats(STATS_FIRST), { bytesSent: 3001181, literal: 3000007, filesTransferred: 4 });
  assert.deepEqual(parseRsyncStats(STATS_AGAIN), { bytesSent: 19388, literal: 12099, filesTransferred: 3 });
  assert.throws(() => parseRsyncStats('sent 1 bytes'), /no "Total bytes sent"/);
});

test('rsync failures become coded errors: no space, a broken channel, anything else', () => {
  const full = syncError(ch, db, 11, NO_SPACE);
  assert.equal(full.code, 'no-space');
  assert.match(
    full.message,
    /^new: no space left on device while copying db \(old:\/var\/lib\/docker\/volumes\/shop_db\/_data → new:.*\): rsync: \[receiver\] write failed on .*No space left on device \(28\) \/ rsync error: error in file IO/,
  );
  assert.match(full.hint, /^free space on new \(`df -h \/var\/lib\/docker\/volumes\/shop_db\/_data`\)/);
  const lost = syncError(ch, db, 255, UNREACHABLE);
  assert.equal(lost.code, 'sync-failed');
  assert.match(
    lost.message,
    /^old: copying db \(old:.* → new:.*\): rsync failed \(exit 255: the ssh connection failed\):\n.*No route to host/,
  );
  assert.match(lost.hint, /^the channel from old to new broke: check it with `ssh -i /);
  assert.match(syncError(ch, db, 127, 'bash: line 1: rsync: command not found\n').hint, /install rsync on new/);
});

test('check is the dry run: what would be sent per volume, nothing when up to date, everything when the target is not there', async () => {
  const media: VolumeCopy = { name: 'media', sourcePath: '/srv/media', targetPath: '/srv/media' };
  const step = (copies: VolumeCopy[]) => syncStep({ id: 'shop/volumes', ch, copies, phase: 'transfer', dependsOn: [] });
  const t = new RecordingTransport('old')
    .when(DRY, { stdout: ITEMIZED_CHANGED }, { times: 1 })
    .when(DRY, { stdout: '' })
    .when(render(syncCommand(ch, media, true)), {
      code: 11,
      stderr: 'rsync: [Receiver] mkdir "/srv/media" failed: No such file or directory (2)\n',
    });
  const s = step([db, media]);
  assert.deepEqual(await s.check(testContext(t, { step: s })), {
    needed: true,
    change: {
      summary: 'db: 3 files to send, 1 to delete, 2 other changes; media: everything (/srv/media is not on new yet)',
    },
    observed: { copies: [db, media], changed: ['db', 'media'] },
  });
  const one = step([db]);
  assert.deepEqual(await one.check(testContext(t, { step: one })), {
    needed: false,
    observed: { copies: [db], changed: [] },
  });
});

test('apply copies what check resolved, reports bytes sent per volume and stops at the first failure with its code; verify compares manifests on both servers', async () => {
  const sent: number[] = [];
  const resolved: string[] = [];
  const manifest = (s: string) => ({ stdout: `5000 104857600 ${s.repeat(64)}\n` });
  const source = new RecordingTransport('old')
    .when(DRY, { stdout: ITEMIZED_CHANGED })
    .when(REAL, { stdout: STATS_FIRST }, { times: 1 })
    .when(REAL, { code: 11, stderr: NO_SPACE })
    .when(render(manifestCommand(db.sourcePath)), manifest('a'));
  const target = new RecordingTransport('new')
    .when(render(manifestCommand(db.targetPath)), manifest('a'), { times: 1 })
    .when(render(manifestCommand(db.targetPath)), manifest('b'));
  const step = syncStep({
    id: 'shop/volumes',
    ch,
    copies: async (c) => {
      resolved.push(c.on('new').name);
      return [db];
    },
    phase: 'transfer',
    dependsOn: [],
    onBytes: (n) => sent.push(n),
  });
  assert.deepEqual([step.host, step.reaches], ['old', ['new']]);
  const ctx = testContext(source, { step, others: { new: target } });
  const { checked, verified } = await drive(step, ctx);
  assert.deepEqual([resolved, sent, verified], [['new'], [3001181], { ok: true }]);
  assert.deepEqual(source.lines, [DRY, REAL, render(manifestCommand(db.sourcePath))]);
  assert.deepEqual(target.lines, [render(manifestCommand(db.targetPath))]);
  const observed = checked.observed!;
  assert.deepEqual(await step.verify(ctx, observed), {
    ok: false,
    message:
      'db: 5000 files, 104857600 bytes on the source; 5000 files, 104857600 bytes on the target; the manifests differ',
  });
  await assert.rejects(step.apply(ctx, observed), (e: StepError) => e.code === 'no-space');
  assert.deepEqual(sent, [3001181]);
  await step.rollback(ctx, observed);
  assert.equal(source.lines.length, 5, 'rollback changes nothing');
});

test('a first copy of a volume still in use is not compared: a file written meanwhile must not fail the move', async () => {
  const source = new RecordingTransport('old')
    .when(DRY, { stdout: ITEMIZED_CHANGED })
    .when(REAL, { stdout: STATS_FIRST });
  const target = new RecordingTransport('new');
  const step = syncStep({ id: 'shop/precopy', ch, copies: [db], phase: 'transfer', dependsOn: [], live: true });
  const ctx = testContext(source, { step, others: { new: target } });
  const { verified } = await drive(step, ctx);
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(source.lines, [DRY, REAL], 'no manifest read on the source');
  assert.deepEqual(target.lines, [], 'nor on the target');
});

test('verifyVolumes: files, bytes and whether the manifests match, per volume; mountpoints from docker', async () => {
  const source = new RecordingTransport('old')
    .when(render(manifestCommand(db.sourcePath)), { stdout: `3 30 ${'c'.repeat(64)}\n` })
    .when(render(mountpointCommand('shop_db')), { stdout: `${db.sourcePath}\n` })
    .when(render(mountpointCommand('gone')), { code: 1, stderr: 'Error: No such volume: gone\n' });
  const target = new RecordingTransport('new').when(render(manifestCommand(db.targetPath)), {
    stdout: `3 30 ${'c'.repeat(64)}\n`,
  });
  assert.deepEqual(await verifyVolumes({ ch, copies: [db], source, target }), [
    { name: 'db', files: 3, bytes: 30, manifest_match: true },
  ]);
  assert.equal(await volumeMountpoint(source, 'shop_db', false), db.sourcePath);
  await assert.rejects(
    volumeMountpoint(source, 'gone', false),
    (e: StepError) => e.code === 'volume-missing' && e.message === 'old: there is no Docker volume gone',
  );
});
