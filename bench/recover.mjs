// Recovering a stack onto a new server when its own is gone: `ferry recover STACK --to
// SERVER` (deploy there, restore the latest backup from the off-site restic repository over
// SFTP, prove every table and file) against the runbook's way, in the same run, on the same
// data: the night's `pg_dump | gzip` and `tar czf` copied to the vault, then on a new
// server `scp` from the vault, `docker compose up -d`, `gunzip | psql`, `tar xzf`.
// The stack runs on host1 and backs up to host2; Ferry recovers onto host3, the hand way
// onto host4. In Ferry's fleet file host1 answers nowhere (it is gone).
// Run: npm run testbed:up && npm run build && node bench/recover.mjs   (BENCH_PG_MB, BENCH_FILES_MB: default 512 each)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths, sshArgs, testbedHosts } from '../scripts/testbed/lib.mjs';

const PG_MB = Number(process.env.BENCH_PG_MB ?? 512);
const FILES_MB = Number(process.env.BENCH_FILES_MB ?? 512);
const STACK = 'tbbenchrc';
const REPO = `/var/backups/ferry-bench/${STACK}`;
const HAND = `/var/backups/hand-bench/${STACK}`;
const root = fileURLToPath(new URL('..', import.meta.url));
const byName = (n) => {
  const h = testbedHosts('debian-13').find((x) => x.name === n);
  if (!h) throw new Error(`needs test bed host ${n} (npm run testbed:up)`);
  return h;
};
const [app, vault, fresh, handHost] = ['host1', 'host2', 'host3', 'host4'].map(byName);
const on = (h, line, input) =>
  execFileSync('ssh', [...sshArgs(h), line], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 }).trim();
const timed = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const COMPOSE = [
  'services:',
  '  db:',
  '    image: ferry-tb-postgres:1',
  '    environment: { POSTGRES_USER: shop, POSTGRES_DB: shop, POSTGRES_PASSWORD: bench-password }',
  '    volumes: [db-data:/var/lib/postgresql/data]',
  '  store:',
  '    image: ferry-tb-app:1',
  '    entrypoint: ["sleep", "infinity"]',
  '    volumes: [files:/srv/files]',
  'volumes:',
  '  db-data: {}',
  '  files: {}',
  '',
].join('\n');
const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-recover-'));
writeFileSync(join(dir, 'compose.yml'), COMPOSE);
const server = (h, host = h.host, port = h.port) =>
  `  ${h.name}: { host: ${host}, user: ${h.user}, port: ${port}, identity_file: ${paths.key} }`;
const fleet = (appLine) =>
  [
    'servers:',
    appLine,
    server(vault),
    server(fresh),
    'stacks:',
    `  ${STACK}:`,
    `    server: ${app.name}`,
    '    compose: compose.yml',
    `    project: ${STACK}`,
    '    backups:',
    '      password: { env: FERRY_BACKUP_PASSWORD }',
    `      repositories: [{ name: vault, server: ${vault.name}, path: ${REPO} }]`,
    '',
  ].join('\n');
writeFileSync(join(dir, 'ferry.yml'), fleet(server(app)));
writeFileSync(join(dir, 'gone.yml'), fleet(server(app, '127.0.0.1', 9)));

function ferry(file, args) {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [join(root, 'bin/ferry.js'), ...args, '-f', file, '--known-hosts', paths.knownHosts],
      {
        cwd: dir,
        env: { ...process.env, FERRY_STATE_DIR: join(dir, 'state'), FERRY_BACKUP_PASSWORD: 'bench-restic-password' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`ferry ${args.join(' ')}: exit ${code}\n${out}${err}`)),
    );
  });
}

const db = `${STACK}-db-1`;
const volumeOn = (h, v) => on(h, `docker volume inspect -f '{{.Mountpoint}}' ${STACK}_${v}`);

