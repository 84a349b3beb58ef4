// Write downtime of a migration: `ferry migrate --mode dump` against `--mode replicate`
// (and `--service db`: only the database moved, to host4, the app staying on host3),
// on the same stack and database (the demo stack with BENCH_ROWS rows of ~100 bytes in a
// table besides the app's), host3 -> host4, in the same run, while a probe writes through
// the source's nginx (GET /health inserts a row; it waits up to 60 s for an answer).
// For each mode: Ferry's reported pause (downtime_ms), the probe's longest gap between two
// acknowledged writes, its slowest answer, and how many requests failed. The stack is
// rolled back to host3 after each migration, so both modes move the same data.
// Its Postgres runs with wal_level=logical from the start, as a user preparing for
// replication would set it (else replicate mode restarts it once, before the pause).
// Run: npm run testbed:up && npm run build && node bench/migrate-downtime.mjs   (BENCH_ROWS)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths, sshArgs, testbedHosts } from '../scripts/testbed/lib.mjs';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const MODES = (process.env.BENCH_MODES ?? 'dump,replicate,service').split(',');
const STACK = 'tbbench';
const DOMAIN = 'tbbench.ferry.test';
const root = fileURLToPath(new URL('..', import.meta.url));
const hosts = testbedHosts();
const [source, target] = [hosts.find((x) => x.name === 'host3'), hosts.find((x) => x.name === 'host4')];
if (!source || !target) throw new Error('needs test bed hosts host3 and host4 (npm run testbed:up)');
const ssh = (h, line) => execFileSync('ssh', [...sshArgs(h), line], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-migrate-'));
const compose = readFileSync(join(root, 'examples/demo/compose.yml'), 'utf8').replace(
  '    image: ferry-tb-postgres:1\n',
  '    image: ferry-tb-postgres:1\n    command: ["postgres", "-c", "wal_level=logical"]\n',
);
writeFileSync(join(dir, 'compose.yml'), compose);
writeFileSync(join(dir, '.env'), 'POSTGRES_PASSWORD=bench-password\n');
const server = (h) => `  ${h.name}: { host: ${h.host}, user: ${h.user}, port: ${h.port}, identity_file: ${paths.key} }`;
writeFileSync(
  join(dir, 'ferry.yml'),
  [
    'servers:',
    server(source),
    server(target),
    'stacks:',
    `  ${STACK}:`,
    `    server: ${source.name}`,
    '    compose: compose.yml',
    `    project: ${STACK}`,
    '    deploy: { health_timeout: 60s, http_checks: [{ service: web, port: 8000, path: /health }] }',
    `    proxy: { domains: [${DOMAIN}], tls: none, routes: [{ service: web, port: 8000 }] }`,
    '',
  ].join('\n'),
);

function ferry(args) {
  return new Promise((resolve) => {
    const c = spawn(
      process.execPath,
      [join(root, 'bin/ferry.js'), ...args, '-f', 'ferry.yml', '--known-hosts', paths.knownHosts],
      { cwd: dir, env: { ...process.env, FERRY_STATE_DIR: join(dir, 'state') }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}
const must = async (args) => {
  const r = await ferry(args);
  if (r.code !== 0) throw new Error(`ferry ${args.join(' ')} failed (exit ${r.code}):\n${r.err}${r.out}`);
  return r;
};

function clean(h) {
  ssh(
    h,
    `ids=$(docker ps -aq --filter label=com.docker.compose.project=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; docker volume rm ${STACK}_db-data >/dev/null 2>&1; ` +
      `rm -rf /srv/ferry/${STACK} /var/lib/ferry/locks/${STACK}.lock /etc/nginx/sites-enabled/ferry-${STACK}.conf /etc/nginx/ferry/${STACK}.upstreams.conf; systemctl reload nginx; ` +
      `systemctl disable --now ferry-firewall-${STACK}-db.service 2>/dev/null; rm -f /etc/systemd/system/ferry-firewall-${STACK}-db.service; systemctl daemon-reload; ` +
      `ufw delete allow proto tcp from ${source.host} to ${h.host} port 5432 comment 'ferry ${STACK}/db' >/dev/null 2>&1; true`,
  );
}

async function migrate(mode) {
  const probe = spawn(process.execPath, [join(root, 'scripts/probe.mjs'), source.host, DOMAIN, '60000'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let lines = '';
  probe.stdout.on('data', (d) => (lines += d));
  await new Promise((r) => setTimeout(r, 2000));
  const r = await must([
    'migrate',
    STACK,
    '--to',
    target.name,
    ...(mode === 'service' ? ['--service', 'db'] : ['--mode', mode]),
    '--yes',
    '--json',
  ]);
  // Until the probe has a write acknowledged after the migration (a request stuck on the
  // source's stopped app waits for nginx's 60 s connect timeout): its gap then spans the pause.
  const ended = Date.now();
  for (
    let i = 0;
    i < 700 && !lines.split('\n').some((l) => l.split(' ')[1] === '200' && Number(l.split(' ')[0]) > ended);
    i++
  )
    await new Promise((r2) => setTimeout(r2, 100));
  probe.kill('SIGTERM');
  await new Promise((r2) => probe.on('close', r2));
  const answers = lines
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .map(([at, status, , took]) => ({ at: Number(at), status: Number(status), took: Number(took) }))
    .filter((a) => !Number.isNaN(a.status));
  const ok = answers.filter((a) => a.status === 200);
  let gap = 0;
  for (let i = 1; i < ok.length; i++) gap = Math.max(gap, ok[i].at - ok[i - 1].at);
  writeFileSync(join(dir, `${mode}.probe`), lines);
  writeFileSync(join(dir, `${mode}.log`), r.err);
  const report = JSON.parse(r.out.trim().split('\n').pop());
  if (!report.verified.tables.every((t) => t.checksum_match)) throw new Error(`${mode}: tables differ`);
  await must(['rollback', STACK, '--yes']);
  return {
    mode,
    downtime: report.downtime_ms,
    gap,
    slowest: Math.max(...answers.map((a) => a.took)),
    requests: answers.length,
    failed: answers.length - ok.length,
    tables: report.verified.tables.length,
  };
}

for (const h of [source, target]) clean(h);
await must(['apply', '--yes']);
ssh(
  source,
  `docker exec $(docker ps -q --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=db | head -1) psql -U demo -d demo -q -c "CREATE TABLE bulk (id bigserial PRIMARY KEY, payload text NOT NULL); INSERT INTO bulk (payload) SELECT md5(g::text) || repeat(chr(65 + g % 26), 60) FROM generate_series(1, ${ROWS}) g"`,
);
const size = ssh(
  source,
  `docker exec $(docker ps -q --filter label=com.docker.compose.project=${STACK} --filter label=com.docker.compose.service=db | head -1) psql -U demo -d demo -At -c "SELECT pg_size_pretty(pg_database_size('demo'))"`,
).trim();
const results = [];
for (const mode of MODES) results.push(await migrate(mode));
for (const h of [source, target]) clean(h);

console.log(
  `\nwrite downtime of a migration, ${ROWS} rows (database ${size}), host3 -> host4, probe through the source's nginx`,
);
console.log('mode       pause (Ferry)  longest gap (probe)  slowest answer  requests  failed');
for (const x of results)
  console.log(
    `${x.mode.padEnd(10)} ${`${x.downtime} ms`.padStart(13)}  ${`${x.gap} ms`.padStart(19)}  ${`${x.slowest} ms`.padStart(14)}  ${String(x.requests).padStart(8)}  ${String(x.failed).padStart(6)}`,
  );
console.log(`(the probe's answers and Ferry's step lines: ${dir})`);
const [dump, rep] = [results.find((x) => x.mode === 'dump'), results.find((x) => x.mode === 'replicate')];
if (dump && rep)
  console.log(
    `replicate's pause is ${(dump.downtime / rep.downtime).toFixed(1)}x shorter than dump's (Ferry's measure), ${(dump.gap / rep.gap).toFixed(1)}x by the probe's longest gap`,
  );
