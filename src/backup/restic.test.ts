import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../shell/command.js';
import { toolFailure } from '../tools/classify.js';
import { repoAccess } from './repos.js';
import {
  checkData,
  manifestBackup,
  probeRepo,
  sftpCommand,
  snapshotIdOf,
  filesBackup,
  type RepoAccess,
} from './restic.js';

const app = { name: 'app', host: '203.0.113.10' };
const vault = { name: 'vault', host: '203.0.113.20', port: 2222, privateAddress: '10.0.0.20' };
const servers = { app, vault };
const local = repoAccess('shop', { name: 'here', path: '/var/backups/shop' }, app, servers);
const offsite = repoAccess('shop', { name: 'offsite', server: 'vault', path: '/srv/restic/shop' }, app, servers);

test('a repository on the stack’s server is its path; the password is read from a file, never given', () => {
  assert.deepEqual(local, { name: 'here', stack: 'shop', url: '/var/backups/shop' });
  assert.equal(
    render(probeRepo(local)),
    'env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password restic -r /var/backups/shop cat config',
  );
  assert.equal(
    render(filesBackup(local, 'volume', '/var/lib/docker/volumes/shop_uploads/_data', 'uploads', 'R1')),
    'env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password restic -r /var/backups/shop backup --json --quiet --host shop ' +
      '--tag ferry --tag stack=shop --tag run=R1 --tag kind=volume --tag source=uploads /var/lib/docker/volumes/shop_uploads/_data',
  );
  assert.equal(
    render(manifestBackup(local, 'R1')),
    'env RESTIC_PASSWORD_FILE=/etc/ferry/backup/shop.password restic -r /var/backups/shop backup --json --quiet --host shop ' +
      '--tag ferry --tag stack=shop --tag run=R1 --tag kind=manifest --stdin-filename manifest.json --stdin',
  );
  assert.equal(render(checkData(local)).endsWith('restic -r /var/backups/shop check --read-data'), true);
});

test('a repository on another server: SFTP through the backup key, pinned host keys, no cipher list restic would cut at its commas', () => {
  const r = offsite as Required<RepoAccess>;
  assert.equal(r.url, 'sftp:root@10.0.0.20:/srv/restic/shop');
  assert.equal(
    sftpCommand(r.channel),
    'ssh -i /root/.ssh/ferry-migrate-shop-backup -o UserKnownHostsFile=/root/.ssh/ferry-migrate-shop-backup.known_hosts ' +
      '-o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 ' +
      '-p 2222 root@10.0.0.20 -s sftp',
  );
  assert.equal(sftpCommand(r.channel).includes(','), false);
  assert.match(
    render(probeRepo(r)),
    /^env RESTIC_PASSWORD_FILE=\S+ restic -r sftp:root@10\.0\.0\.20:\/srv\/restic\/shop -o 'sftp\.command=ssh /,
  );
});

test("the snapshot id is read from restic's summary message", () => {
  const out = [
    'table|public.a|1|x',
    '{"message_type":"status","percent_done":1}',
    '{"message_type":"summary","files_new":1,"snapshot_id":"4b1e0f6c2a"}',
  ].join('\n');
  assert.equal(snapshotIdOf(out), '4b1e0f6c2a');
  assert.equal(snapshotIdOf('{"message_type":"exit_error","code":1}'), undefined);
});

const classify = (code: number, stderr: string) =>
  toolFailure('restic', { code, stdout: '', stderr }, { host: 'app', what: 'opening here', redact: (s) => s });

test("restic's failures keep their meaning as codes (words from restic 0.18)", () => {
  assert.equal(classify(12, 'Fatal: wrong password or no key found\n')?.code, 'backup-wrong-password');
  assert.equal(
    classify(
      10,
      'Fatal: repository does not exist: unable to open config file: stat /x/config: no such file or directory\n',
    )?.code,
    'backup-repository-missing',
  );
  assert.equal(
    classify(
      1,
      'subprocess ssh: root@10.0.0.20: Permission denied (publickey).\nFatal: unable to open repository at sftp:root@10.0.0.20:/x: unable to start the sftp session, error: EOF\n',
    )?.code,
    'backup-repository-unreachable',
  );
  assert.equal(
    classify(1, 'Load(<data/1a2b3c4d>, 0, 0) returned error, retrying after 1s: ciphertext verification failed\n')
      ?.code,
    'backup-corrupt',
  );
  assert.equal(
    classify(11, 'unable to create lock in backend: repository is already locked by PID 7\n')?.code,
    'backup-repository-locked',
  );
  // A bucket that refuses its keys: restic says the repository may be missing, and why.
  for (const why of [
    'Stat(<config/>) failed: Stat: Access Denied.\nFatal: unable to open config file: Stat: Access Denied.\nIs there a repository at the following location?\ns3:https://s3.example.com/b\n',
    'Stat(<config/>) returned error, retrying after 1.25s: Stat: The AWS Access Key Id you provided does not exist in our records.\n',
    'Fatal: unable to open config file: Stat: The request signature we calculated does not match the signature you provided.\n',
  ])
    assert.equal(classify(1, why)?.code, 'backup-repository-unauthorized', why);
  assert.equal(
    classify(
      1,
      'Fatal: unable to open repository at rest:http://shop:***@10.0.0.20:8000/shop/: unexpected HTTP response (401): 401 Unauthorized\n',
    )?.code,
    'backup-repository-unauthorized',
  );
  const other = classify(1, 'Fatal: something else\n');
  assert.equal(other?.code, 'restic-failed');
  assert.match(other!.message, /^app: opening here: restic failed \(exit 1\):\nFatal: something else$/);
  assert.match(classify(12, 'x')!.message, /exit 12: wrong password/);
  assert.equal(classify(0, ''), undefined);
});
