/**
 * MySQL and MariaDB backups on the test bed: a stack whose MariaDB holds two databases (the
 * root password and an app user's from `.env`, a table without a primary key, an empty
 * table, binary values, a view) beside a files service, on a fresh host bkm. It is backed
 * up with `ferry backup run`, proven by `ferry backup drill` (every table's rows and hash),
 * backed up and drilled again by the systemd timers without Ferry, restored in place after
 * damage (the live databases kept as a dump), and refused with `database-auth-failed` when
 * the service's environment no longer opens it; `ferry recover` brings it back on a fresh
 * spare from a repository on a third host. The passwords appear in no output, no journal
 * and no process list.
 *
 * ferry-test-lane: side (bkm, bkmv and bkmn are fresh hosts of its own,
 * scripts/testbed/fresh.mjs), so it runs beside the suites that share the test bed's hosts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFreshHost, removeFreshHost } from '../../scripts/testbed/fresh.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import {
  containerOf,
  ferryChild,
  loadImages,
  onHost,
  serverLine,
  stackLines,
  testbedIsUp,
  watchProcesses,
  type TestbedHost,
} from './helpers.js';
import { FILES_SERVICE, startJob } from './backup-compose.js';
import { mysqlFiles, swapMysql } from '../../src/backup/mysql-restore.js';
import { render } from '../../src/shell/command.js';

const STACK = 'tbmysql';
const HOST = 'bkm';
const ROOT_CANARY = 'canary-mysql-root-5e2b9c71';
const USER_CANARY = 'canary-mysql-user-3a9f1e';
const RESTIC_CANARY = 'canary-restic-mysql-c48d20';
const CANARIES = [ROOT_CANARY, RESTIC_CANARY, USER_CANARY];
const REPO = `/var/backups/ferry-${STACK}`;
const ROWS = 3000;

const COMPOSE = `services:
  db:
    image: ferry-tb-mariadb:1
    environment:
      MARIADB_ROOT_PASSWORD: \${DB_ROOT_PASSWORD}
      MARIADB_DATABASE: shop
      MARIADB_USER: shop
      MARIADB_PASSWORD: \${DB_PASSWORD}
    volumes: [db-data:/var/lib/mysql]
    restart: unless-stopped
    mem_limit: 512m
${FILES_SERVICE}volumes:
  db-data: {}
  uploads: {}
`;

type Runner = (a: string[], file?: string) => Promise<Transcript>;

/** restic on the stack's repository, on the host. */
const restic = (h: TestbedHost, args: string, input?: string): string =>
  onHost(h, `env RESTIC_PASSWORD_FILE=/etc/ferry/backup/${STACK}.password restic -r ${REPO} ${args}`, input);

/** The newest manifest snapshot of the repository. */
function lastManifest(h: TestbedHost): { id: string; tags: string[] } {
  const list = JSON.parse(restic(h, 'snapshots --json --tag kind=manifest')) as {
    id: string;
    time: string;
    tags: string[];
  }[];
  return list.sort((a, b) => a.time.localeCompare(b.time)).at(-1)!;
}

/** SQL run as root in the stack's MariaDB (the password passed in the environment of docker exec, from the host's shell). */
const sql = (h: TestbedHost, text: string): string =>
  onHost(
    h,
    `c=${containerOf(STACK, 'db')}; until docker exec -e MYSQL_PWD=${ROOT_CANARY} $c mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.5; done; ` +
      `docker exec -i -e MYSQL_PWD=${ROOT_CANARY} $c mariadb -uroot -N -B`,
    text,
  );

/** Row counts of the tables the tests change, as `orders:N events:N extra:yes|no`. */
const live = (h: TestbedHost): string =>
  sql(
    h,
    "SELECT CONCAT('orders:', (SELECT count(*) FROM shop.orders), ' events:', (SELECT count(*) FROM audit.events), ' extra:', IF((SELECT count(*) FROM information_schema.tables WHERE table_schema = 'shop' AND table_name = 'extra') > 0, 'yes', 'no'));",
  ).trim();

