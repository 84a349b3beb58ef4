// `npm run demo:migrate`: starts the test bed, makes sure the demo stack runs on host1
// (`ferry apply`), then moves it with its data to host2 (`ferry migrate demo --to host2`)
// while a probe writes through nginx, and prints the migration's --json report and what
// the probe saw. Run it again: it first brings the stack back to host1 (`ferry rollback`).
// `npm run demo:migrate -- --mode replicate` moves Postgres by logical replication instead
// of a dump (the source's database restarts once to enable it, before the pause).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { paths, sshArgs, testbedHosts } from './testbed/lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const modeAt = process.argv.indexOf('--mode');
const mode = modeAt > 0 ? process.argv[modeAt + 1] : 'dump';
const fleet = ['-f', 'examples/demo/ferry.yml', '--ssh-config', paths.sshConfig, '--known-hosts', paths.knownHosts];
const step = (what, args, { capture = false, allowFail = false } = {}) => {
  console.error(`\n== ${what}\n$ ferry ${args.join(' ')}`);
  const r = spawnSync(process.execPath, ['bin/ferry.js', ...args], {
    cwd: root,
    stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'],
    encoding: 'utf8',
  });
  if (r.status !== 0 && !allowFail) {
    console.error(`demo:migrate: ${what} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  return r.stdout ?? '';
};

console.error('== test bed');
if (spawnSync(process.execPath, ['scripts/testbed/up.mjs'], { cwd: root, stdio: 'inherit' }).status !== 0)
  process.exit(1);
const [h1] = testbedHosts();
const moved = spawnSync('ssh', [...sshArgs(h1), 'cat /srv/ferry/demo/migrated-to 2>/dev/null'], {
  encoding: 'utf8',
}).stdout.trim();
if (moved) step(`bring demo back from ${moved} (an earlier run moved it)`, ['rollback', 'demo', '--yes', ...fleet]);
step('deploy the demo stack on host1', ['apply', '--yes', ...fleet]);

const probe = spawn(process.execPath, ['scripts/probe.mjs', h1.host, 'demo.ferry.test', '60000'], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'ignore'],
});
let lines = '';
probe.stdout.on('data', (d) => (lines += d));
await new Promise((r) => setTimeout(r, 1000));
const report = step(
  `move demo to host2 (--mode ${mode}) while a probe writes through host1's nginx`,
  ['migrate', 'demo', '--to', 'host2', '--mode', mode, '--yes', '--json', ...fleet],
  { capture: true },
);
await new Promise((r) => setTimeout(r, 1000));
probe.kill('SIGTERM');
await new Promise((r) => probe.on('close', r));

const answers = lines
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split(' ').map(Number))
  .filter(([, s]) => !Number.isNaN(s));
const ok = answers.filter(([, s]) => s === 200).map(([at]) => at);
let gap = 0;
for (let i = 1; i < ok.length; i++) gap = Math.max(gap, ok[i] - ok[i - 1]);
const slowest = Math.max(0, ...answers.map(([, , , took]) => took || 0));
console.error(
  `\nprobe: ${answers.length} writes tried, ${answers.length - ok.length} failed, slowest answer ${slowest} ms, longest gap between acknowledged writes ${gap} ms`,
);
console.error('migration report (--json):');
process.stdout.write(report);
console.error(
  '\nThe stack now runs on host2; host1 keeps it stopped, with its data. `npx ferry rollback demo --yes -f examples/demo/ferry.yml --ssh-config .testbed/ssh_config --known-hosts .testbed/known_hosts` brings it back.',
);
