import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../../engine/test-helpers.js';
import { RecordingTransport } from '../../transport/recording.js';
import { quiet, render } from '../../shell/command.js';
import { Secret } from '../../core/secret.js';
import { StepError } from '../../engine/errors.js';
import { clustersCommand, psqlAsSuperuser } from '../host-postgres.js';
import { scramMatches, scramVerifier } from '../scram.js';
import type { ServedDatabase } from '../server-postgres.js';
import { applySql, serverPostgresStep, stateSql } from './server-postgres.js';

const CANARY = 'shop-pw-canary-91';
const d: ServedDatabase = {
  service: 'db',
  db: 'shop',
  user: 'shop',
  password: new Secret(CANARY),
  postgres: { cluster: 'main', port: 5432, superuser: 'postgres', maxConnections: 100, tune: false },
};
const step = () =>
  serverPostgresStep({ id: 'shop/server-postgres/db', host: 'app', stack: 'shop', d, sudo: true, dependsOn: [] });
const READ = render(psqlAsSuperuser(d.postgres, [stateSql(d)]));
const CLUSTERS = render(quiet(clustersCommand()));

/** A server whose Postgres answers the state query with `states` in turn (the last for good). */
function server(states: string[]) {
  const t = new RecordingTransport('app').when(CLUSTERS, {
    stdout: '17 main 5432 online postgres /var/lib/postgresql/17/main /var/log/x\n',
  });
  states.forEach((s, i) => t.when(READ, { stdout: s }, i < states.length - 1 ? { times: 1 } : {}));
  return t.when(render(psqlAsSuperuser(d.postgres, [])), {});
}
const execs = (t: RecordingTransport) => t.calls.flatMap((c) => (c.kind === 'exec' ? [c.line] : []));

test('role and database missing: both made from stdin, the password as its SCRAM verifier; verified by reading them back', async () => {
  const t = server(['', `role|t|${scramVerifier(CANARY)}\ndb|shop\n`]);
  const { checked, verified } = await drive(step(), testContext(t));
  assert.equal(checked.change?.summary, 'create role shop; create database shop owned by shop');
  assert.deepEqual(verified, { ok: true });
  // Apply acts on what the check saw; verify reads it all again.
  assert.deepEqual(execs(t), [CLUSTERS, READ, render(psqlAsSuperuser(d.postgres, [])), CLUSTERS, READ]);
  const applied = t.calls.find((c) => c.kind === 'exec' && c.stdin !== undefined);
  assert.ok(applied?.kind === 'exec');
  assert.equal(applied.stdin, '[REDACTED]', 'the SQL is a secret');
  assert.ok(t.calls.every((c) => c.kind !== 'exec' || c.sudo));
  assert.doesNotMatch(JSON.stringify(t.calls), new RegExp(CANARY));
  const sql = applySql(d, { role: 'missing' }).reveal();
  assert.match(
    sql,
    /^CREATE ROLE "?shop"? WITH LOGIN PASSWORD 'SCRAM-SHA-256\$4096:[^']+';\nCREATE DATABASE "?shop"? OWNER "?shop"?;\n$/,
  );
  assert.ok(scramMatches(CANARY, /'([^']+)'/.exec(sql)![1]!), 'the verifier is of the password');
  assert.doesNotMatch(sql, new RegExp(CANARY), 'the password itself never reaches the server');
});

test('in place: nothing to do; another password or no login: the role is altered, the database kept', async () => {
  const settled = server([`role|t|${scramVerifier(CANARY)}\ndb|shop\n`]);
  assert.equal((await drive(step(), testContext(settled))).checked.needed, false);
  assert.deepEqual(execs(settled), [CLUSTERS, READ]);
  const other = server([`role|t|${scramVerifier('old')}\ndb|shop\n`]);
  assert.equal(
    (await step().check(testContext(other))).change?.summary,
    "set role shop's password (POSTGRES_PASSWORD)",
  );
  const nologin = server([`role|f|${scramVerifier(CANARY)}\ndb|shop\n`]);
  assert.equal((await step().check(testContext(nologin))).change?.summary, 'let role shop log in');
  assert.match(
    applySql(d, { role: 'password', owner: 'shop' }).reveal(),
    /^ALTER ROLE "?shop"? WITH LOGIN PASSWORD 'SCRAM-SHA-256\$[^']+';\n$/,
  );
});

test("a database of another role's is refused at check, naming both", async () => {
  const t = server([`role|t|${scramVerifier(CANARY)}\ndb|postgres\n`]);
  await assert.rejects(step().check(testContext(t)), (e: unknown) => {
    assert.ok(e instanceof StepError);
    assert.equal(e.code, 'server-postgres-conflict');
    assert.match(e.message, /database shop in app's Postgres\/main belongs to postgres, not to shop/);
    return true;
  });
});