function fill(h: TestbedHost): void {
  sql(
    h,
    [
      'SET SESSION max_recursive_iterations = 100000;',
      'CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200), amount DECIMAL(10,2), blob_col VARBINARY(64), at DATETIME);',
      `INSERT INTO shop.orders (note, amount, blob_col, at) WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${ROWS}) ` +
        `SELECT CONCAT('order ', n, IF(n % 7 = 0, ' it''s "quoted"\\nnew line', '')), n * 1.25, UNHEX(MD5(n)), '2026-12-01 10:00:00' + INTERVAL n SECOND FROM s;`,
      'CREATE TABLE shop.empty_one (k VARCHAR(10));',
      'CREATE VIEW shop.big_orders AS SELECT id, amount FROM shop.orders WHERE amount > 100;',
      'CREATE DATABASE audit;',
      'CREATE TABLE audit.events (what TEXT);',
      "INSERT INTO audit.events VALUES ('b'), ('a'), ('b'), (NULL);",
    ].join('\n'),
  );
}

/** With `more`, a repository off-site on `vault` too, and the spare a recovery goes to. */
function writeStack(
  dir: string,
  h: TestbedHost,
  schedule?: string,
  more?: { vault: TestbedHost; spare: TestbedHost },
): void {
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(join(dir, '.env'), `DB_ROOT_PASSWORD=${ROOT_CANARY}\nDB_PASSWORD=${USER_CANARY}\n`);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      serverLine(h),
      ...(more ? [serverLine(more.vault), serverLine(more.spare)] : []),
      'stacks:',
      ...stackLines(STACK, h.name, '90s'),
      '    backups:',
      '      password: { env: FERRY_BACKUP_PASSWORD }',
      `      repositories: [{ name: local, path: ${REPO} }${more ? `, { name: offsite, server: ${more.vault.name}, path: ${REPO}-offsite }` : ''}]`,
      ...(schedule ? [`      schedule: ${schedule}`, '      drill: weekly'] : []),
      '',
    ].join('\n'),
  );
}

interface Report {
  ok: boolean;
  proofs: { what: string; expected: string; found: string; ok: boolean }[];
  left: string[];
  error?: { code: string };
}

/** The MySQL proofs of a drill or restore report, as `WHAT: ROWS`. */
const mysqlProofs = (r: Report): string[] =>
  r.proofs.filter((p) => p.what.startsWith('mysql ')).map((p) => `${p.what}: ${p.found.split(',')[0]}`);

const EXPECTED = [
  `mysql db \`audit\`.\`events\`: 4 rows`,
  `mysql db \`shop\`.\`empty_one\`: 0 rows`,
  `mysql db \`shop\`.\`orders\`: ${ROWS} rows`,
];

/**
 * The stack's server gone (the fleet file points it nowhere): `ferry recover` deploys the
 * stack on a fresh spare, whose MariaDB starts with only what its environment creates, and
 * restores both databases there from the off-site repository, proven.
 */
async function recoveredElsewhere(run: Runner): Promise<void> {
  const [vault, spare] = [await createFreshHost(VAULT), await createFreshHost(SPARE)];
  extra.push(vault, spare);
  loadImages(spare, ['ferry-tb-mariadb:1', 'ferry-tb-app:1']);
  writeStack(dir, h, undefined, { vault, spare });
  const b = await run(['backup', 'run', STACK]);
  assert.equal(b.code, 0, b.err + b.out);
  const backedUp = live(h);
  const gone = readFileSync(join(dir, 'ferry.yml'), 'utf8').replace(
    `  ${h.name}: { host: ${h.host}, user: ${h.user}, port: ${h.port},`,
    `  ${h.name}: { host: 127.0.0.1, user: ${h.user}, port: 9,`,
  );
  assert.ok(gone.includes('127.0.0.1'));
  writeFileSync(join(dir, 'ferry-gone.yml'), gone);
  const r = await run(['recover', STACK, '--to', SPARE, '--yes', '--json'], 'ferry-gone.yml');
  assert.equal(r.code, 0, r.err + r.out);
  const report = JSON.parse(r.out) as { to: string; restore: Report & { repository: string; restored: string[] } };
  assert.equal(report.to, SPARE);
  assert.equal(report.restore.repository, 'offsite');
  assert.ok(report.restore.restored.includes('mysql db'), r.out);
  assert.deepEqual(mysqlProofs(report.restore), EXPECTED);
  assert.equal(live(spare), backedUp);
}

/** The fresh hosts of the recovery: the off-site repository's, and the spare. */
const [VAULT, SPARE] = ['bkmv', 'bkmn'];
const extra: TestbedHost[] = [];

/** bkm, once made; the fleet's directory, Ferry's state, and everything Ferry printed and the host ran meanwhile. */
let h: TestbedHost;
const dir = mkdtempSync(join(tmpdir(), `ferry-${STACK}-`));
const state = join(dir, 'state');
const outputs: string[] = [];
const processes: string[] = [];

