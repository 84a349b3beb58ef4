// Live inventory speed on the test bed (`npm run testbed:up` first):
//  1. `ferry inventory --live` of every test bed host (connections included) against the
//     same probe commands run by a sequential `ssh` loop, one invocation per command;
//  2. N commands on one host over Ferry's one reused connection against N separate
//     `ssh` invocations.
// Run: npm run build && node bench/live-inventory.mjs   (BENCH_RUNS, BENCH_COMMANDS)
import { spawnSync } from 'node:child_process';
import { render } from '../dist/shell/command.js';
import { cmd } from '../dist/shell/command.js';
import { PROBES } from '../dist/inventory/live/collect.js';
import { liveInventory } from '../dist/inventory/live/run.js';
import { SshPool } from '../dist/transport/ssh/index.js';
import { sshArgs, sshTarget, testbedHosts } from '../scripts/testbed/lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const N = Number(process.env.BENCH_COMMANDS ?? 50);
const hosts = testbedHosts('debian-13').slice(0, 3);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn) {
  await fn(); // warm-up
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ms);
}

const servers = hosts.map((h) => ({ name: h.name, host: h.host, port: h.port, user: h.user }));
const ssh = (h, line) => {
  const r = spawnSync('ssh', [...sshArgs(h), line], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  // 255 is also a remote command's own exit code (fail2ban-client when stopped); only ssh's messages mean failure.
  if (r.status === 255 && /^(ssh: |Permission denied|Host key verification)/m.test(r.stderr))
    throw new Error(`ssh to ${h.name} failed: ${r.stderr}`);
};

const ferryInventory = await time(async () => {
  const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
  const byName = new Map(hosts.map((h) => [h.name, sshTarget(h)]));
  try {
    const results = await liveInventory(servers, {
      connect: async (s) => ({ transport: pool.get(byName.get(s.name)), user: s.user }),
    });
    const failed = results.filter((r) => r.error);
    if (failed.length) throw new Error(`inventory failed: ${JSON.stringify(failed)}`);
  } finally {
    await pool.close();
  }
});
const sshLoop = await time(async () => {
  for (const h of hosts) for (const p of PROBES) ssh(h, render(p.command));
});

const h = hosts[0];
const ferryCommands = await time(async () => {
  const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
  try {
    const t = pool.get(sshTarget(h));
    for (let i = 0; i < N; i++) await t.exec(cmd('true'));
  } finally {
    await pool.close();
  }
});
const sshCommands = await time(async () => {
  for (let i = 0; i < N; i++) ssh(h, 'true');
});

const row = (name, ferry, base) =>
  `${name.padEnd(52)} ${ferry.toFixed(0).padStart(7)} ms ${base.toFixed(0).padStart(9)} ms ${(base / ferry).toFixed(1).padStart(7)}x`;
console.log(`median of ${RUNS} runs, node ${process.version}, ${hosts.length} hosts`);
console.log(`${'case'.padEnd(52)} ${'ferry'.padStart(10)} ${'baseline'.padStart(12)} ${'speedup'.padStart(8)}`);
console.log(
  row(`inventory, ${hosts.length} hosts x ${PROBES.length} probes vs sequential ssh`, ferryInventory, sshLoop),
);
console.log(row(`${N} commands on one host: one connection vs ${N} ssh`, ferryCommands, sshCommands));
