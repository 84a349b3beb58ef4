import { test } from 'node:test';
import assert from 'node:assert/strict';
import { render } from '../shell/command.js';
import { authorizedLine, channelFor, type Endpoint } from './channel.js';
import type { Database } from './postgres.js';
import {
  conninfo,
  createSubscriptionInput,
  noEqualitySql,
  parseCutOver,
  parseNoKey,
  publicationExistsSql,
  replicaIdentitySql,
  replicaName,
  schemaCopyCommand,
  schemaRestoreCommand,
  sequencesDiffer,
} from './replica-sql.js';
import { holdCommand } from './steps/hold.js';
import { snapshotState } from './steps/proof-snapshot.js';
import { tunnelPattern, tunnelStartCommand, tunnelStopCommand } from './tunnel.js';

const d: Database = { service: 'db-main', user: 'app', db: 'shop', volumes: ['db-data'] };
const src: Endpoint = { name: 'old', address: '10.0.0.1', port: 22, user: 'root', sudo: false };
const dst: Endpoint = { name: 'new', address: '10.0.0.2', port: 2222, user: 'root', sudo: false };
const PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOJrt/jJU3qTF1/n9mFczQBbTM78wBMI3u/9KosNqIY x\n';

test('publication, subscription and slot share one plain identifier per database service', () => {
  assert.equal(replicaName(d), 'ferry_db_main');
  assert.equal(replicaName({ ...d, service: 'Db.1' }), 'ferry_db_1');
});

test('the subscription connects through the tunnel; quotes in values are escaped at both levels; the password only in the stdin text', () => {
  assert.equal(conninfo(d, ''), "host=127.0.0.1 port=15432 dbname='shop' user='app'");
  assert.equal(
    conninfo({ ...d, user: "o'brien" }, 'p\\w'),
    "host=127.0.0.1 port=15432 dbname='shop' user='o\\'brien' password='p\\\\w'",
  );
  assert.equal(
    createSubscriptionInput(d, "s3cr'et"),
    // The conninfo escapes the quote with a backslash: the SQL string is an escape string (E'...').
    "CREATE SUBSCRIPTION ferry_db_main CONNECTION E'host=127.0.0.1 port=15432 dbname=''shop'' user=''app'' password=''s3cr\\\\''et''' PUBLICATION ferry_db_main WITH (copy_data = true);\n",
  );
});