/** a backup run dumps every database of the MariaDB service in one transaction, its volume left out. */
async function backupRun(run: Runner, watched: Runner): Promise<void> {
  const r = await watched(['backup', 'run', STACK]);
  assert.equal(r.code, 0, r.err + r.out);
  const list = await run(['backup', 'list', STACK, '--json']);
  assert.equal(list.code, 0, list.err);
  const runs = JSON.parse(list.out).runs as { complete: boolean; kinds: string[] }[];
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.complete, true);
  // The live InnoDB directory is not copied as files: the dump holds its data.
  assert.deepEqual(runs[0]!.kinds.filter((k) => !k.startsWith('release ')).sort(), ['mysql db', 'volume uploads']);
  const manifest = JSON.parse(restic(h, `dump ${lastManifest(h).id} /manifest.json`)) as {
    mysql: { databases: string[]; tables: { name: string; rows: number }[] }[];
  };
  assert.deepEqual(manifest.mysql[0]!.databases, ['audit', 'shop']);
  assert.deepEqual(
    manifest.mysql[0]!.tables.map((t) => `${t.name} ${t.rows}`),
    ['`audit`.`events` 4', '`shop`.`empty_one` 0', `\`shop\`.\`orders\` ${ROWS}`],
  );
}

/** a drill loads the dump into a scratch MariaDB and proves every table, then leaves nothing. */
async function drillProves(run: Runner, watched: Runner): Promise<void> {
  const r = await watched(['backup', 'drill', STACK, '--json']);
  assert.equal(r.code, 0, r.err + r.out);
  const report = JSON.parse(r.out) as Report;
  assert.equal(report.ok, true, r.out);
  assert.deepEqual(mysqlProofs(report), EXPECTED);
  assert.deepEqual(report.left, []);
  assert.equal(onHost(h, `docker ps -aq --filter label=ferry-drill=${STACK}`).trim(), '');
}

/** the timers back up and drill without Ferry, with the same proofs. */
async function timersProve(run: Runner): Promise<void> {
  writeStack(dir, h, 'daily');
  const r = await run(['backup', 'run', STACK]);
  assert.equal(r.code, 0, r.err + r.out);
  const backup = startJob(h, STACK, 'backup');
  assert.equal(backup.result, 'success', backup.journal);
  const since = onHost(h, 'date "+%Y-%m-%d %H:%M:%S"').trim();
  onHost(h, `systemctl start ferry-drill-${STACK}.service || true`);
  const journal = onHost(h, `journalctl -u ferry-drill-${STACK}.service --since "${since}" --no-pager -o cat`);
  assert.match(journal, /ok {3}mysql db: 3 table\(s\), every row count and checksum/);
  assert.match(journal, /every row, key and file came back/);
  assert.equal(onHost(h, `systemctl show -p Result --value ferry-drill-${STACK}.service`).trim(), 'success');
  for (const c of CANARIES) assert.equal((backup.journal + journal).includes(c), false, `${c} in a journal`);
}

/** a drill finds a dump that does not match its manifest. */
async function drillFindsMismatch(run: Runner): Promise<void> {
  // The newest manifest written again with one row more in a table: the restore must disagree.
  const last = lastManifest(h);
  const m = JSON.parse(restic(h, `dump ${last.id} /manifest.json`)) as { mysql: { tables: { rows: number }[] }[] };
  m.mysql[0]!.tables[0]!.rows += 1;
  restic(
    h,
    `backup --quiet --stdin --stdin-filename manifest.json --host ${STACK} ${last.tags.map((t) => `--tag ${t}`).join(' ')}`,
    JSON.stringify(m),
  );
  try {
    const r = await run(['backup', 'drill', STACK, '--json']);
    assert.equal(r.code, 1, r.err + r.out);
    const report = JSON.parse(r.out) as Report;
    assert.equal(report.ok, false);
    assert.equal(report.error?.code, 'backup-drill-failed', r.out);
    const bad = report.proofs.filter((p) => !p.ok);
    assert.deepEqual(
      bad.map((p) => `${p.what}: expected ${p.expected.split(',')[0]}, found ${p.found.split(',')[0]}`),
      ['mysql db `audit`.`events`: expected 5 rows, found 4 rows'],
    );
  } finally {
    restic(h, `forget ${lastManifest(h).id}`);
  }
}

