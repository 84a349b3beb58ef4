import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databasesOf, MYSQL_BATCH, MYSQL_CLIENT, MYSQL_SUMS, mysqlBackup } from './mysql.js';
import { tablesOf } from './manifest.js';

/** A dump as mysqldump writes it with the backup's options (two databases, a view, an empty table). */
const DUMP = `-- MariaDB dump 10.19
/*!40101 SET NAMES utf8mb4 */;
CREATE DATABASE /*!32312 IF NOT EXISTS*/ \`audit\` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;

USE \`audit\`;
DROP TABLE IF EXISTS \`events\`;
CREATE TABLE \`events\` (
  \`what\` text DEFAULT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
set autocommit=0;
INSERT INTO \`events\` VALUES ('b');
INSERT INTO \`events\` VALUES (NULL);
commit;
CREATE DATABASE /*!32312 IF NOT EXISTS*/ \`shop\` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;

USE \`shop\`;
CREATE TABLE \`empty_one\` (
  \`k\` varchar(10) DEFAULT NULL
) ENGINE=InnoDB;
CREATE TABLE \`orders\` (
  \`id\` int(11) NOT NULL AUTO_INCREMENT,
  \`note\` text,
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB;
INSERT INTO \`orders\` VALUES (1,'it\\'s\\nnew');
INSERT INTO \`orders\` VALUES (2,0x00FF);
/*!50001 CREATE VIEW \`big\` AS SELECT 1 AS \`id\` */;
`;

function sums(dump: string): { out: string; tables: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-mysql-sums-'));
  const r = spawnSync('awk', ['-v', `dir=${dir}`, MYSQL_SUMS], { input: dump, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { out: r.stdout, tables: readFileSync(join(dir, 'tables'), 'utf8') };
}

test("the dump's figures: every table of every database, its rows counted and hashed, the dump passed on unchanged", () => {
  const { out, tables } = sums(DUMP);
  assert.equal(out, DUMP);
  assert.deepEqual(tables.trim().split('\n'), [
    '`audit`.`events`\t2\t1',
    '`shop`.`empty_one`\t0\t2',
    '`shop`.`orders`\t2\t3',
  ]);
});

test('the backup script prints the databases and one line per table; a changed row changes its hash only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-mysql-backup-'));
  // docker and restic stand-ins: the container answers the client's queries; restic runs its command.
  const docker = join(dir, 'docker');
  writeFileSync(
    docker,
    `#!/bin/bash
case "$*" in
  *"ferry-mysql sql"*) printf 'audit\\nshop\\n' ;;
  *"ferry-mysql user"*) echo root ;;
  *"ferry-mysql dump"*) echo "$*" > "${dir}/dump-args"; cat "${dir}/dump.sql" ;;
esac
`,
  );
  const restic = join(dir, 'restic');
  writeFileSync(
    restic,
    `#!/bin/bash\nwhile [ "$1" != "--" ]; do shift; done; shift; "$@" > "${dir}/stored"\necho '{"message_type":"summary","snapshot_id":"abc"}'\n`,
  );
  chmodSync(docker, 0o755);
  chmodSync(restic, 0o755);
  const backup = (dump: string) => {
    writeFileSync(join(dir, 'dump.sql'), dump);
    const c = mysqlBackup({ name: 'here', stack: 'shop', url: '/srv/r' }, 'cid', 'db', 'R1');
    assert.equal(c.kind, 'argv');
    const argv = c.kind === 'argv' ? c.argv : [];
    const r = spawnSync(argv[0]!, argv.slice(1), {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const out = backup(DUMP);
  assert.equal(readFileSync(join(dir, 'stored'), 'utf8'), DUMP, 'restic stored the dump as it came');
  assert.match(
    readFileSync(join(dir, 'dump-args'), 'utf8'),
    /--single-transaction .*--routines --events --databases audit shop/,
  );
  assert.deepEqual(databasesOf(out), ['audit', 'shop']);
  const before = tablesOf(out);
  assert.deepEqual(
    before.map((t) => `${t.name} ${t.rows}`),
    ['`audit`.`events` 2', '`shop`.`empty_one` 0', '`shop`.`orders` 2'],
  );
  assert.equal(before[1]!.checksum, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  const after = tablesOf(backup(DUMP.replace('(2,0x00FF)', '(2,0x00FE)')));
  assert.deepEqual(
    after.map((t, k) => t.checksum === before[k]!.checksum),
    [true, true, false],
  );
});

/** The client's choice of login: who, and whether the password reached it by MYSQL_PWD (never its argv). */
function login(env: Record<string, string>): { user: string; argv: string; pwd: string; err: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-mysql-client-'));
  const fake = join(dir, 'mysql');
  writeFileSync(fake, '#!/bin/sh\necho "$*"\necho "$MYSQL_PWD"\n');
  chmodSync(fake, 0o755);
  const run = (tool: string) =>
    spawnSync('sh', ['-c', MYSQL_CLIENT, 'ferry-mysql', tool, '-e', 'SELECT 1'], {
      encoding: 'utf8',
      env: { PATH: `${dir}:/usr/bin:/bin`, ...env },
    });
  const who = run('user');
  const sql = run('sql');
  const [argv = '', pwd = ''] = sql.stdout.split('\n');
  return { user: who.stdout.trim(), argv, pwd, err: who.stderr + sql.stderr };
}

test("the client logs in with the container's own environment: root first, else the app user; the password only in MYSQL_PWD", () => {
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-mysql-pw-')), 'pw');
  writeFileSync(file, 'from-a-file');
  assert.deepEqual(login({ MARIADB_ROOT_PASSWORD: 'r00t', MARIADB_USER: 'app', MARIADB_PASSWORD: 'a' }), {
    user: 'root',
    argv: '-uroot -e SELECT 1',
    pwd: 'r00t',
    err: '',
  });
  assert.equal(login({ MYSQL_ROOT_PASSWORD_FILE: file }).pwd, 'from-a-file');
  assert.deepEqual(login({ MYSQL_USER: 'app', MYSQL_PASSWORD: 'p w$' }), {
    user: 'app',
    argv: '-uapp -e SELECT 1',
    pwd: 'p w$',
    err: '',
  });
  assert.equal(login({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1' }).user, 'root');
  assert.match(login({}).err, /no root password and no MARIADB_USER or MYSQL_USER/);
});

test('a dump is loaded in batches: the rows of a table joined, at most 1,000 to a statement, every other line as it was', () => {
  const batch = (dump: string) => {
    const r = spawnSync('awk', [MYSQL_BATCH], { input: dump, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const out = batch(DUMP);
  assert.deepEqual(
    out.split('\n').filter((l) => l.startsWith('INSERT')),
    ["INSERT INTO `events` VALUES ('b'),(NULL);", "INSERT INTO `orders` VALUES (1,'it\\'s\\nnew'),(2,0x00FF);"],
  );
  const others = (t: string) => t.split('\n').filter((l) => !l.startsWith('INSERT'));
  assert.deepEqual(others(out), others(DUMP));
  const many = Array.from({ length: 2500 }, (_, k) => `INSERT INTO \`t\` VALUES (${k});`).join('\n');
  const statements = batch(`${many}\n`).trim().split('\n');
  assert.deepEqual(
    statements.map((l) => l.split('),(').length),
    [1000, 1000, 500],
  );
  assert.equal(statements[2]!.endsWith('(2499);'), true);
});