test('tables without a key: parsed with their identity, set FULL and back, and checked for types without equality', () => {
  assert.deepEqual(parseNoKey('public.logs|d\npublic."Audit"|f\n'), [
    { name: 'public.logs', full: false },
    { name: 'public."Audit"', full: true },
  ]);
  assert.equal(
    replicaIdentitySql(['public.logs', 'x.y'], true),
    'ALTER TABLE public.logs REPLICA IDENTITY FULL;\nALTER TABLE x.y REPLICA IDENTITY FULL;',
  );
  assert.equal(replicaIdentitySql(['public.logs'], false), 'ALTER TABLE public.logs REPLICA IDENTITY DEFAULT;');
  const q = noEqualitySql(["public.it's"]);
  assert.match(q, /IN \('public\.it''s'\)/);
  assert.match(q, /t\.typname IN \('json', 'xml', 'point'/);
});

test('sequences: the names whose values differ, or that one side lacks', () => {
  assert.deepEqual(
    sequencesDiffer('public.a_id_seq=10\npublic.b_id_seq=\npublic.c=3\n', 'public.a_id_seq=10\npublic.b_id_seq=1\n'),
    ['public.b_id_seq', 'public.c'],
  );
  assert.deepEqual(sequencesDiffer('public.a=1\n', 'public.a=1\n'), []);
});

test('the cut-over reads the position and the sequences at once; the position is found in any row, and its absence is told', () => {
  assert.deepEqual(parseCutOver("SELECT setval('public.a_id_seq', 7, true);\nlsn 0/196CDC8\n"), {
    lsn: '0/196CDC8',
    setvals: ["SELECT setval('public.a_id_seq', 7, true);"],
  });
  assert.deepEqual(parseCutOver('lsn 1/0\n'), { lsn: '1/0', setvals: [] });
  assert.equal(parseCutOver('').lsn, undefined);
});

test('the schema goes straight from container to container, without rows, publications or subscriptions', () => {
  assert.equal(
    render(schemaCopyCommand('shop_db_1', schemaRestoreCommand('new_db_1', d), d)),
    "bash -o pipefail -c 'docker exec shop_db_1 pg_dump -U app -d shop -Fc --schema-only --no-owner --no-privileges --no-publications --no-subscriptions | docker exec -i new_db_1 pg_restore -U app -d shop --no-owner --no-privileges --exit-on-error --single-transaction'",
  );
});

test('the replication key may forward only to the database and listen nowhere useful', () => {
  const back = channelFor('shop-replica', dst, src);
  assert.equal(
    authorizedLine(back, PUB, '10.0.0.2', ['172.18.0.3:5432']),
    'from="10.0.0.2",restrict,port-forwarding,permitopen="172.18.0.3:5432",permitlisten="127.0.0.1:1" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOJrt/jJU3qTF1/n9mFczQBbTM78wBMI3u/9KosNqIY ferry-migrate-shop-replica',
  );
  assert.match(authorizedLine(back, PUB, false), /^restrict ssh-ed25519 /);
});

test("the tunnel runs ssh -f -N -L inside the container's network namespace, one per database; stopping it cannot match the shell that stops it", () => {
  const back = channelFor('shop-replica', dst, src);
  const start = render(tunnelStartCommand(back, 'db', '4242', '172.18.0.3:5432'));
  assert.match(
    start,
    /^sh -c 'log=\$1; shift; "\$@" <\/dev\/null >"\$log" 2>&1 \|\| \{ tail -n 3 "\$log" >&2; exit 1; \}' sh \/root\/.ssh\/ferry-migrate-shop-replica\.db\.log nsenter -t 4242 -n ssh -i \/root\/.ssh\/ferry-migrate-shop-replica .* -p 22 -o SetEnv=FERRY_TUNNEL=db -f -N -o ExitOnForwardFailure=yes -L 127\.0\.0\.1:15432:172\.18\.0\.3:5432 root@10\.0\.0\.1$/,
  );
  // The ssh process's own command line: what the shell runs as "$@".
  const argv = (line: string) => line.slice(line.indexOf(' nsenter ') + 1);
  const pattern = new RegExp(tunnelPattern(back, 'db'));
  assert.ok(pattern.test(argv(start)), 'matches the ssh command line');
  assert.ok(!pattern.test(render(tunnelStopCommand(back, 'db'))), 'does not match the pkill line itself');
  const other = render(tunnelStartCommand(back, 'db2', '4343', '172.18.0.4:5432'));
  assert.ok(!pattern.test(argv(other)), 'nor the tunnel of another database');
});

test("the hold drops the source's connections to port 80, with iptables or ip6tables by address", () => {
  assert.equal(
    render(holdCommand('shop', '10.0.0.1', '-I')),
    'iptables -w -I INPUT -p tcp -s 10.0.0.1 --dport 80 -m comment --comment ferry-hold-shop -j DROP',
  );
  assert.equal(
    render(holdCommand('shop', 'fd00::1', '-D')),
    'ip6tables -w -D INPUT -p tcp -s fd00::1 --dport 80 -m comment --comment ferry-hold-shop -j DROP',
  );
});

test("the proof's snapshot: held, or already read to the end (a small database), is taken; an output without the end is an error", () => {
  assert.equal(snapshotState('1', undefined), 'taken');
  assert.equal(snapshotState('0', undefined), 'waiting');
  assert.equal(snapshotState('0', 'snapshot\npublic.a|1|x\nferry-proof-done\n'), 'taken');
  assert.equal(snapshotState('0', 'ERROR:  relation "a" does not exist\n'), 'failed');
});

test('hostile names (quotes, backslash, $$, newline): literals in the SQL, escaped values in the connection string, a plain replica name', () => {
  const table = 'public."a\'b\\c$$d\ne"';
  assert.match(noEqualitySql([table, 'public.x']), /IN \(E'public\."a''b\\\\c\$\$d\ne"', 'public\.x'\)/);
  const odd: Database = { ...d, db: "sh'op\\1", user: 'a $$b\nc' };
  assert.equal(conninfo(odd, ''), "host=127.0.0.1 port=15432 dbname='sh\\'op\\\\1' user='a $$b\nc'");
  assert.equal(
    createSubscriptionInput(odd, ''),
    "CREATE SUBSCRIPTION ferry_db_main CONNECTION E'host=127.0.0.1 port=15432 dbname=''sh\\\\''op\\\\\\\\1'' user=''a $$b\nc''' PUBLICATION ferry_db_main WITH (copy_data = true);\n",
  );
  const name = replicaName({ ...d, service: "x'y\\\n$$" });
  assert.equal(name, 'ferry_x_y____');
  assert.equal(
    publicationExistsSql({ ...d, service: "x'y" }),
    "SELECT count(*) FROM pg_publication WHERE pubname = 'ferry_x_y'",
  );
});