/** a restore after damage loads the backup in place, keeps the live databases as a dump, and proves every table; a second changes nothing. */
async function restoreInPlace(run: Runner, watched: Runner): Promise<void> {
  const backedUp = live(h);
  assert.equal(backedUp, `orders:${ROWS} events:4 extra:no`);
  sql(
    h,
    "DELETE FROM shop.orders WHERE id > 100; CREATE TABLE shop.extra (a INT); INSERT INTO audit.events VALUES ('c');",
  );
  assert.equal(live(h), 'orders:100 events:5 extra:yes');
  const r = await watched(['restore', STACK, '--yes', '--json']);
  assert.equal(r.code, 0, r.err + r.out);
  const report = JSON.parse(r.out) as Report & { restored: string[]; kept: string[] };
  assert.deepEqual(report.restored, ['mysql db']);
  assert.deepEqual(mysqlProofs(report), EXPECTED);
  assert.equal(live(h), backedUp);
  // The view came back with its database.
  assert.equal(sql(h, 'SELECT count(*) FROM shop.big_orders;').trim(), String(ROWS - 80));
  const kept = /^mysql db: dump (\S+)$/.exec(report.kept.join('\n'))?.[1];
  assert.ok(kept, report.kept.join('\n'));
  assert.equal(onHost(h, `grep -c '^INSERT INTO \`orders\`' ${kept}`).trim(), '100');
  assert.match(onHost(h, `grep -c 'CREATE TABLE \`extra\`' ${kept}`), /^1/);
  assert.equal(onHost(h, `stat -c %a "$(dirname ${kept})"`).trim(), '700');
  // Its other services run again.
  assert.equal(onHost(h, `docker inspect -f '{{.State.Running}}' ${containerOf(STACK, 'files')}`).trim(), 'true');
  const again = await run(['restore', STACK, '--yes', '--json']);
  assert.equal(again.code, 0, again.err + again.out);
  const same = JSON.parse(again.out) as Report & { restored: string[] };
  assert.deepEqual(same.restored, []);
  assert.deepEqual(mysqlProofs(same), EXPECTED);
}

/**
 * A restore whose swap died on the server after the live databases were dumped, dropped
 * and half the restored dump loaded (the real swap script run on half the staged file,
 * after Ferry was killed before its swap): --resume loads the whole dump, proven, and the
 * kept copy holds the live data from before the restore, not the half-loaded one.
 */
async function killedMidSwap(run: Runner): Promise<void> {
  sql(h, "DELETE FROM shop.orders WHERE id > 200; INSERT INTO audit.events VALUES ('d');");
  assert.equal(live(h), 'orders:200 events:5 extra:no');
  const killed = await ferryChild(
    dir,
    state,
    ['restore', STACK, '--yes', '-f', 'ferry.yml', '--known-hosts', join(dir, 'known_hosts')],
    { FERRY_TEST_KILL_AT: `${STACK}/restore/swap:checked`, FERRY_BACKUP_PASSWORD: RESTIC_CANARY },
  );
  outputs.push(killed.out, killed.err);
  assert.equal(killed.signal, 'SIGKILL', killed.err);
  const id = /^\/var\/lib\/ferry\/restore\/[a-z0-9]+-([0-9a-f]{6})$/m.exec(
    onHost(h, `ls -td /var/lib/ferry/restore/${STACK}-* | head -n 1`),
  )?.[1];
  assert.ok(id);
  const f = mysqlFiles(STACK, id, 'db');
  onHost(h, `head -n $(( $(wc -l < ${f.staged}) / 2 )) ${f.staged} > /tmp/half.sql`);
  const container = onHost(h, `echo ${containerOf(STACK, 'db')}`).trim();
  const half = swapMysql(container, ['audit', 'shop'], {
    ...f,
    staged: '/tmp/half.sql',
    restored: '/tmp/half.done',
  });
  const said = onHost(h, `${render(half)} 2>&1 || true`);
  assert.notEqual(live(h), 'orders:200 events:5 extra:no', `the live databases were replaced in part: ${said}`);
  const r = await run(['restore', STACK, '--resume', '--yes', '--json']);
  assert.equal(r.code, 0, r.err + r.out);
  assert.deepEqual(mysqlProofs(JSON.parse(r.out) as Report), EXPECTED);
  assert.equal(live(h), `orders:${ROWS} events:4 extra:no`);
  assert.equal(onHost(h, `grep -c '^INSERT INTO \`orders\`' ${f.before}`).trim(), '200');
  assert.equal(onHost(h, `grep -c '^INSERT INTO \`events\`' ${f.before}`).trim(), '5');
  assert.equal(onHost(h, `docker inspect -f '{{.State.Running}}' ${containerOf(STACK, 'files')}`).trim(), 'true');
}

