/**
 * A stack reaching the Postgres installed on its own server (Debian's postgresql, outside
 * Docker), on a fresh Debian 13 host with ufw active: its first apply creates the stack's
 * two networks, writes exactly their subnets into pg_hba.conf (for the one database and
 * role), makes Postgres listen on Docker's bridge address, and lets the containers in
 * through ufw, so that the services become healthy by connecting with their password (a
 * canary secret, in no output or state file). A second apply changes nothing; a cluster
 * that is not there is refused with its code before anything changes; `tune: true` sets
 * the memory settings from the server's size. A stack on a second fresh server connects
 * across, let in by its server's address alone. Monitored, the host's Postgres gets an
 * exporter that logs in as a role of Ferry's, its password made on the server and in no
 * output, state file or process list.
 *
 * ferry-test-lane: side (its host is a fresh one of its own, scripts/testbed/fresh.mjs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createFreshHost, removeFreshHost } from '../../scripts/testbed/fresh.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import { loadImages, onHost, serverLine, stackLines, testbedIsUp, type TestbedHost } from './helpers.js';

const CANARY = 'host-pg-canary-7e1d0b';
const HOST = 'hpg';
const STACK = 'tbhostpg';
/** The server of a stack that connects to HOST's Postgres from another server. */
const APP_HOST = 'hpga';
const REMOTE = 'tbremote';
/** The server that stack then moves to. */
const TO_HOST = 'hpgb';
/**
 * psql in an image whose name says nothing of Postgres, so that the stack on another server
 * has no database of its own for a migration to move (tagged here, pushed by Ferry).
 */
const CLIENT = 'ferry-tb-pgclient:1';
/** A stack whose own Postgres service is tuned. */
const TUNED = 'tbtuned';

/** Each service is healthy only once it can log in to the host's Postgres as app, with its password. */
const CAN_LOG_IN = `PGPASSWORD=$$DB_PASSWORD psql -h host.docker.internal -U app -d app -Atc 'SELECT 1'`;
const COMPOSE = `services:
  api:
    image: ferry-tb-postgres:1
    entrypoint: ["sleep", "infinity"]
    env_file: .env
    extra_hosts: ["host.docker.internal:host-gateway"]
    healthcheck: { test: ["CMD-SHELL", "${CAN_LOG_IN}"], interval: 2s, retries: 20 }
  worker:
    image: ferry-tb-postgres:1
    entrypoint: ["sleep", "infinity"]
    env_file: .env
    extra_hosts: ["host.docker.internal:host-gateway"]
    networks: [jobs]
    healthcheck: { test: ["CMD-SHELL", "${CAN_LOG_IN}"], interval: 2s, retries: 20 }
networks:
  jobs: {}
`;

function fleetFile(h: TestbedHost, postgres: string, extra = ''): string {
  return [
    'servers:',
    serverLine(h, `, ${extra}postgres: ${postgres}`),
    'stacks:',
    ...stackLines(STACK, h.name, '60s'),
    '    connections:',
    `      - { service: api, pool: 10, to: "server:${h.name}", database: app, user: app }`,
    `      - { service: worker, pool: 4, to: "server:${h.name}", database: app, user: app }`,
    '',
  ].join('\n');
}

/** A stack on `app` whose api connects to `h`'s Postgres by its address; the fleet file of both servers. */
function writeRemote(dir: string, h: TestbedHost, app: TestbedHost, others: TestbedHost[] = []): void {
  const login = `PGPASSWORD=$$DB_PASSWORD psql -h ${h.host} -U app -d app -Atc 'SELECT 1'`;
  writeFileSync(
    join(dir, 'remote-compose.yml'),
    `services:
  api:
    image: ${CLIENT}
    entrypoint: ["sleep", "infinity"]
    env_file: .env
    healthcheck: { test: ["CMD-SHELL", "${login}"], interval: 2s, retries: 20 }
`,
  );
  writeFileSync(
    join(dir, 'remote.yml'),
    [
      'servers:',
      serverLine(h, ', postgres: { max_connections: 120 }'),
      serverLine(app),
      ...others.map((x) => serverLine(x)),
      'stacks:',
      `  ${REMOTE}:`,
      `    server: ${app.name}`,
      '    compose: remote-compose.yml',
      `    project: ${REMOTE}`,
      '    deploy: { health_timeout: 60s }',
      `    connections: [{ service: api, pool: 3, to: "server:${h.name}", database: app, user: app }]`,
      '',
    ].join('\n'),
  );
}

