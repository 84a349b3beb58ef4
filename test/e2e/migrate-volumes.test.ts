/**
 * A volume copied from host1 to host3 straight between the servers, through the engine:
 * the channel opened, ~5,000 small files in nested directories with spaces in names, a
 * 100 MB random file, a symlink and a hard link copied with equal manifests on both
 * sides; a second copy after a few changes sends a small fraction; a third finds nothing;
 * a full target disk fails with a coded error; closing leaves no key anywhere.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redactor } from '../../src/core/redact.js';
import { makePlan } from '../../src/engine/plan.js';
import { runPlan } from '../../src/engine/run.js';
import type { RunEvent } from '../../src/engine/events.js';
import type { Step } from '../../src/engine/step.js';
import { render } from '../../src/shell/command.js';
import { SshPool } from '../../src/transport/ssh/index.js';
import type { Transport } from '../../src/transport/transport.js';
import { channelFor, channelSteps, type Endpoint } from '../../src/migrate/channel.js';
import {
  ensureVolumeCommand,
  syncStep,
  verifyVolumes,
  volumeMountpoint,
  type VolumeCopy,
} from '../../src/migrate/volumes.js';
import { onHost, sshTarget, testbedHosts, testbedIsUp, type TestbedHost } from './helpers.js';

const STACK = 'tbmigvol';
const VOLUME = `${STACK}_data`;
const TINY = '/tmp/ferry-tb-migvol-tiny';

/** 50 directories of 100 files each, plus a big random file, a symlink, a hard link, a newline in a name and a numeric owner. */
const FILL = [
  'set -e',
  `cd "$(docker volume inspect --format '{{ .Mountpoint }}' ${VOLUME})"`,
  'for i in $(seq 1 50); do mkdir -p "dir $i/sub $((i % 7))"; done',
  'for i in $(seq 1 5000); do d=$((i % 50 + 1)); printf "file %d\\n" $i > "dir $d/sub $((d % 7))/file $i.txt"; done',
  'head -c 100000000 /dev/urandom > big.bin',
  'ln -s "dir 1/sub 1/file 50.txt" "a link"',
  'ln "dir 2/sub 2/file 1.txt" "hard link.txt"',
  'printf secret > "$(printf "new\\nline")" && chown 1234:2345 "$(printf "new\\nline")" && chmod 640 "$(printf "new\\nline")"',
].join('\n');

/** The big file, "file N\n" for N = 1..5000, the hard link's 7 bytes again, and "secret". */
const BYTES = 100_000_000 + (9 * 7 + 90 * 8 + 900 * 9 + 4001 * 10) + 7 + 6;

/** Three changed, two added, two removed. */
const CHANGE = [
  'set -e',
  `cd "$(docker volume inspect --format '{{ .Mountpoint }}' ${VOLUME})"`,
  'echo more >> "dir 3/sub 3/file 2.txt"; echo more >> "dir 4/sub 4/file 3.txt"; echo more >> "hard link.txt"',
  'printf new > "dir 5/sub 5/added one.txt"; mkdir "dir new"; printf new > "dir new/added two.txt"',
  'rm "dir 6/sub 6/file 5.txt" "dir 7/sub 0/file 6.txt"',
].join('\n');

function cleanHosts(source: TestbedHost, target: TestbedHost): void {
  onHost(
    source,
    `docker volume rm -f ${VOLUME} >/dev/null; rm -f /root/.ssh/ferry-migrate-${STACK} /root/.ssh/ferry-migrate-${STACK}.pub /root/.ssh/ferry-migrate-${STACK}.known_hosts`,
  );
  onHost(
    target,
    `docker volume rm -f ${VOLUME} >/dev/null; sed -i '/ ferry-migrate-${STACK}$/d' /root/.ssh/authorized_keys; ` +
      `if mountpoint -q ${TINY}; then umount ${TINY}; fi; rm -rf ${TINY}`,
  );
}

/** One step run alone: its outcome, the change its check predicted, and its error. */
async function runOne(step: Step, transports: (host: string) => Transport) {
  const events: RunEvent[] = [];
  const summary = await runPlan(makePlan([step]), {
    transports,
    redactor: new Redactor(),
    onEvent: (e) => events.push(e),
  });
  const checked = events.find((e) => e.kind === 'step-checked');
  const end = events.find((e) => e.kind === 'step-end');
  return {
    outcome: summary.outcomes[step.id],
    change: checked?.kind === 'step-checked' ? checked.change?.summary : undefined,
    error: end?.kind === 'step-end' ? end.error : undefined,
  };
}

