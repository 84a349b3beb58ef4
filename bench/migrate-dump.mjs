// Moving a Postgres database from one server to another, straight between them: Ferry's
// parallel dump (parallel-dump.ts: snapshot, schema file, pre-data, the tables shared
// among the streams, post-data with pg_restore --jobs) with 4 streams and with 1, against
// the single stream `pg_dump -Fc | ssh | pg_restore --clean --single-transaction` (Ferry's
// former way), run on the source through the same channel, in turns, on the same data,
// the target's database emptied before each; the tables are compared after each.
// Two data sets: the migration test's (400,000 rows in one table, 1,000 in another, no
// key) and the same rows split over four tables. The database containers
// (ferry-bench-pg on host2 and host1) are removed at the end.
// Run: npm run testbed:up && npm run build && node bench/migrate-dump.mjs   (BENCH_RUNS, default 5)
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
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const pool = new SshPool({ sshConfigPath: null, agentSocket: null });
const source = pool.get(sshTarget(h2));
const target = pool.get(sshTarget(h1));
const on = async (t, line) => (await t.exec(script(line), { check: true, timeoutMs: 60 * 60_000 })).stdout;
const psql = (t, sql) => on(t, `docker exec ${CONTAINER} psql -X -q -U demo -d demo -v ON_ERROR_STOP=1 -c "${sql}"`);
const start = (t) =>
  on(
    t,
    `docker rm -f ${CONTAINER} >/dev/null 2>&1; docker run -d --name ${CONTAINER} -e POSTGRES_USER=demo -e POSTGRES_PASSWORD=bench ferry-tb-postgres:1 >/dev/null && until docker exec ${CONTAINER} pg_isready -U demo -d demo >/dev/null 2>&1; do sleep 0.3; done; sleep 1`,
  );

const ROWS = 'SELECT md5(g::text) || repeat(chr(65 + g % 26), 60) FROM generate_series';
const SETS = {
  'one large table': `CREATE TABLE bulk (id bigserial PRIMARY KEY, payload text NOT NULL); INSERT INTO bulk (payload) ${ROWS}(1, 400000) g; CREATE TABLE nokey (v int); INSERT INTO nokey SELECT generate_series(1, 1000);`,
  'four tables':
    [1, 2, 3, 4]
      .map(
        (i) =>
          `CREATE TABLE bulk${i} (id bigserial PRIMARY KEY, payload text NOT NULL); INSERT INTO bulk${i} (payload) ${ROWS}(1, 100000) g;`,
      )
      .join(' ') + ' CREATE TABLE nokey (v int); INSERT INTO nokey SELECT generate_series(1, 1000);',
};

const channel = benchChannel(h2, h1, source, target);
const single = () =>
  channel.piped(
    pgDumpCustom(CONTAINER),
    cmd(
      'docker',
      'exec',
      '-i',
      CONTAINER,
      'pg_restore',
      '-U',
      'demo',
      '-d',
      'demo',
      '--clean',
      '--if-exists',
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      '--single-transaction',
    ),
  );
const parallel = (jobs) => () =>
  parallelDump({
    d,
    jobs,
    where: `${h2.name} -> ${h1.name}`,
    redact: (s) => s,
    through: (c) => onTarget(channel.ch, c),
    source: { transport: source, sudo: false, container: CONTAINER },
    target: { transport: target, sudo: false, container: CONTAINER },
  });
const ways = {
  'single stream (pg_dump -Fc | pg_restore)': single,
  'parallel dump, 1 stream': parallel(1),
  'parallel dump, 4 streams': parallel(4),
};

try {
  await channel.open();
  for (const [set, sql] of Object.entries(SETS)) {
    await Promise.all([start(source), start(target)]);
    await psql(source, sql);
    const ms = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, way] of Object.entries(ways)) {
        await on(
          target,
          `docker exec ${CONTAINER} psql -X -q -U demo -d postgres -c 'DROP DATABASE IF EXISTS demo WITH (FORCE)' -c 'CREATE DATABASE demo' && sync`,
        );
        const t = process.hrtime.bigint();
        await way();
        ms[name].push(Number(process.hrtime.bigint() - t) / 1e6);
        const tables = compareTables(
          await tableSums(source, CONTAINER, d, false),
          await tableSums(target, CONTAINER, d, false),
        );
        if (!tables.every((x) => x.checksum_match))
          throw new Error(`${name}: tables differ: ${JSON.stringify(tables)}`);
      }
    }
    console.log(`${set}, ${RUNS} runs each, in turns (median, all in ms):`);
    for (const [name, xs] of Object.entries(ms))
      console.log(
        `  ${name.padEnd(44)} ${String(Math.round(median(xs))).padStart(6)}   ${xs.map(Math.round).join(' ')}`,
      );
  }
} finally {
  await channel.close().catch((e) => console.error(`closing the channel failed: ${e.message}`));
  for (const t of [source, target])
    await on(t, `docker rm -f ${CONTAINER} >/dev/null`).catch((e) =>
      console.error(`removing ${CONTAINER} on ${t.name} failed: ${e.message}`),
    );
  await pool.close();
}