const psql = (h: TestbedHost, q: string) => onHost(h, `cd / && runuser -u postgres -- psql -XAtq -c "${q}"`).trim();
const hbaFile = (h: TestbedHost) => psql(h, 'SHOW hba_file');
const subnet = (h: TestbedHost, net: string) =>
  onHost(h, `docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' ${net}`).trim();
const sha = (h: TestbedHost, path: string) => onHost(h, `sha256sum ${path}`).split(' ')[0]!;

describe('a Postgres on the host', { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' }, () => {
  let h: TestbedHost;
  let dir: string;
  const shown: string[] = [];
  const run = async (args: string[], file = 'ferry.yml', knownHosts = h.knownHostsFile): Promise<Transcript> => {
    const t = await ferry([...args, '-f', file, '--known-hosts', knownHosts], {
      cwd: dir,
      env: { FERRY_STATE_DIR: join(dir, 'state') },
    });
    shown.push(t.out, t.err);
    return t;
  };

  before(async () => {
    execFileSync('docker', ['tag', 'ferry-tb-postgres:1', CLIENT]);
    h = await createFreshHost(HOST);
    loadImages(h, ['ferry-tb-postgres:1']);
    onHost(h, 'systemctl start postgresql && for i in $(seq 1 30); do pg_isready -q && exit 0; sleep 1; done; exit 1');
    psql(h, `CREATE ROLE app LOGIN PASSWORD '${CANARY}'`);
    psql(h, 'CREATE DATABASE app OWNER app');
    // A server with its firewall on: only ssh is let in.
    onHost(h, 'ufw allow 22/tcp >/dev/null && ufw --force enable >/dev/null');
    dir = mkdtempSync(join(tmpdir(), 'ferry-hostpg-'));
    writeFileSync(join(dir, 'compose.yml'), COMPOSE);
    writeFileSync(join(dir, '.env'), `DB_PASSWORD=${CANARY}\n`);
    writeFileSync(join(dir, 'ferry.yml'), fleetFile(h, '{ max_connections: 100 }'));
  });
  after(async () => {
    if (process.env.KEEP) return;
    await removeFreshHost(HOST);
    await removeFreshHost(APP_HOST);
    await removeFreshHost(TO_HOST);
  });

  test('apply lets exactly the stack networks in, and its services log in with their password', async () => {
    const plan = await run(['plan']);
    assert.equal(plan.code, 0, plan.out + plan.err);
    assert.match(plan.out, /tbhostpg\/host-postgres +change +create network tbhostpg_default, tbhostpg_jobs/);
    assert.match(plan.out, /listen_addresses 'localhost' -> 'localhost,172\.17\.0\.1' \(restarts Postgres\)/);
    const t = await run(['apply', '--yes']);
    assert.equal(t.code, 0, t.out + t.err);
    const hba = onHost(h, `cat ${hbaFile(h)}`);
    const nets = [subnet(h, `${STACK}_default`), subnet(h, `${STACK}_jobs`)].sort();
    const lines = hba.split('\n').filter((l) => /^host +app +app /.test(l));
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/)[3]),
      nets,
      'one line per network of the stack, for app/app only',
    );
    assert.match(hba, new RegExp(`# BEGIN ferry ${STACK}`));
    assert.equal(psql(h, 'SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL'), '0');
    assert.equal(psql(h, 'SHOW listen_addresses'), 'localhost,172.17.0.1');
    for (const svc of ['api', 'worker'])
      assert.equal(
        onHost(
          h,
          `docker exec ${STACK}-${svc}-1 sh -c 'PGPASSWORD=$DB_PASSWORD psql -h host.docker.internal -U app -d app -Atc "SELECT 41 + 1"'`,
        ).trim(),
        '42',
        `${svc} logs in to the host's Postgres`,
      );
    assert.match(onHost(h, 'ufw show added'), /ferry-harden tbhostpg\/host-postgres/);
    assert.match(onHost(h, 'systemctl cat postgresql@17-main'), /After=docker\.service/);
  });

  test('a second apply changes nothing', async () => {
    const before = sha(h, hbaFile(h));
    const plan = await run(['plan']);
    const t = await run(['apply', '--yes', '--json']);
    assert.equal(t.code, 0, t.out + t.err);
    assert.equal((JSON.parse(t.out.trim().split('\n').pop()!) as { changed: number }).changed, 0, plan.out);
    assert.equal(sha(h, hbaFile(h)), before);
  });

  test('a cluster that is not there is refused with its code and the host, and nothing changes', async () => {
    const before = sha(h, hbaFile(h));
    const started = onHost(h, `docker inspect --format '{{.State.StartedAt}}' ${STACK}-api-1`).trim();
    writeFileSync(join(dir, 'ferry.yml'), fleetFile(h, '{ max_connections: 100, version: 13 }'));
    try {
      const t = await run(['apply', '--yes']);
      assert.notEqual(t.code, 0, t.out);
      assert.match(t.out + t.err, /host-postgres-missing/);
      assert.match(t.out + t.err, /no Postgres cluster 13\/main \(pg_lsclusters: 17\/main on 5432\)/);
      assert.doesNotMatch(t.out + t.err, /at .*\.ts:\d+/, 'no stack trace');
      assert.equal(sha(h, hbaFile(h)), before);
      assert.equal(onHost(h, `docker inspect --format '{{.State.StartedAt}}' ${STACK}-api-1`).trim(), started);
    } finally {
      writeFileSync(join(dir, 'ferry.yml'), fleetFile(h, '{ max_connections: 100 }'));
    }
  });

  test('tune: true sets the memory settings from the server size and max_connections, restarting once; then nothing changes', () =>
    hostTuneCase(h, dir, run));

  let app: TestbedHost | undefined;
  test("a stack on another server is let in from that server's address alone, and logs in across", async () => {
    app = await remoteCase(h, dir, run);
  });

  let to: TestbedHost | undefined;
  test('moved to a third server by ferry migrate, the stack is let in there before it starts there', async () => {
    assert.ok(app, 'the stack on another server ran');
    to = await movedCase(h, app, dir, run);
  });

  test('a Postgres service with tune: true runs with settings from its memory limit; a second apply changes nothing', () =>
    tunedServiceCase(h, dir, run));

  let monitorPassword = '';
  test('monitored: its exporter logs in as a role of its own, reachable from the monitoring server only', async () => {
    assert.ok(app, 'the stack on another server ran');
    assert.ok(to, 'the stack moved to a third server');
    monitorPassword = await monitoredCase(h, app, to, dir, run);
  });

  test('the passwords are in no output, state file or process list', () => {
    assert.notEqual(monitorPassword, '', 'the monitoring case ran');
    noSecretShown(h, dir, shown, [CANARY, monitorPassword]);
  });
});