describe(
  'volume copy from host1 to host3 over the migration channel',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    const hosts = testbedHosts();
    const [h1, h3] = [hosts[0]!, hosts[2]!];
    const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
    const source = pool.get(sshTarget(h1));
    const target = pool.get(sshTarget(h3));
    const ep = (h: TestbedHost): Endpoint => ({
      name: h.name,
      address: h.host,
      port: h.port,
      user: h.user,
      sudo: false,
    });
    const ch = channelFor(STACK, ep(h1), ep(h3));
    const { open, close } = channelSteps({ ch, source: () => source, target: () => target, dependsOn: [] });
    const sent: number[] = [];
    let copy: VolumeCopy;
    const sync = (copies: VolumeCopy[]) =>
      syncStep({
        id: `${STACK}/volumes`,
        ch,
        copies,
        source: () => source,
        target: () => target,
        phase: 'transfer',
        dependsOn: [],
        onBytes: (n) => sent.push(n),
      });

    const run = (step: Step) => runOne(step, (h) => (h === h1.name ? source : target));

    before(async () => {
      cleanHosts(h1, h3);
      onHost(h1, render(ensureVolumeCommand(STACK, 'data')));
      onHost(h1, FILL);
      await target.exec(ensureVolumeCommand(STACK, 'data'), { check: true });
      copy = {
        name: 'data',
        sourcePath: await volumeMountpoint(source, VOLUME, false),
        targetPath: await volumeMountpoint(target, VOLUME, false),
      };
    });
    after(async () => {
      await pool.close();
      cleanHosts(h1, h3);
    });

    test("the channel opens once: a restricted key on host3, host3's keys pinned on host1", async () => {
      assert.deepEqual(await run(open), {
        outcome: 'changed',
        change: `key /root/.ssh/ferry-migrate-${STACK} on host1, authorized for root on host3 from ${h1.host}; host3's host keys pinned`,
        error: undefined,
      });
      assert.match(
        onHost(h3, `grep ' ferry-migrate-${STACK}$' /root/.ssh/authorized_keys`),
        new RegExp(`^from="${h1.host.replace(/\./g, '\\.')}",restrict ssh-ed25519 \\S+ ferry-migrate-${STACK}\\n$`),
      );
      assert.equal(
        onHost(h1, `stat -c '%a' /root/.ssh/ferry-migrate-${STACK} /root/.ssh/ferry-migrate-${STACK}.known_hosts`),
        '600\n600\n',
      );
      assert.equal((await run(open)).outcome, 'ok');
    });

    test('the first copy sends everything; manifests, hard link, symlink and owners are equal on host3', async () => {
      const first = await run(sync([copy]));
      assert.equal(first.outcome, 'changed', JSON.stringify(first.error));
      assert.match(first.change ?? '', /^data: 5002 files to send, 0 to delete, \d+ other changes$/);
      assert.equal(sent.length, 1);
      assert.ok(sent[0]! > 100_000_000, String(sent[0]));
      const [report] = await verifyVolumes({ ch, copies: [copy], source, target });
      assert.deepEqual(report, { name: 'data', files: 5004, bytes: BYTES, manifest_match: true });
      const look = `cd ${copy.targetPath} && stat -c '%h %i' "hard link.txt" | cut -d' ' -f1 && readlink "a link" && stat -c '%u:%g %a' "$(printf 'new\\nline')"`;
      assert.equal(onHost(h3, look), onHost(h1, look.replace(copy.targetPath, copy.sourcePath)));
      assert.equal(onHost(h3, look), `2\ndir 1/sub 1/file 50.txt\n1234:2345 640\n`);
    });

    test('after a few changes the copy sends a small fraction, then nothing is left to do', async () => {
      onHost(h1, CHANGE);
      const second = await run(sync([copy]));
      assert.equal(second.outcome, 'changed', JSON.stringify(second.error));
      assert.match(second.change ?? '', /^data: 5 files to send, 2 to delete, \d+ other changes$/);
      assert.equal(sent.length, 2);
      assert.ok(sent[1]! < sent[0]! / 100, `second copy sent ${sent[1]} bytes, first ${sent[0]}`);
      assert.deepEqual(
        (await verifyVolumes({ ch, copies: [copy], source, target })).map((r) => [r.files, r.manifest_match]),
        [[5004, true]],
      );
      assert.deepEqual(await run(sync([copy])), { outcome: 'ok', change: undefined, error: undefined });
      assert.equal(sent.length, 2);
    });

    test('a target without room fails with no-space, a message naming the host and a hint, and no stack trace', async () => {
      onHost(h3, `mkdir -p ${TINY} && mount -t tmpfs -o size=1m tmpfs ${TINY} && mkdir ${TINY}/data`);
      try {
        const full = await run(sync([{ name: 'data', sourcePath: copy.sourcePath, targetPath: `${TINY}/data` }]));
        assert.equal(full.outcome, 'failed');
        assert.equal(full.error?.code, 'no-space');
        assert.match(
          full.error?.message ?? '',
          /^host3: no space left on device while copying data \(host1:.* → host3:\/tmp\/ferry-tb-migvol-tiny\/data\): .*No space left on device/,
        );
        assert.match(full.error?.hint ?? '', /^free space on host3/);
        assert.doesNotMatch(JSON.stringify(full.error), /\\n\s+at /);
      } finally {
        onHost(h3, `umount ${TINY} && rmdir ${TINY}`);
      }
    });

    test('closing removes the key line from host3 and the key files from host1; closing again changes nothing', async () => {
      const alone = { ...close, dependsOn: [] };
      assert.equal((await run(alone)).outcome, 'changed');
      assert.equal(onHost(h3, `grep -c ' ferry-migrate-${STACK}$' /root/.ssh/authorized_keys || true`), '0\n');
      assert.equal(onHost(h1, `ls /root/.ssh | grep -c ferry-migrate-${STACK} || true`), '0\n');
      assert.equal((await run(alone)).outcome, 'ok');
    });
  },
);
