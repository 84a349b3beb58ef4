// Moving a 1 GiB volume from one server to another, straight between them: Ferry's sync
// step (rsync -aHAX --inplace over its migration channel, with its dry-run check and the
// checksum manifests of both sides as verification) against a raw `tar | ssh tar` pipe
// and a plain `rsync -a`, both run on the source through the same channel key, in the
// same run, each into an emptied target volume. Also times Ferry's second run with
// nothing changed. The source volume (ferry-bench-1g on host1: one 700 MiB random file
// and 300 MiB of 10 KiB files) is made once and kept; the target is removed at the end.
// Run: npm run testbed:up && npm run build && node bench/migrate-volume.mjs   (BENCH_RUNS, default 3)
import { Redactor } from '../dist/core/redact.js';
import { makePlan } from '../dist/engine/plan.js';
import { runPlan } from '../dist/engine/run.js';
import { channelFor, channelSteps, destination, onTarget, sshOptions } from '../dist/migrate/channel.js';
import { volumeManifest } from '../dist/migrate/manifest.js';
import { syncStep, volumeMountpoint } from '../dist/migrate/volumes.js';
import { cmd, render, script } from '../dist/shell/command.js';
import { SshPool } from '../dist/transport/ssh/index.js';
import { sshTarget, testbedHosts } from '../scripts/testbed/lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SOURCE_VOLUME = 'ferry-bench-1g';
const TARGET_VOLUME = 'ferry-bench-1g-target';
const hosts = testbedHosts();
const [h1, h3] = [hosts[0], hosts[2]];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const endpoint = (h) => ({ name: h.name, address: h.host, port: h.port, user: h.user, sudo: false });

const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
const source = pool.get(sshTarget(h1));
const target = pool.get(sshTarget(h3));
const on = async (t, line) => (await t.exec(script(line), { check: true, timeoutMs: 60 * 60_000 })).stdout;
const transports = (name) => (name === h1.name ? source : target);
/** Milliseconds of check, apply and verify in the last run of a step. */
let parts = {};
const run = async (step) => {
  const at = {};
  let error;
  const onEvent = (e) => {
    at[e.kind] ??= Date.parse(e.at);
    if (e.kind === 'step-end' && e.error) error = e.error;
  };
  const s = await runPlan(makePlan([step]), { transports, redactor: new Redactor(), onEvent });
  if (s.failed) throw new Error(`${step.id} failed: ${error?.code}: ${error?.message}`);
  parts = {
    check: at['step-checked'] - at['step-start'],
    apply: at['step-applied'] - at['step-checked'],
    verify: at['step-verified'] - at['step-applied'],
  };
  return s;
};

/** 700 MiB of random data in one file, and 300 directories of 103 files of 10 KiB each (300 MiB). */
const FILL = `set -e; cd "$(docker volume inspect --format '{{ .Mountpoint }}' ${SOURCE_VOLUME})"
if [ ! -f .complete ]; then
  find . -mindepth 1 -delete
  head -c 734003200 /dev/urandom > big.bin
  for d in $(seq 1 300); do mkdir -p "dir $d"; head -c 1048576 /dev/urandom | split -b 10240 -d -a 3 - "dir $d/file "; done
  touch .complete
fi`;

/** Milliseconds of `fn` and of flushing the target's disk after it (every case pays for its writes). */
async function timed(fn, prepare) {
  await prepare?.();
  const t = process.hrtime.bigint();
  await fn();
  await on(target, 'sync');
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const ch = channelFor('bench', endpoint(h1), endpoint(h3));
const { open, close } = channelSteps({ ch, source: () => source, target: () => target, dependsOn: [] });
try {
  await on(source, `docker volume create ${SOURCE_VOLUME} >/dev/null && ${FILL}`);
  await on(target, `docker volume create ${TARGET_VOLUME} >/dev/null`);
  const src = await volumeMountpoint(source, SOURCE_VOLUME, false);
  const dst = await volumeMountpoint(target, TARGET_VOLUME, false);
  const { files, bytes } = await volumeManifest(source, src, false); // also brings the data into the page cache
  await run(open);
  const empty = () => on(target, `find ${dst} -mindepth 1 -delete && sync`);
  const copy = { name: 'data', sourcePath: src, targetPath: dst };
  let sent = 0;
  const ferry = () =>
    run(
      syncStep({
        id: 'bench/volume',
        ch,
        copies: [copy],
        source: () => source,
        target: () => target,
        phase: 'transfer',
        dependsOn: [],
        onBytes: (n) => (sent = n),
      }),
    );
  const tar = () =>
    on(
      source,
      render(
        cmd(
          'bash',
          '-o',
          'pipefail',
          '-c',
          `tar -C ${src} -cf - . | ${render(onTarget(ch, cmd('tar', '-C', dst, '-xf', '-')))}`,
        ),
      ),
    );
  const rsync = () =>
    on(
      source,
      render(
        cmd('rsync', '-a', '-e', render(cmd(...sshOptions(ch))), `${src}/`, `${destination(ch.target, true)}:${dst}/`),
      ),
    );

  // Rounds interleave the cases, so that whatever else the machine does falls on all of them alike.
  const ms = { ferry: [], again: [], tar: [], rsync: [] };
  const splits = [];
  for (let i = 0; i < RUNS; i++) {
    ms.ferry.push(await timed(ferry, empty));
    splits.push(parts);
    ms.again.push(await timed(ferry));
    ms.tar.push(await timed(tar, empty));
    ms.rsync.push(await timed(rsync, empty));
  }
  const [f, again, t, r] = [median(ms.ferry), median(ms.again), median(ms.tar), median(ms.rsync)];
  const split = splits[ms.ferry.indexOf(f)];
  const mbps = (x) => (bytes / 1e6 / (x / 1000)).toFixed(0).padStart(5);
  const range = (xs) => `(${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)})`.padEnd(14);
  const line = (name, xs, x, base) =>
    console.log(
      `${name.padEnd(46)} ${x.toFixed(0).padStart(6)} ms ${range(xs)} ${mbps(x)} MB/s${base ? `   baseline / ferry ${(x / base).toFixed(2)}x` : ''}`,
    );
  console.log(
    `median (min-max) of ${RUNS} runs, node ${process.version}, ${files} files, ${(bytes / 2 ** 20).toFixed(0)} MiB, ${h1.name} -> ${h3.name}; ferry sent ${(sent / 2 ** 20).toFixed(0)} MiB`,
  );
  line('ferry sync step (check, rsync, manifests)', ms.ferry, f);
  console.log(
    `${''.padEnd(46)} median run: check ${split.check} ms, rsync ${split.apply} ms, manifests ${split.verify} ms`,
  );
  line('tar -c | ssh tar -x', ms.tar, t, f);
  line('rsync -a', ms.rsync, r, f);
  console.log(
    `${'ferry again, nothing changed (dry run only)'.padEnd(46)} ${again.toFixed(0).padStart(6)} ms ${range(ms.again)}            first / again ${(f / again).toFixed(1)}x`,
  );
} finally {
  await run({ ...close, dependsOn: [] }).catch((e) => console.error(`closing the channel failed: ${e.message}`));
  await on(target, `docker volume rm -f ${TARGET_VOLUME} >/dev/null`).catch((e) =>
    console.error(`removing ${TARGET_VOLUME} failed: ${e.message}`),
  );
  await pool.close();
}
