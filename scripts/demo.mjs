// `npm run demo`: starts the test bed (fake VPS hosts on this machine), deploys the demo
// stack (examples/demo) to its first host with `ferry apply`, and prints its URL.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { paths, testbedHosts } from './testbed/lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const step = (what, cmd, args, env = {}) => {
  console.log(`\n== ${what}\n$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`demo: ${what} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
};

step('test bed: fake VPS hosts on this machine', process.execPath, ['scripts/testbed/up.mjs']);
const fleet = ['-f', 'examples/demo/ferry.yml', '--ssh-config', paths.sshConfig, '--known-hosts', paths.knownHosts];
step('plan: what ferry would change', process.execPath, ['bin/ferry.js', 'plan', ...fleet]);
step('apply: deploy the demo stack', process.execPath, ['bin/ferry.js', 'apply', '--yes', ...fleet]);

const host = testbedHosts().find((h) => h.name === 'host1');
const domain = 'demo.ferry.test';
const body = await new Promise((resolve) => {
  const req = request({ host: host.host, port: 80, path: '/', headers: { Host: domain }, timeout: 10_000 }, (res) => {
    let text = '';
    res.on('data', (d) => (text += d));
    res.on('end', () => resolve(`${res.statusCode} ${text.trim()}`));
  });
  req.on('error', (e) => resolve(`error: ${e.message}`));
  req.end();
});
console.log(`\nThe demo stack runs on ${host.name} (${host.host}), behind nginx:`);
console.log(`  URL:   http://${domain}/  (resolve ${domain} to ${host.host})`);
console.log(`  try:   curl -H 'Host: ${domain}' http://${host.host}/`);
console.log(`  said:  ${body}`);
console.log(`\nApply again to see nothing change; APP_VERSION=2 npm run demo swaps the web service without downtime.`);
console.log('`npm run testbed:down` removes the hosts.');