/** What the remote stack's api on `x` gets from `h`'s Postgres for 6 × 7. */
const answerFrom = (x: TestbedHost, h: TestbedHost): string =>
  onHost(
    x,
    `docker exec ${REMOTE}-api-1 sh -c 'PGPASSWORD=$DB_PASSWORD psql -h ${h.host} -U app -d app -Atc "SELECT 6 * 7"'`,
  ).trim();

type Run = (args: string[], file?: string, knownHosts?: string) => Promise<Transcript>;

/** A second fresh server whose stack connects to `h`'s Postgres: let in by its address, and nothing more. */
async function remoteCase(h: TestbedHost, dir: string, run: Run): Promise<TestbedHost> {
  const app = await createFreshHost(APP_HOST);
  writeRemote(dir, h, app);
  const known = join(dir, 'known_hosts');
  writeFileSync(known, [h, app].map((x) => readFileSync(x.knownHostsFile, 'utf8')).join(''));
  const t = await run(['apply', REMOTE, '--yes'], 'remote.yml', known);
  assert.equal(t.code, 0, t.out + t.err);
  assert.match(t.out, new RegExp(`${REMOTE}/host-postgres/${HOST}`));
  const hba = onHost(h, `cat ${hbaFile(h)}`);
  assert.match(
    hba,
    new RegExp(`# BEGIN ferry ${REMOTE} on ${APP_HOST}[^\\n]*\\nhost +app +app +${app.host}/32 +scram-sha-256\\n# END`),
  );
  assert.match(psql(h, 'SHOW listen_addresses'), new RegExp(`,${h.host.replaceAll('.', '\\.')}$`));
  assert.match(onHost(h, 'ufw show added'), new RegExp(`from ${app.host.replaceAll('.', '\\.')} to any port 5432`));
  assert.equal(answerFrom(app, h), '42', 'the stack logs in across');
  const again = await run(['apply', REMOTE, '--yes', '--json'], 'remote.yml', known);
  assert.equal((JSON.parse(again.out.trim().split('\n').pop()!) as { changed: number }).changed, 0, again.out);
  return app;
}

