/**
 * A stack whose Postgres runs in a container moves to a server where Postgres is installed
 * on the host, outside Docker (`services.db.server_postgres`): `ferry migrate` creates the
 * role and the database there, dumps the container's database into it while the writers
 * are stopped, proves every table (rows and checksums), and starts the stack without a
 * container of its Postgres: the service's name is the host, and its unchanged
 * DATABASE_URL logs in with the service's password. A second apply on the new server
 * changes nothing; replicate mode, and a server without a Postgres, are refused before
 * anything changes. Then it moves on from that server's Postgres to a third server's, the
 * second server's Postgres left running with its copy; and two rollbacks carry the rows
 * written since back: from the third server into the second's Postgres, then from there
 * into the first server's container. The password (a canary) is in no output, state file
 * or process list.
 *
 * ferry-test-lane: side (its hosts are fresh ones of its own, scripts/testbed/fresh.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createFreshHost, removeFreshHost } from '../../scripts/testbed/fresh.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import { loadImages, onHost, serverLine, stackLines, testbedIsUp, type TestbedHost } from './helpers.js';

const CANARY = 'srv-pg-canary-4b9e21';
const STACK = 'tbsrvpg';
const FROM = 'spg1';
const TO = 'spg2';
/** The third server, where Postgres is installed too: the database moves there from TO's. */
const THIRD = 'spg3';
const ROWS = 5000;

/** psql in an image whose name says nothing of Postgres, so that api is not taken for a database (tagged here). */
const CLIENT = 'ferry-tb-pgclient:1';
const COMPOSE = `services:
  api:
    image: ${CLIENT}
    entrypoint: ["sleep", "infinity"]
    environment:
      DATABASE_URL: "postgresql://shop:\${DB_PASSWORD}@db:5432/shop"
    volumes: ["files:/data"]
    depends_on: { db: { condition: service_healthy } }
    healthcheck: { test: ["CMD-SHELL", "psql \\"$$DATABASE_URL\\" -XAtc 'SELECT 1'"], interval: 2s, retries: 30 }
  db:
    image: ferry-tb-postgres:1
    environment: { POSTGRES_USER: shop, POSTGRES_DB: shop, POSTGRES_PASSWORD: "\${DB_PASSWORD}" }
    volumes: ["pgdata:/var/lib/postgresql/data"]
    healthcheck: { test: ["CMD", "pg_isready", "-U", "shop", "-d", "shop"], interval: 2s, retries: 30 }
volumes:
  pgdata: {}
  files: {}
`;

/** The fleet file: the stack on `server`; `kept` sets server_postgres; `postgres` describes TO's and THIRD's. */
function fleetFile(hosts: TestbedHost[], server: string, o: { kept: boolean; postgres: boolean }): string {
  const [from, ...others] = hosts;
  return [
    'servers:',
    serverLine(from!),
    ...others.map((h) => serverLine(h, o.postgres ? ', postgres: { max_connections: 100 }' : '')),
    'stacks:',
    ...stackLines(STACK, server, '60s'),
    '    env_file: .env',
    ...(o.kept ? ['    services: { db: { server_postgres: true } }'] : []),
    '',
  ].join('\n');
}

const hostPsql = (h: TestbedHost, q: string, db = 'shop') =>
  onHost(h, `cd / && runuser -u postgres -- psql -XAtq -d ${db} -c "${q}"`).trim();
/** What the api container reads through its DATABASE_URL. */
const apiReads = (h: TestbedHost, q: string) =>
  onHost(h, `docker exec -i ${STACK}-api-1 sh -c 'psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1'`, `${q};\n`).trim();