function clean() {
  for (const h of [app, fresh, handHost])
    on(
      h,
      `ids=$(docker ps -aq --filter label=com.docker.compose.project=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
        `docker volume rm ${STACK}_db-data ${STACK}_files >/dev/null 2>&1; ` +
        `rm -rf /srv/ferry/${STACK} /srv/hand/${STACK} /var/lib/ferry/locks/${STACK}.lock /var/lib/ferry/restore/${STACK}.json /etc/ferry/backup/${STACK}.password /root/.ssh/ferry-migrate-${STACK}-backup* ${HAND}; true`,
    );
  on(
    vault,
    `rm -rf /var/backups/ferry-bench /var/backups/hand-bench; sed -i '/ ferry-migrate-${STACK}-backup$/d' /root/.ssh/authorized_keys; true`,
  );
}

/** Rows of about 170 bytes on disk, to the size asked; files half random, half log-like text. */
function fill() {
  on(app, `until docker exec ${db} pg_isready -q -U shop -d shop; do sleep 0.5; done`);
  const rows = Math.round((PG_MB * 2 ** 20) / 170);
  on(
    app,
    `docker exec ${db} psql -X -q -U shop -d shop -v ON_ERROR_STOP=1 -c "CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL); INSERT INTO events (payload) SELECT md5(g::text) || repeat(md5((g * 7)::text), 3) FROM generate_series(1, ${rows}) g"`,
  );
  const half = Math.round(FILES_MB / 2);
  on(
    app,
    `cd "${volumeOn(app, 'files')}" && mkdir -p media logs && for i in $(seq 1 ${Math.max(1, Math.round(half / 2))}); do head -c 2097152 /dev/urandom > media/m$i.bin; done && ` +
      `for i in $(seq 1 ${Math.max(1, Math.round(half / 8))}); do seq 1 200000 | sed "s/.*/2026-12-03T00:00:00Z INFO request id=& user=$i path=\\/api\\/items status=200 ms=12/" | head -c 8388608 > logs/l$i.log; done`,
  );
}

/** The runbook's night: dump and tar on the app server, copied to the vault. */
function handBackup() {
  on(
    app,
    `set -o pipefail; mkdir -p ${HAND} && docker exec ${db} pg_dump -U shop -d shop | gzip > ${HAND}/pg.sql.gz && tar czf ${HAND}/files.tar.gz -C "${volumeOn(app, 'files')}" .`,
  );
  on(vault, `mkdir -p ${HAND}`);
  execFileSync('sh', [
    '-c',
    `ssh ${sshArgs(app)
      .map((a) => `'${a}'`)
      .join(' ')} 'tar cf - -C ${HAND} .' | ssh ${sshArgs(vault)
      .map((a) => `'${a}'`)
      .join(' ')} 'tar xf - -C ${HAND}'`,
  ]);
}

/** The runbook's recovery on a new server: files from the vault, compose up, load the dump, untar. */
function handRecover() {
  on(handHost, `mkdir -p /srv/hand/${STACK} ${HAND} && cat > /srv/hand/${STACK}/compose.yml`, COMPOSE);
  execFileSync('sh', [
    '-c',
    `ssh ${sshArgs(vault)
      .map((a) => `'${a}'`)
      .join(' ')} 'tar cf - -C ${HAND} .' | ssh ${sshArgs(handHost)
      .map((a) => `'${a}'`)
      .join(' ')} 'tar xf - -C ${HAND}'`,
  ]);
  on(
    handHost,
    `set -o pipefail; cd /srv/hand/${STACK} && docker compose -p ${STACK} up -d 2>/dev/null && ` +
      `until docker exec ${db} pg_isready -q -U shop -d shop; do sleep 0.3; done; sleep 1; ` +
      `gunzip -c ${HAND}/pg.sql.gz | docker exec -i ${db} psql -X -q -U shop -d shop -v ON_ERROR_STOP=1 >/dev/null && ` +
      `tar xzf ${HAND}/files.tar.gz -C "$(docker volume inspect -f '{{.Mountpoint}}' ${STACK}_files)"`,
  );
}

clean();
for (const h of [app, fresh, handHost]) {
  execFileSync('sh', [
    '-c',
    `docker save ferry-tb-postgres:1 ferry-tb-app:1 | ssh ${sshArgs(h)
      .map((a) => `'${a}'`)
      .join(' ')} docker load >/dev/null`,
  ]);
}
await ferry('ferry.yml', ['apply', STACK, '--yes']);
fill();
const size = Number(
  on(app, `du -sb "${volumeOn(app, 'db-data')}" "${volumeOn(app, 'files')}" | awk '{n+=$1} END {print n}'`),
);
console.log(`data: ${mib(size)} on disk (Postgres and files); stack on ${app.name}, vault ${vault.name}`);
await ferry('ferry.yml', ['backup', 'run', STACK]);
handBackup();
const rows = on(app, `docker exec ${db} psql -X -At -U shop -d shop -c "SELECT count(*) FROM events"`);
let report;
const ferryMs = await timed(async () => {
  report = JSON.parse(await ferry('gone.yml', ['recover', STACK, '--to', fresh.name, '--yes', '--json']));
});
const handMs = await timed(handRecover);
const check = (h) => on(h, `docker exec ${db} psql -X -At -U shop -d shop -c "SELECT count(*) FROM events"`);
if (check(fresh) !== rows || check(handHost) !== rows) throw new Error('a recovery lost rows');
console.log('| case | ferry recover | runbook by hand | ratio |\n|---|---|---|---|');
console.log(
  `| recover onto a new server (ferry also deploys and proves every table and file) | ${s(ferryMs)} | ${s(handMs)} | ${(ferryMs / handMs).toFixed(2)}x |`,
);
console.log(
  `ferry: deploy run ${report.deploy.journal_run}, restored ${report.restore.restored.join(', ')}, ${report.restore.proofs.length} proofs, recovery_ms ${report.recovery_ms}`,
);
clean();