/** The stack moved to a third server: let in there before it starts, the source's block kept for a rollback. */
async function movedCase(h: TestbedHost, app: TestbedHost, dir: string, run: Run): Promise<TestbedHost> {
  const to = await createFreshHost(TO_HOST);
  writeRemote(dir, h, app, [to]);
  const known = join(dir, 'known_hosts');
  writeFileSync(known, [h, app, to].map((x) => readFileSync(x.knownHostsFile, 'utf8')).join(''));
  const t = await run(['migrate', REMOTE, '--to', TO_HOST, '--yes'], 'remote.yml', known);
  assert.equal(t.code, 0, t.out + t.err);
  const hba = onHost(h, `cat ${hbaFile(h)}`);
  for (const [server, x] of [
    [APP_HOST, app],
    [TO_HOST, to],
  ] as const)
    assert.match(hba, new RegExp(`# BEGIN ferry ${REMOTE} on ${server}[^\\n]*\\nhost +app +app +${x.host}/32 `));
  assert.equal(answerFrom(to, h), '42', 'the stack logs in from its new server');
  return to;
}

/** A stack whose own Postgres (a 1 GiB limit) is tuned: the settings in the plan, then in the running server. */
async function tunedServiceCase(h: TestbedHost, dir: string, run: Run): Promise<void> {
  writeFileSync(
    join(dir, 'tuned-compose.yml'),
    `services:
  db:
    image: ferry-tb-postgres:1
    environment: { POSTGRES_PASSWORD: "\${DB_PASSWORD}" }
    mem_limit: 1g
    healthcheck: { test: ["CMD", "pg_isready", "-U", "postgres"], interval: 2s, retries: 30 }
`,
  );
  writeFileSync(
    join(dir, 'tuned.yml'),
    [
      'servers:',
      serverLine(h),
      'stacks:',
      `  ${TUNED}:`,
      `    server: ${h.name}`,
      '    compose: tuned-compose.yml',
      `    project: ${TUNED}`,
      '    env_file: .env',
      '    deploy: { health_timeout: 60s }',
      '    services: { db: { tune: true } }',
      '',
    ].join('\n'),
  );
  const plan = await run(['plan'], 'tuned.yml');
  assert.equal(plan.code, 0, plan.out + plan.err);
  assert.match(
    plan.out,
    /db tuned: shared_buffers=256 MB, effective_cache_size=768 MB, maintenance_work_mem=64 MB, work_mem=4 MB/,
  );
  const t = await run(['apply', '--yes'], 'tuned.yml');
  assert.equal(t.code, 0, t.out + t.err);
  const show = (name: string) => onHost(h, `docker exec ${TUNED}-db-1 psql -U postgres -XAtc 'SHOW ${name}'`).trim();
  assert.deepEqual(
    ['shared_buffers', 'effective_cache_size', 'maintenance_work_mem', 'work_mem', 'max_connections'].map(show),
    ['256MB', '768MB', '64MB', '4MB', '100'],
  );
  const again = await run(['apply', '--yes', '--json'], 'tuned.yml');
  assert.equal((JSON.parse(again.out.trim().split('\n').pop()!) as { changed: number }).changed, 0, again.out);
}

