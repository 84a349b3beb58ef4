// Backing a stack up: `ferry backup run` (restic: pg_dump streamed in from an exported
// snapshot with every table summed in it, or mysqldump with every table's rows counted and
// hashed as it streams; the volume's files with their manifest, the manifest as a
// snapshot, retention) against the script our users write by hand, `pg_dump | gzip` (or
// `mysqldump --single-transaction | gzip`) plus `tar czf` of the volume, in the same run,
// on the same data, on the same host: a first run, then a second after 1 % more rows and a
// few new files (restic only stores what changed; the script writes everything again).
// Then restoring: the hand way (gunzip | psql or mariadb into a scratch server, tar xzf)
// against `ferry backup drill`, which restores the same into scratch containers and also
// proves every table's rows and checksum and every file against the manifest. Sizes are
// what each keeps on disk after both runs.
// Run: npm run testbed:up && npm run build && node bench/backup.mjs
//   BENCH_DB: postgres (default) or mariadb; BENCH_PG_MB (the database), BENCH_FILES_MB: default 1024 each
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths, sshArgs, testbedHosts } from '../scripts/testbed/lib.mjs';

const PG_MB = Number(process.env.BENCH_PG_MB ?? 1024);
const FILES_MB = Number(process.env.BENCH_FILES_MB ?? 1024);
const ENGINE = process.env.BENCH_DB ?? 'postgres';
if (!['postgres', 'mariadb'].includes(ENGINE)) throw new Error('BENCH_DB: postgres or mariadb');
const STACK = 'tbbenchbk';
const REPO = `/var/backups/ferry-bench/${STACK}`;
const HAND = `/var/backups/hand-bench/${STACK}`;
const root = fileURLToPath(new URL('..', import.meta.url));
const host = testbedHosts().find((x) => x.name === 'host1');
if (!host) throw new Error('needs test bed host host1 (npm run testbed:up)');
const ssh = (line) =>
  execFileSync('ssh', [...sshArgs(host), line], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim();
const timed = async (fn) => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-backup-'));
writeFileSync(
  join(dir, 'compose.yml'),
  [
    'services:',
    '  db:',
    ...(ENGINE === 'postgres'
      ? [
          '    image: ferry-tb-postgres:1',
          '    environment: { POSTGRES_USER: shop, POSTGRES_DB: shop, POSTGRES_PASSWORD: bench-password }',
          '    volumes: [db-data:/var/lib/postgresql/data]',
        ]
      : [
          '    image: ferry-tb-mariadb:1',
          '    environment: { MARIADB_ROOT_PASSWORD: bench-password, MARIADB_DATABASE: shop }',
          '    volumes: [db-data:/var/lib/mysql]',
        ]),
    '  store:',
    '    image: ferry-tb-app:1',
    '    entrypoint: ["sleep", "infinity"]',
    '    volumes: [files:/srv/files]',
    'volumes:',
    '  db-data: {}',
    '  files: {}',
    '',
  ].join('\n'),
);
writeFileSync(
  join(dir, 'ferry.yml'),
  [
    'servers:',
    `  ${host.name}: { host: ${host.host}, user: ${host.user}, port: ${host.port}, identity_file: ${paths.key} }`,
    'stacks:',
    `  ${STACK}:`,
    `    server: ${host.name}`,
    '    compose: compose.yml',
    `    project: ${STACK}`,
    '    backups:',
    '      password: { env: FERRY_BACKUP_PASSWORD }',
    `      repositories: [{ name: local, path: ${REPO} }]`,
    '',
  ].join('\n'),
);

function ferry(args) {
  return new Promise((resolve, reject) => {
    const c = spawn(
      process.execPath,
      [join(root, 'bin/ferry.js'), ...args, '-f', 'ferry.yml', '--known-hosts', paths.knownHosts],
      {
        cwd: dir,
        env: { ...process.env, FERRY_STATE_DIR: join(dir, 'state'), FERRY_BACKUP_PASSWORD: 'bench-restic-password' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`ferry ${args.join(' ')}: exit ${code}\n${out}`)),
    );
  });
}

const db = `${STACK}-db-1`;
const volume = () => ssh(`docker volume inspect -f '{{.Mountpoint}}' ${STACK}_files`);
/** SQL in the stack's database, once it accepts connections. */
const query =
  ENGINE === 'postgres'
    ? (sql) =>
        ssh(
          `until docker exec ${db} pg_isready -q -U shop -d shop; do sleep 0.5; done; docker exec ${db} psql -X -q -At -U shop -d shop -v ON_ERROR_STOP=1 -c "${sql}"`,
        )
    : (sql) =>
        ssh(
          `until docker exec -e MYSQL_PWD=bench-password ${db} mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.5; done; docker exec -e MYSQL_PWD=bench-password ${db} mariadb -uroot -N -B shop -e "SET SESSION max_recursive_iterations = 100000000; ${sql}"`,
        );
/** `n` numbers 1..n as rows of column g, in the engine's words. */
const series = (n) =>
  ENGINE === 'postgres'
    ? `generate_series(1, ${n}) g`
    : `(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${n}) SELECT g FROM s) AS gs`;
const sizeOf = (path) => Number(ssh(`du -sb ${path} | cut -f1`));
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

function clean() {
  ssh(
    // Two label filters would have to both match: one listing per label.
    `ids=$(docker ps -aq --filter label=com.docker.compose.project=${STACK}; docker ps -aq --filter label=ferry-drill=${STACK}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
      `docker rm -f ${STACK}-hand-restore >/dev/null 2>&1; docker volume rm ${STACK}_db-data ${STACK}_files >/dev/null 2>&1; ` +
      `rm -rf /srv/ferry/${STACK} /var/lib/ferry/locks/${STACK}.lock /var/backups/ferry-bench /var/backups/hand-bench /var/tmp/ferry-drill-${STACK} /etc/ferry/backup/${STACK}.password; true`,
  );
}

/** Rows of about 170 bytes on disk, to `mb`; then files: half random, half log-like text. */
function fill() {
  const rows = Math.round((PG_MB * 2 ** 20) / 170);
  query(
    ENGINE === 'postgres'
      ? 'CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), payload text NOT NULL)'
      : 'CREATE TABLE events (id BIGINT AUTO_INCREMENT PRIMARY KEY, at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, payload TEXT NOT NULL)',
  );
  const payload =
    ENGINE === 'postgres' ? 'md5(g::text) || repeat(md5((g * 7)::text), 3)' : 'CONCAT(MD5(g), REPEAT(MD5(g * 7), 3))';
  query(`INSERT INTO events (payload) SELECT ${payload} FROM ${series(rows)}`);
  const half = Math.round(FILES_MB / 2);
  ssh(
    `cd "${volume()}" && mkdir -p media logs && for i in $(seq 1 ${Math.max(1, Math.round(half / 2))}); do head -c 2097152 /dev/urandom > media/m$i.bin; done && ` +
      `for i in $(seq 1 ${Math.max(1, Math.round(half / 8))}); do seq 1 200000 | sed "s/.*/2026-12-03T00:00:00Z INFO request id=& user=$i path=\\/api\\/items status=200 ms=12/" | head -c 8388608 > logs/l$i.log; done`,
  );
}

/** What the hand script does each night: everything, compressed, one file per kind and date. */
const hand = (tag) =>
  ssh(
    `set -o pipefail; mkdir -p ${HAND} && ${ENGINE === 'postgres' ? `docker exec ${db} pg_dump -U shop -d shop` : `docker exec -e MYSQL_PWD=bench-password ${db} mariadb-dump -uroot --single-transaction --databases shop`} | gzip > ${HAND}/pg-${tag}.sql.gz && tar czf ${HAND}/files-${tag}.tar.gz -C "${volume()}" .`,
  );

function handRestore() {
  const r = `${STACK}-hand-restore`;
  const load =
    ENGINE === 'postgres'
      ? `docker run -d --name ${r} -e POSTGRES_USER=shop -e POSTGRES_DB=shop -e POSTGRES_PASSWORD=x ferry-tb-postgres:1 >/dev/null && ` +
        `until docker exec ${r} pg_isready -q -U shop -d shop; do sleep 0.3; done; sleep 1; ` +
        `gunzip -c ${HAND}/pg-2.sql.gz | docker exec -i ${r} psql -X -q -U shop -d shop -v ON_ERROR_STOP=1 >/dev/null`
      : `docker run -d --name ${r} -e MARIADB_ROOT_PASSWORD=x ferry-tb-mariadb:1 >/dev/null && ` +
        `until docker logs ${r} 2>&1 | grep -q "port: 3306" && docker exec -e MYSQL_PWD=x ${r} mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.3; done; ` +
        `gunzip -c ${HAND}/pg-2.sql.gz | docker exec -i -e MYSQL_PWD=x ${r} mariadb -uroot`;
  ssh(
    `set -o pipefail; ${load} && ` +
      `rm -rf /var/tmp/hand-restore && mkdir -p /var/tmp/hand-restore && tar xzf ${HAND}/files-2.tar.gz -C /var/tmp/hand-restore && ` +
      `docker rm -f ${STACK}-hand-restore >/dev/null && rm -rf /var/tmp/hand-restore`,
  );
}

clean();
await ferry(['apply', STACK, '--yes']);
fill();
const data = { db: sizeOf(`$(docker volume inspect -f '{{.Mountpoint}}' ${STACK}_db-data)`), files: sizeOf(volume()) };
console.log(`data: ${ENGINE} ${mib(data.db)} on disk, files ${mib(data.files)}; host ${host.name}`);
const payload1 = ENGINE === 'postgres' ? 'md5(g::text)' : 'MD5(g)';
const rows = [];
const first = { hand: await timed(() => hand('1')), ferry: await timed(() => ferry(['backup', 'run', STACK])) };
rows.push(['first run', first.ferry, first.hand]);
query(
  `INSERT INTO events (payload) SELECT ${payload1} FROM ${series(Math.floor(Number(query('SELECT count(*) FROM events')) / 100))}`,
);
ssh(`cd "${volume()}" && for i in 1 2 3 4 5; do head -c 2097152 /dev/urandom > media/new$i.bin; done`);
const second = { hand: await timed(() => hand('2')), ferry: await timed(() => ferry(['backup', 'run', STACK])) };
rows.push(['second run (1 % more rows, 10 MiB of new files)', second.ferry, second.hand]);
const restore = { hand: await timed(handRestore), ferry: await timed(() => ferry(['backup', 'drill', STACK])) };
rows.push(['restore (ferry: drill, which also proves every table and file)', restore.ferry, restore.hand]);
const kept = { ferry: sizeOf(REPO), hand: sizeOf(HAND) };
console.log('| case | ferry | hand script | ratio |\n|---|---|---|---|');
for (const [what, f, h] of rows) console.log(`| ${what} | ${s(f)} | ${s(h)} | ${(f / h).toFixed(2)}x |`);
console.log(
  `| kept on disk after both runs | ${mib(kept.ferry)} | ${mib(kept.hand)} | ${(kept.ferry / kept.hand).toFixed(2)}x |`,
);
clean();
