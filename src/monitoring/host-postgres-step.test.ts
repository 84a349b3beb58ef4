import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drive, testContext } from '../engine/test-helpers.js';
import { RecordingTransport } from '../transport/recording.js';
import { cmd, quiet, render } from '../shell/command.js';
import { psqlAsSuperuser, clustersCommand } from '../deploy/host-postgres.js';
import { HBA_ERRORS } from '../deploy/steps/host-postgres-read.js';
import type { HostPostgresDef } from '../model/fleet.js';
import { hostPostgresMonitorStep } from './host-postgres-step.js';
import {
  dropCommand,
  loginCommand,
  makePasswordCommand,
  monitorHbaBlock,
  passwordFileCommand,
  ROLE_SQL,
  setRoleCommand,
} from './host-postgres.js';

const pg: HostPostgresDef = {
  cluster: 'main',
  port: 5432,
  superuser: 'postgres',
  maxConnections: 100,
  tune: false,
};
const HBA = '/etc/postgresql/17/main/pg_hba.conf';
const USERS = 'local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n';
const step = () =>
  hostPostgresMonitorStep({ id: 'ferry-exporters-db/host-postgres-login', host: 'db', pg, sudo: true, dependsOn: [] });

type Reply = { code?: number; stdout?: string; stderr?: string };

/** A server whose Postgres has the roles and file given (none: no login yet); its logins answer `logins` in turn, the last for good. */
function server(roles = '', file = '', logins: Reply[] = [{ stdout: '1\n' }]) {
  const t = new RecordingTransport('db');
  logins.forEach((r, i) => t.when(render(loginCommand(pg)), r, i < logins.length - 1 ? { times: 1 } : {}));
  return t
    .when(render(quiet(clustersCommand())), {
      stdout: '17 main 5432 online postgres /var/lib/postgresql/17/main /var/log/x\n',
    })
    .when(render(psqlAsSuperuser(pg, ['SHOW hba_file'])), { stdout: `${HBA}\n` })
    .when(render(psqlAsSuperuser(pg, [ROLE_SQL])), { stdout: roles })
    .when(render(passwordFileCommand()), { stdout: file })
    .when(render(cmd('stat', '-c', '%U:%G', HBA)), { stdout: 'postgres:postgres\n' })
    .when(render(makePasswordCommand()), {})
    .when(render(setRoleCommand(pg)), {})
    .when(render(psqlAsSuperuser(pg, [HBA_ERRORS])), { stdout: '' })
    .when(render(psqlAsSuperuser(pg, ['SELECT pg_reload_conf()'])), { stdout: 't\n' })
    .when(render(dropCommand(pg, true, true)), {})
    .file(HBA, USERS);
}

const READS = [
  render(quiet(clustersCommand())),
  render(psqlAsSuperuser(pg, ['SHOW hba_file'])),
  render(psqlAsSuperuser(pg, [ROLE_SQL])),
  render(passwordFileCommand()),
  render(cmd('stat', '-c', '%U:%G', HBA)),
];
const RELOAD = [render(psqlAsSuperuser(pg, [HBA_ERRORS])), render(psqlAsSuperuser(pg, ['SELECT pg_reload_conf()']))];
const execs = (t: RecordingTransport) => t.calls.flatMap((c) => (c.kind === 'exec' ? [c.line] : []));

test('the monitoring login: the password made on the server, the role set from it on stdin, the block written and reloaded; verified by logging in', async () => {
  const t = server();
  const { checked, verified } = await drive(step(), testContext(t));
  assert.equal(
    checked.change?.summary,
    'make the password in /etc/ferry/monitoring/host-postgres.pass; create role ferry_monitor (pg_monitor); pg_hba.conf: ferry_monitor from 127.0.0.1',
  );
  assert.deepEqual(verified, { ok: true });
  assert.deepEqual(execs(t), [
    ...READS,
    render(makePasswordCommand()),
    render(setRoleCommand(pg)),
    ...RELOAD,
    render(loginCommand(pg)),
  ]);
  assert.ok(t.calls.every((c) => c.kind !== 'exec' || c.sudo));
  const upload = t.calls.find((c) => c.kind === 'upload');
  assert.ok(upload?.kind === 'upload');
  assert.equal(upload.content, `${USERS}\n${monitorHbaBlock()}\n`, "Ferry's block after the user's lines");
  assert.equal(upload.mode, 0o640);
  assert.doesNotMatch(execs(t).join('\n'), /PASSWORD '[0-9a-f]/, 'no password on a command line');
});

test('the monitoring login in place: nothing to do once it logs in; a role that does not log in gets its password set again', async () => {
  const settled = server('role\nmember\n', 'file\n').file(HBA, `${USERS}\n${monitorHbaBlock()}\n`);
  const { checked } = await drive(step(), testContext(settled));
  assert.equal(checked.needed, false);
  assert.deepEqual(execs(settled), [...READS, render(loginCommand(pg))]);
  const refused = server('role\nmember\n', 'file\n', [
    { code: 2, stderr: 'password authentication failed' },
    { stdout: '1\n' },
  ]).file(HBA, `${USERS}\n${monitorHbaBlock()}\n`);
  const again = await drive(step(), testContext(refused));
  assert.equal(again.checked.change?.summary, "set ferry_monitor's password (it does not log in)");
  assert.deepEqual(again.verified, { ok: true });
});

test('the monitoring login: a login still refused fails the verification; rollback takes the block out and drops what the step made', async () => {
  const t = server('', '', [{ code: 2, stderr: 'no pg_hba.conf entry' }]);
  const { verified } = await drive(step(), testContext(t), { rollback: true });
  assert.equal(verified?.ok, false);
  assert.match(
    (verified as { message: string }).message,
    /ferry_monitor cannot log in to db's Postgres\/main over 127\.0\.0\.1/,
  );
  const lines = execs(t);
  assert.deepEqual(lines.slice(-3), [...RELOAD, render(dropCommand(pg, true, true))]);
  const uploads = t.calls.filter((c) => c.kind === 'upload');
  const last = uploads.at(-1);
  // The user's lines as they were; withBlock leaves the blank line it put before the block.
  assert.equal(last?.kind === 'upload' && last.content, `${USERS}\n`, 'pg_hba.conf without the block');
});