/** a service whose environment no longer opens it is refused with database-auth-failed, the host and a hint. */
async function authRefused(run: Runner): Promise<void> {
  sql(
    h,
    "ALTER USER 'root'@'localhost' IDENTIFIED BY 'another-one'; ALTER USER 'root'@'%' IDENTIFIED BY 'another-one';",
  );
  try {
    const r = await run(['backup', 'run', STACK]);
    assert.equal(r.code, 1, r.err + r.out);
    assert.match(r.err, /error database-auth-failed: .*backing up MySQL db into local/);
    assert.match(r.err, new RegExp(`at host ${HOST}`));
    assert.match(r.err, /hint: Ferry logs in with the service's own environment/);
  } finally {
    onHost(
      h,
      `docker exec -i -e MYSQL_PWD=another-one ${containerOf(STACK, 'db')} mariadb -uroot`,
      `ALTER USER 'root'@'localhost' IDENTIFIED BY '${ROOT_CANARY}'; ALTER USER 'root'@'%' IDENTIFIED BY '${ROOT_CANARY}';`,
    );
  }
}

describe(
  'MySQL and MariaDB backups: dumps streamed into restic, drills, scheduled runs, restores in place',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    const run: Runner = async (args, file = 'ferry.yml') => {
      const knownHosts = join(dir, 'known_hosts');
      writeFileSync(knownHosts, [h, ...extra].map((x) => readFileSync(x.knownHostsFile, 'utf8')).join(''));
      const t = await ferry([...args, '-f', file, '--known-hosts', knownHosts], {
        cwd: dir,
        env: { FERRY_STATE_DIR: state, FERRY_BACKUP_PASSWORD: RESTIC_CANARY },
      });
      outputs.push(t.out, t.err);
      return t;
    };
    const watched: Runner = async (args) => {
      const w = watchProcesses([h]);
      try {
        return await run(args);
      } finally {
        processes.push(await w.stop());
      }
    };

    before(async () => {
      h = await createFreshHost(HOST);
      loadImages(h, ['ferry-tb-mariadb:1', 'ferry-tb-app:1']);
      writeStack(dir, h);
      const applied = await run(['apply', STACK, '--yes']);
      assert.equal(applied.code, 0, applied.err + applied.out);
      fill(h);
    });

    after(async () => {
      for (const name of [HOST, ...extra.map((x) => x.name)]) await removeFreshHost(name);
    });

    test('a backup run dumps every database of the MariaDB service in one transaction, its volume left out', () =>
      backupRun(run, watched));

    test('a drill loads the dump into a scratch MariaDB and proves every table, then leaves nothing', () =>
      drillProves(run, watched));

    test('the timers back up and drill without Ferry, with the same proofs', () => timersProve(run));

    test('a drill finds a dump that does not match its manifest', () => drillFindsMismatch(run));

    test('a restore after damage loads the backup in place, keeps the live databases as a dump, and proves every table; a second changes nothing', () =>
      restoreInPlace(run, watched));

    test('a restore whose swap died midway on the server finishes with --resume, and keeps the data from before the restore', () =>
      killedMidSwap(run));

    test('a service whose environment no longer opens it is refused with database-auth-failed, the host and a hint', () =>
      authRefused(run));

    test("recover onto a fresh server while the stack's own is gone: both databases restored from the off-site repository, proven", () =>
      recoveredElsewhere(run));

    test('no password appears in any output, state file or process list', () => {
      for (const c of CANARIES) {
        for (const o of outputs) assert.equal(o.includes(c), false, `${c} in an output`);
        for (const p of processes) assert.equal(p.includes(c), false, `${c} in a process list`);
        for (const f of readdirSync(state, { recursive: true }) as string[]) {
          const path = join(state, f);
          if (statSync(path).isFile()) assert.equal(readFileSync(path).includes(c), false, `${c} in state/${f}`);
        }
      }
      assert.ok(
        processes.join('').includes('mariadb-dump') || processes.join('').includes('restic'),
        'the process lists saw the backup run',
      );
    });
  },
);