/** The host's Postgres tuned from the server's declared size: once, with a restart; then nothing changes. */
async function hostTuneCase(h: TestbedHost, dir: string, run: Run): Promise<void> {
  writeFileSync(join(dir, 'ferry.yml'), fleetFile(h, '{ max_connections: 120, tune: true }', 'memory: 2GiB, '));
  const plan = await run(['plan']);
  assert.equal(plan.code, 0, plan.out + plan.err);
  assert.match(
    plan.out,
    /postgres\/hpg\/tune +change +max_connections 100 -> 120, shared_buffers 128 MB -> 512 MB, .*\(restarts Postgres\)/,
  );
  const t = await run(['apply', '--yes']);
  assert.equal(t.code, 0, t.out + t.err);
  const show = (name: string) => psql(h, `SHOW ${name}`);
  assert.deepEqual(
    ['max_connections', 'shared_buffers', 'effective_cache_size', 'maintenance_work_mem', 'work_mem'].map(show),
    ['120', '512MB', '1536MB', '128MB', '4MB'],
  );
  const again = await run(['apply', '--yes', '--json']);
  assert.equal(again.code, 0, again.out + again.err);
  assert.equal((JSON.parse(again.out.trim().split('\n').pop()!) as { changed: number }).changed, 0, again.out);
  assert.equal(
    onHost(
      h,
      `docker exec ${STACK}-api-1 sh -c 'PGPASSWORD=$DB_PASSWORD psql -h host.docker.internal -U app -d app -Atc "SELECT 1"'`,
    ).trim(),
    '1',
    'the stack still logs in after the restart',
  );
}

/** Prometheus' text from an exporter port of `h`, fetched on `from` (undefined: refused or no answer). */
function metricsFrom(from: TestbedHost, h: TestbedHost, port: number): string | undefined {
  try {
    return onHost(from, `curl -sf -m 5 http://${h.host}:${port}/metrics`);
  } catch {
    return undefined;
  }
}

/**
 * The fleet monitored from `mon`: the exporters of `h` deployed, the one of its Postgres
 * logging in with a role of Ferry's and a password made on `h`; from `other`, its port is
 * refused (ufw is on there too). A second apply changes nothing; a login that pg_hba.conf
 * refuses fails the step's verification, and the exporter started before keeps running.
 * Returns the password, for the canary checks.
 */
