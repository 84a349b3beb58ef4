// Moving a Postgres container's database into the Postgres installed on another server
// (`server_postgres`), straight between them: Ferry's parallel dump into the installed
// Postgres (its target commands as the superuser acting as the role), with 4 streams,
// against the obvious pipe `pg_dump -Fc | ssh | pg_restore --single-transaction` run by
// hand into the same Postgres (as its superuser, `--role` for ownership), in turns, on the
// same data (400,000 rows in one table, 1,000 in another without a key), the target's
// database created anew before each; every table compared after each. The source's
// container (ferry-bench-pg on host2) is removed and host1's Postgres stopped at the end.
// Run: npm run testbed:up && npm run build && node bench/migrate-server-postgres.mjs   (BENCH_RUNS, default 5)
import { onTarget } from '../dist/migrate/channel.js';
import { parallelDump } from '../dist/migrate/parallel-dump.js';
import { tableSums, compareTables } from '../dist/migrate/postgres.js';
import { cmd, script } from '../dist/shell/command.js';
import { benchChannel, pgDumpCustom } from './channel.mjs';
import { SshPool } from '../dist/transport/ssh/index.js';
import { sshTarget, testbedHosts } from '../scripts/testbed/lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONTAINER = 'ferry-bench-pg';
const [h1, h2] = testbedHosts();
const d = { service: 'db', user: 'demo', db: 'demo', volumes: [] };
const installed = {
  installed: { cluster: 'main', port: 5432, superuser: 'postgres', maxConnections: 100, tune: false },
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
const source = pool.get(sshTarget(h2));
const target = pool.get(sshTarget(h1));
const on = async (t, line) => (await t.exec(script(line), { check: true, timeoutMs: 60 * 60_000 })).stdout;
const superuser = (sql) =>
  on(target, `cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "${sql}"`);

const DATA = `CREATE TABLE bulk (id bigserial PRIMARY KEY, payload text NOT NULL); INSERT INTO bulk (payload) SELECT md5(g::text) || repeat(chr(65 + g % 26), 60) FROM generate_series(1, 400000) g; CREATE TABLE nokey (v int); INSERT INTO nokey SELECT generate_series(1, 1000);`;

const channel = benchChannel(h2, h1, source, target);
const byHand = () =>
  channel.piped(
    pgDumpCustom(CONTAINER),
    cmd(
      'runuser',
      '-u',
      'postgres',
      '--',
      'env',
      '-C',
      '/',
      'pg_restore',
      '-d',
      'demo',
      '--role=demo',
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      '--single-transaction',
    ),
  );
const ferry = () =>
  parallelDump({
    d,
    jobs: 4,
    where: `${h2.name} -> ${h1.name}`,
    redact: (s) => s,
    through: (c) => onTarget(channel.ch, c),
    source: { transport: source, sudo: false, container: CONTAINER },
    target: { transport: target, sudo: false, container: installed },
  });
const ways = { 'by hand: pg_dump -Fc | ssh | pg_restore': byHand, "Ferry's parallel dump, 4 streams": ferry };

try {
  await on(
    source,
    `docker rm -f ${CONTAINER} >/dev/null 2>&1; docker run -d --name ${CONTAINER} -e POSTGRES_USER=demo -e POSTGRES_PASSWORD=bench ferry-tb-postgres:1 >/dev/null && until docker exec ${CONTAINER} pg_isready -U demo -d demo >/dev/null 2>&1; do sleep 0.3; done; sleep 1`,
  );
  await on(source, `docker exec ${CONTAINER} psql -X -q -U demo -d demo -v ON_ERROR_STOP=1 -c "${DATA}"`);
  await on(target, 'systemctl start postgresql && until pg_isready -q; do sleep 0.3; done');
  await superuser(
    `DO \\$\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'demo') THEN CREATE ROLE demo LOGIN; END IF; END\\$\\$`,
  );
  await channel.open();
  const ms = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, way] of Object.entries(ways)) {
      await superuser('DROP DATABASE IF EXISTS demo WITH (FORCE)');
      await superuser('CREATE DATABASE demo OWNER demo');
      await on(target, 'sync');
      const t = process.hrtime.bigint();
      await way();
      ms[name].push(Number(process.hrtime.bigint() - t) / 1e6);
      const tables = compareTables(
        await tableSums(source, CONTAINER, d, false, (s) => s),
        await tableSums(target, installed, d, false, (s) => s),
      );
      if (tables.length !== 2 || !tables.every((x) => x.checksum_match))
        throw new Error(`${name}: tables differ: ${JSON.stringify(tables)}`);
    }
  }
  console.log(
    `400,000 + 1,000 rows into ${h1.name}'s installed Postgres, ${RUNS} runs each, in turns (median, all in ms):`,
  );
  for (const [name, xs] of Object.entries(ms))
    console.log(`  ${name.padEnd(44)} ${String(Math.round(median(xs))).padStart(6)}   ${xs.map(Math.round).join(' ')}`);
  const [a, b] = Object.values(ms).map(median);
  console.log(`  ratio Ferry / by hand: ${(b / a).toFixed(2)}`);
} finally {
  await channel.close().catch((e) => console.error(`closing the channel failed: ${e.message}`));
  await on(source, `docker rm -f ${CONTAINER} >/dev/null`).catch((e) =>
    console.error(`removing ${CONTAINER}: ${e.message}`),
  );
  await superuser('DROP DATABASE IF EXISTS demo WITH (FORCE)').catch(() => undefined);
  await on(target, 'systemctl stop postgresql').catch((e) =>
    console.error(`stopping Postgres on ${h1.name}: ${e.message}`),
  );
  await pool.close();
}