describe(
  'a Postgres service moved into the Postgres installed on the target',
  {
    skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)',
  },
  () => {
    let from: TestbedHost;
    let to: TestbedHost;
    let third: TestbedHost;
    let dir: string;
    let known: string;
    const shown: string[] = [];
    const run = async (args: string[]): Promise<Transcript> => {
      const t = await ferry([...args, '-f', 'ferry.yml', '--known-hosts', known], {
        cwd: dir,
        env: { FERRY_STATE_DIR: join(dir, 'state') },
      });
      shown.push(t.out, t.err);
      return t;
    };
    const write = (server: string, o: { kept: boolean; postgres: boolean }) =>
      writeFileSync(join(dir, 'ferry.yml'), fleetFile([from, to, third], server, o));

    before(async () => {
      execFileSync('docker', ['tag', 'ferry-tb-postgres:1', CLIENT]);
      [from, to, third] = (await Promise.all([FROM, TO, THIRD].map((x) => createFreshHost(x)))) as [
        TestbedHost,
        TestbedHost,
        TestbedHost,
      ];
      loadImages(from, ['ferry-tb-postgres:1', CLIENT]);
      for (const h of [to, third])
        onHost(
          h,
          'systemctl start postgresql && for i in $(seq 1 30); do pg_isready -q && exit 0; sleep 1; done; exit 1',
        );
      dir = mkdtempSync(join(tmpdir(), 'ferry-srvpg-'));
      known = join(dir, 'known_hosts');
      writeFileSync(known, [from, to, third].map((x) => readFileSync(x.knownHostsFile, 'utf8')).join(''));
      writeFileSync(join(dir, 'compose.yml'), COMPOSE);
      writeFileSync(join(dir, '.env'), `DB_PASSWORD=${CANARY}\n`);
      write(FROM, { kept: false, postgres: true });
      const t = await run(['apply', '--yes']);
      assert.equal(t.code, 0, t.out + t.err);
      const sql = [
        `CREATE TABLE orders (id serial PRIMARY KEY, note text NOT NULL, at timestamptz DEFAULT now());`,
        `INSERT INTO orders (note) SELECT 'order ' || g FROM generate_series(1, ${ROWS}) g;`,
        `CREATE TABLE events (kind text, payload jsonb);`,
        `INSERT INTO events SELECT 'k' || (g % 7), jsonb_build_object('n', g) FROM generate_series(1, 300) g;`,
        `CREATE INDEX orders_note ON orders (note);`,
      ].join('\n');
      onHost(from, `docker exec -i ${STACK}-db-1 psql -U shop -d shop -XAq -v ON_ERROR_STOP=1`, sql);
      onHost(from, `docker exec ${STACK}-api-1 sh -c 'echo kept > /data/file.txt'`);
    });
    after(async () => {
      if (process.env.KEEP) return;
      await Promise.all([FROM, TO, THIRD].map((x) => removeFreshHost(x)));
    });

    test('refused before anything changes: a target without a Postgres, and replicate mode', async () => {
      write(FROM, { kept: true, postgres: false });
      const none = await run(['migrate', STACK, '--to', TO, '--dry-run']);
      assert.equal(none.code, 2, none.out + none.err);
      assert.match(none.err, /server-postgres-invalid/);
      assert.match(none.err, /ferry\.yml:\d+:\d+ \(stacks\/tbsrvpg\/services\/db\/server_postgres\)/);
      assert.match(none.err, new RegExp(`servers/${TO} has no postgres`));
      write(FROM, { kept: true, postgres: true });
      const replica = await run(['migrate', STACK, '--to', TO, '--mode', 'replicate', '--yes']);
      assert.equal(replica.code, 2, replica.out + replica.err);
      assert.match(replica.err, /replicate-unsupported/);
      assert.doesNotMatch(none.err + replica.err, /at .*\.ts:\d+/, 'no stack trace');
      assert.equal(onHost(to, 'docker ps -aq 2>/dev/null | wc -l').trim(), '0', 'nothing started on the target');
      assert.equal(hostPsql(to, "SELECT count(*) FROM pg_roles WHERE rolname = 'shop'", 'postgres'), '0');
    });

    test('migrate: role and database made there, every row proven, the stack started without a container of its Postgres', async () => {
      write(FROM, { kept: true, postgres: true });
      await movedCase(from, to, run);
    });

    test('the new server named in ferry.yml: a second apply changes nothing', async () => {
      write(TO, { kept: true, postgres: true });
      const t = await run(['apply', '--yes', '--json']);
      assert.equal(t.code, 0, t.out + t.err);
      assert.equal((JSON.parse(t.out.trim().split('\n').pop()!) as { changed: number }).changed, 0, t.out);
      assert.equal(apiReads(to, 'SELECT 6 * 7'), '42');
    });

    test("from the Postgres installed on one server to another's: the database moves by dump, the first server's Postgres keeps running", async () => {
      write(TO, { kept: true, postgres: true });
      await onwardCase(to, third, run);
    });

    test("rollback from the third server: a row written there is carried back into the second's Postgres", async () => {
      write(TO, { kept: true, postgres: true });
      apiReads(third, "INSERT INTO orders (note) VALUES ('on the third')");
      const t = await run(['rollback', STACK, '--yes']);
      assert.equal(t.code, 0, t.out + t.err);
      assert.equal(hostPsql(to, 'SELECT count(*) FROM orders'), String(ROWS + 1));
      assert.equal(apiReads(to, `SELECT note FROM orders WHERE id = ${ROWS + 1}`), 'on the third');
    });

    test("rollback to the first server: the rows written in the second's Postgres carried back to the container", async () => {
      write(FROM, { kept: true, postgres: true });
      apiReads(to, "INSERT INTO orders (note) VALUES ('on the second')");
      const t = await run(['rollback', STACK, '--yes']);
      assert.equal(t.code, 0, t.out + t.err);
      assert.equal(
        onHost(from, `docker exec ${STACK}-db-1 psql -U shop -d shop -XAtc "SELECT count(*) FROM orders"`).trim(),
        String(ROWS + 2),
      );
      assert.equal(apiReads(from, `SELECT note FROM orders WHERE id = ${ROWS + 2}`), 'on the second');
    });

    test('the password is in no output, state file or process list', () => {
      for (const h of [from, to, third])
        assert.equal(onHost(h, 'ps -eo args').includes(CANARY), false, `${h.name}: ps`);
      for (const text of shown) assert.equal(text.includes(CANARY), false, 'a secret in an output');
      for (const f of readdirSync(join(dir, 'state'), { recursive: true }).map(String)) {
        const path = join(dir, 'state', f);
        if (statSync(path).isFile()) assert.equal(readFileSync(path).includes(CANARY), false, `a secret in state/${f}`);
      }
    });
  },
);