async function monitoredCase(
  h: TestbedHost,
  mon: TestbedHost,
  other: TestbedHost,
  dir: string,
  run: Run,
): Promise<string> {
  const image = (name: string) => `{ name: ferry-tb-${name}, version: "1" }`;
  const fleet = readFileSync(join(dir, 'ferry.yml'), 'utf8').replace(
    'stacks:',
    [serverLine(mon), serverLine(other), 'stacks:'].join('\n'),
  );
  writeFileSync(
    join(dir, 'monitored.yml'),
    [
      fleet.trimEnd(),
      'monitoring:',
      `  server: ${mon.name}`,
      '  deploy: { images: push }',
      '  cadvisor: false',
      '  grafana: false',
      `  images: { node_exporter: ${image('node-exporter')}, postgres_exporter: ${image('postgres-exporter')} }`,
      '',
    ].join('\n'),
  );
  const known = join(dir, 'known_hosts');
  const stack = `ferry-exporters-${h.name}`;
  const t = await run(['apply', stack, '--yes'], 'monitored.yml', known);
  assert.equal(t.code, 0, t.out + t.err);
  assert.match(t.out, new RegExp(`${stack}/host-postgres-login`));
  const metrics = metricsFrom(mon, h, 9187) ?? '';
  assert.match(metrics, /^pg_up 1$/m, 'the exporter logs in');
  assert.match(metrics, /^pg_settings_max_connections(\{[^}]*\})? 120$/m);
  assert.equal(metricsFrom(other, h, 9187), undefined, 'another server is refused');
  assert.equal(
    psql(
      h,
      "SELECT rolsuper, pg_has_role(oid, 'pg_monitor', 'member'), rolconnlimit FROM pg_roles WHERE rolname = 'ferry_monitor'",
    ),
    'f|t|3',
  );
  const file = '/etc/ferry/monitoring/host-postgres.pass';
  assert.equal(onHost(h, `stat -c '%U %a' ${file}`).trim(), 'root 600');
  const again = await run(['apply', stack, '--yes', '--json'], 'monitored.yml', known);
  assert.equal((JSON.parse(again.out.trim().split('\n').pop()!) as { changed: number }).changed, 0, again.out);
  // A line above Ferry's block refuses the role: the step's verification fails, nothing else changes.
  const hba = hbaFile(h);
  const started = onHost(
    h,
    `docker inspect --format '{{.State.StartedAt}}' ferry-exporters-postgres-exporter-1`,
  ).trim();
  onHost(h, `sed -i '1i host postgres ferry_monitor 127.0.0.1/32 reject' ${hba}`);
  psql(h, 'SELECT pg_reload_conf()');
  try {
    const refused = await run(['apply', stack, '--yes'], 'monitored.yml', known);
    assert.notEqual(refused.code, 0, refused.out);
    assert.match(refused.out + refused.err, /verify-failed/);
    assert.match(refused.out + refused.err, /ferry_monitor cannot log in to hpg's Postgres/);
    assert.doesNotMatch(refused.out + refused.err, /at .*\.ts:\d+/, 'no stack trace');
    assert.equal(
      onHost(h, `docker inspect --format '{{.State.StartedAt}}' ferry-exporters-postgres-exporter-1`).trim(),
      started,
      'the exporter was not restarted',
    );
  } finally {
    onHost(h, `sed -i '1d' ${hba}`);
    psql(h, 'SELECT pg_reload_conf()');
  }
  assert.match(metricsFrom(mon, h, 9187) ?? '', /^pg_up 1$/m);
  return onHost(h, `cat ${file}`).trim();
}

/** None of `secrets` in what ferry printed, in its state files, or in `h`'s process list. */
function noSecretShown(h: TestbedHost, dir: string, shown: string[], secrets: string[]): void {
  const ps = onHost(h, 'ps -eo args');
  for (const secret of secrets) {
    assert.equal(ps.includes(secret), false, 'a secret in a process list');
    for (const text of shown) assert.equal(text.includes(secret), false, 'a secret in an output');
  }
  for (const f of readdirSync(join(dir, 'state'), { recursive: true }).map(String)) {
    const path = join(dir, 'state', f);
    if (statSync(path).isFile())
      for (const secret of secrets) assert.equal(readFileSync(path).includes(secret), false, `a secret in state/${f}`);
  }
}