/** The move, from its plan to the stack running on `to` without a container of its Postgres. */
async function movedCase(
  from: TestbedHost,
  to: TestbedHost,
  run: (args: string[]) => Promise<Transcript>,
): Promise<void> {
  const plan = await run(['migrate', STACK, '--to', TO, '--dry-run']);
  assert.equal(plan.code, 0, plan.out + plan.err);
  assert.match(plan.out, /tbsrvpg\/server-postgres\/db +change +create role shop; create database shop owned by shop/);
  assert.doesNotMatch(plan.out, /migrate\/target-db/);
  const t = await run(['migrate', STACK, '--to', TO, '--yes', '--json']);
  assert.equal(t.code, 0, t.out + t.err);
  const report = JSON.parse(t.out.trim().split('\n').pop()!) as {
    verified: { tables: { name: string; rows_source: number; rows_target: number; checksum_match: boolean }[] };
    transferred: { databases: number };
  };
  assert.deepEqual(
    report.verified.tables.map((x) => [x.name, x.rows_target, x.checksum_match]),
    [
      ['public.events', 300, true],
      ['public.orders', ROWS, true],
    ],
  );
  assert.ok(report.transferred.databases > 0, 'the dump crossed between the servers');
  assert.equal(
    onHost(to, `docker ps --format '{{.Names}}' --filter label=com.docker.compose.project=${STACK}`).trim(),
    `${STACK}-api-1`,
    'no container of db on the target',
  );
  assert.doesNotMatch(onHost(to, 'docker volume ls --format "{{.Name}}"'), /tbsrvpg_pgdata/);
  assert.equal(hostPsql(to, 'SELECT count(*) FROM orders'), String(ROWS));
  assert.equal(hostPsql(to, "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"), 'shop');
  assert.equal(hostPsql(to, "SELECT rolsuper FROM pg_roles WHERE rolname = 'shop'"), 'f');
  assert.equal(hostPsql(to, 'SELECT last_value FROM orders_id_seq'), String(ROWS));
  assert.equal(apiReads(to, 'SELECT count(*) FROM orders'), String(ROWS), 'the unchanged DATABASE_URL reaches it');
  assert.equal(onHost(to, `docker exec ${STACK}-api-1 cat /data/file.txt`).trim(), 'kept');
  assert.equal(
    onHost(from, `docker ps --format '{{.Names}}' --filter label=com.docker.compose.project=${STACK}`).trim(),
    '',
    'the source is stopped, its data kept',
  );
}

/** The move on, from `to`'s installed Postgres to `third`'s; `to`'s Postgres keeps its copy and keeps running. */
async function onwardCase(
  to: TestbedHost,
  third: TestbedHost,
  run: (args: string[]) => Promise<Transcript>,
): Promise<void> {
  const t = await run(['migrate', STACK, '--to', THIRD, '--yes', '--json']);
  assert.equal(t.code, 0, t.out + t.err);
  const report = JSON.parse(t.out.trim().split('\n').pop()!) as {
    verified: { tables: { name: string; rows_target: number; checksum_match: boolean }[] };
  };
  assert.deepEqual(
    report.verified.tables.map((x) => [x.name, x.rows_target, x.checksum_match]),
    [
      ['public.events', 300, true],
      ['public.orders', ROWS, true],
    ],
  );
  assert.equal(hostPsql(third, 'SELECT count(*) FROM orders'), String(ROWS));
  assert.equal(hostPsql(third, "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"), 'shop');
  assert.equal(apiReads(third, 'SELECT count(*) FROM orders'), String(ROWS));
  assert.equal(onHost(third, `docker exec ${STACK}-api-1 cat /data/file.txt`).trim(), 'kept');
  assert.equal(hostPsql(to, 'SELECT count(*) FROM orders'), String(ROWS), "kept in the first server's Postgres");
  assert.equal(onHost(to, 'systemctl is-active postgresql@17-main').trim(), 'active');
  assert.equal(
    onHost(to, `docker ps --format '{{.Names}}' --filter label=com.docker.compose.project=${STACK}`).trim(),
    '',
  );
}
