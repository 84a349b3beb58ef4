/**
 * The monitoring stack deployed by `ferry apply` on the test bed: Prometheus, Alertmanager
 * and the blackbox prober on one host, node_exporter on it and on a second host, from
 * images built of Debian's packages (scripts/testbed/images/monitoring). Prometheus scrapes
 * both, and the exporters of the stack's Postgres and Redis (each with a password) log in,
 * one reads the stack's own nginx container at the status page ferry.yml names;
 * a third host is refused on every exporter port; an exporter stopped on the second host fires HostDown, which Alertmanager sends to
 * a webhook receiver started here, its URL a secret read from a file on the server. A
 * second apply changes nothing; a secret not set is refused before anything changes; the
 * receiver's URL is in no output, journal, configuration file or process list.
 * The monitoring server is hardened (ufw, fail2ban) by the same apply: its own exporters and
 * SSH port are still scraped and probed.
 * Grafana and cAdvisor have no Debian package: they are left out here (`grafana: false`,
 * `cadvisor: false`); their files are judged in the unit tests.
 *
 * ferry-test-lane: side (its two hosts are fresh ones of its own, scripts/testbed/fresh.mjs;
 * host5 of the test bed only knocks on their ports), so it runs beside the other suites.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NETWORK, paths } from '../../scripts/testbed/lib.mjs';
import { createFreshHost, removeFreshHost } from '../../scripts/testbed/fresh.mjs';
import { ferry, type Transcript } from '../cli/run.js';
import { onHost, testbedHosts, testbedIsUp, type TestbedHost } from './helpers.js';
import { gatewayOf } from './pebble.js';
import { posted, receiver, until, type Hook } from './webhook.js';

const HOOK_CANARY = 'mon-hook-canary-8e1f0a';
/** The heartbeat URL's: a dead man's switch's URL is a secret too. */
const BEAT_CANARY = 'mon-beat-canary-71c4d2';
const PG_CANARY = 'mon-pg-canary-2b9d47';
const REDIS_CANARY = 'mon-redis-canary-5c0e13';
/** With a # and a ;, which mysqld_exporter's my.cnf would read as a comment unquoted. */
const MARIADB_CANARY = 'mon-my#canary;4e1a';
/** The password of a Postgres placed on the other server, read from a Compose secret's file. */
const LEDGER_CANARY = 'mon-ledger-canary-93b0';
const STACK = 'tbmon';
/** The fresh hosts: the monitoring server, and the other server of the fleet. */
const [MON, OTHER] = ['mon', 'mon-other'];
const DOMAIN = 'tbmon.test';
/**
 * A stack of a Postgres, a Redis and a MariaDB, each with a password of its own, a web
 * service behind Ferry's nginx, and a second Postgres placed on the other server whose
 * password is a Compose secret's file: their exporters are the monitoring's to add.
 */
const COMPOSE = `services:
  db:
    image: ferry-tb-postgres:1
    environment: { POSTGRES_USER: shop, POSTGRES_DB: shop, POSTGRES_PASSWORD: "\${POSTGRES_PASSWORD}" }
    volumes: [db-data:/var/lib/postgresql/data]
    healthcheck: { test: ["CMD", "pg_isready", "-U", "shop"], interval: 2s, timeout: 3s, retries: 15 }
    restart: unless-stopped
    mem_limit: 256m
  cache:
    image: ferry-tb-redis:1
    command: ["redis-server", "--appendonly", "yes", "--requirepass", "\${REDIS_PASSWORD}"]
    volumes: [cache-data:/data]
    restart: unless-stopped
    mem_limit: 128m
  sql:
    image: ferry-tb-mariadb:1
    environment: { MARIADB_ROOT_PASSWORD: "\${MARIADB_ROOT_PASSWORD}", MARIADB_DATABASE: shop }
    volumes: [sql-data:/var/lib/mysql]
    restart: unless-stopped
    mem_limit: 256m
  web:
    image: ferry-tb-app:1
    healthcheck:
      test: ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
      interval: 2s
      retries: 15
    restart: unless-stopped
    mem_limit: 128m
  edge:
    image: ferry-tb-nginx:1
    volumes: ["./nginx-status.conf:/etc/nginx/conf.d/status.conf:ro"]
    restart: unless-stopped
    mem_limit: 64m
  ledger:
    image: ferry-tb-postgres:1
    environment: { POSTGRES_USER: ledger, POSTGRES_PASSWORD_FILE: /run/secrets/ledger_pw }
    secrets: [ledger_pw]
    expose: ["5432"]
    volumes: [ledger-data:/var/lib/postgresql/data]
    restart: unless-stopped
    mem_limit: 256m
volumes: { db-data: {}, cache-data: {}, sql-data: {}, ledger-data: {} }
secrets: { ledger_pw: { file: ./ledger-pw.txt } }
`;

const server = (h: TestbedHost) =>
  [
    `  ${h.name}:`,
    `    host: ${h.host}`,
    `    user: ${h.user}`,
    `    port: ${h.port}`,
    `    identity_file: ${paths.key}`,
  ].join('\n');

const image = (name: string) => `{ name: ferry-tb-${name}, version: "1" }`;

/**
 * The monitoring server is hardened (ufw denies by default, fail2ban's aggressive sshd jail):
 * its own Prometheus must still scrape its node_exporter from a Docker bridge and probe its
 * SSH port without being banned. sshd, upgrades, the journal and Docker are left alone (time).
 */
const HARDEN = '    harden: { ssh: false, upgrades: false, journald: false, docker: false, time_sync: false }';

function fleetFile(mon: TestbedHost, other: TestbedHost, extra = ''): string {
  return [
    'servers:',
    server(mon),
    HARDEN,
    server(other),
    'stacks:',
    `  ${STACK}: { server: ${mon.name}, compose: compose.yml, project: ${STACK}, deploy: { health_timeout: 60s, images: push },`,
    `    services: { ledger: { server: ${other.name} }, edge: { nginx_status: { port: 8081, path: /nginx_status } } },`,
    `    proxy: { domains: [${DOMAIN}], tls: none, routes: [{ service: web, port: 8000 }] } }`,
    'monitoring:',
    `  server: ${mon.name}`,
    '  receivers: { hook: { type: webhook, url: { env: MON_HOOK }, severity: critical } }',
    '  heartbeat: { url: { file: heartbeat-url.txt }, every: 15s }',
    '  scrape_interval: 5s',
    '  deploy: { images: push }',
    '  cadvisor: false',
    '  images:',
    `    prometheus: ${image('prometheus')}`,
    `    alertmanager: ${image('alertmanager')}`,
    `    node_exporter: ${image('node-exporter')}`,
    `    blackbox_exporter: ${image('blackbox-exporter')}`,
    `    postgres_exporter: ${image('postgres-exporter')}`,
    `    redis_exporter: ${image('redis-exporter')}`,
    `    nginx_exporter: ${image('nginx-exporter')}`,
    `    mysql_exporter: ${image('mysqld-exporter')}`,
    extra,
    '',
  ].join('\n');
}

/** Prometheus' API, read inside its container on the monitoring host. */
function prometheusApi(mon: TestbedHost, path: string): unknown {
  return JSON.parse(
    onHost(mon, `docker exec ferry-monitoring-prometheus-1 wget -q -O - 'http://127.0.0.1:9090${path}'`),
  );
}

interface Targets {
  data: { activeTargets: { labels: Record<string, string>; health: string; lastError: string }[] };
}

type Run = (args: string[], env?: Record<string, string>) => Promise<Transcript>;

/** A directory for the fleet file, state and both hosts' keys, and `ferry` run there (its output kept). */
function rig(mon: TestbedHost, other: TestbedHost) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-monitoring-'));
  const state = join(dir, 'state');
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, [mon, other].map((h) => readFileSync(h.knownHostsFile, 'utf8')).join(''));
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(join(dir, 'ledger-pw.txt'), `${LEDGER_CANARY}\n`);
  writeFileSync(
    join(dir, 'nginx-status.conf'),
    'server {\n  listen 8081;\n  location = /nginx_status { stub_status; }\n}\n',
  );
  writeFileSync(
    join(dir, '.env'),
    `POSTGRES_PASSWORD=${PG_CANARY}\nREDIS_PASSWORD=${REDIS_CANARY}\nMARIADB_ROOT_PASSWORD='${MARIADB_CANARY}'\n`,
  );
  const shown: string[] = [];
  const run = async (args: string[], env: Record<string, string> = {}): Promise<Transcript> => {
    const t = await ferry([...args, '-f', 'ferry.yml', '--known-hosts', knownHosts], {
      cwd: dir,
      env: { FERRY_STATE_DIR: state, ...env },
    });
    shown.push(t.out, t.err);
    return t;
  };
  return { dir, state, run, shown };
}

/** Whether Prometheus has `metric` 1 for the stack's service (on that server). */
const upFor = (mon: TestbedHost, metric: string, service: string, server?: string) => (): boolean => {
  const r = prometheusApi(mon, `/api/v1/query?query=${metric}`) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return r.data.result.some(
    (x) =>
      x.metric.stack === STACK &&
      x.metric.service === service &&
      (server === undefined || x.metric.server === server) &&
      x.value[1] === '1',
  );
};

/** The first apply: everything up and scraped, secrets only in their files on the servers; the second changes nothing. */
async function deployedAndScraped(run: Run, mon: TestbedHost, other: TestbedHost, hook: Hook): Promise<void> {
  const first = await run(['apply', '--yes'], { MON_HOOK: hook.url });
  assert.equal(first.code, 0, first.out + first.err);
  for (const stack of ['ferry-monitoring', `ferry-exporters-${mon.name}`, `ferry-exporters-${other.name}`])
    assert.match(first.out, new RegExp(`${stack}/up`), stack);
  assert.match(onHost(mon, 'ufw status'), /^Status: active/m, 'the monitoring server is hardened');
  assert.match(onHost(mon, 'fail2ban-client get sshd ignoreip'), /172\.16\.0\.0\/12/, "Docker's pools never banned");
  assert.match(onHost(other, 'ufw status || true'), /inactive|not found|^$/, 'the other server is not');
  // The receiver's URL is on the server only in its secret file: read-only, as Swarm's
  // secrets are, in a release directory that is root's alone.
  const release = onHost(mon, 'readlink -f /srv/ferry/ferry-monitoring/current').trim();
  assert.equal(onHost(mon, `stat -c %a ${release} ${release}/alertmanager/secrets/hook`), '700\n444\n');
  assert.equal(onHost(mon, `cat ${release}/alertmanager/secrets/hook`).trim(), hook.url);
  assert.doesNotMatch(onHost(mon, `cat ${release}/alertmanager/alertmanager.yml ${release}/compose.yml`), /canary/);
  const targets = () => (prometheusApi(mon, '/api/v1/targets?state=active') as Targets).data.activeTargets;
  await until(
    "both node exporters, both SSH probes and the stack's Postgres exporter up",
    () => {
      const t = { data: { activeTargets: targets() } };
      const up = (job: string, s: string) =>
        t.data.activeTargets.some((x) => x.labels.job === job && x.labels.server === s && x.health === 'up');
      return (
        [mon, other].every((h) => up('node', h.name) && up('ssh', h.name)) &&
        up('postgres', mon.name) &&
        up('postgres', other.name) &&
        up('redis', mon.name) &&
        up('mysql', mon.name) &&
        up('nginx', mon.name)
      );
    },
    120_000,
    () =>
      targets()
        .filter((x) => x.health !== 'up')
        .map((x) => `${x.labels.job}/${x.labels.server} ${x.health}: ${x.lastError}`)
        .join('; '),
  );
  // The exporter logs in to the stack's Postgres with the password from its secret file.
  await until("pg_up 1 for the stack's Postgres", upFor(mon, 'pg_up', 'db', mon.name), 60_000);
  // And the one placed on the other server, its password read from the Compose secret's file.
  await until(
    'pg_up 1 for the Postgres placed on the other server',
    upFor(mon, 'pg_up', 'ledger', other.name),
    120_000,
  );
  // The nginx exporter reads Ferry's nginx through its status page on loopback (written
  // after the exporter started: a scrape before it says nginx_up 0); another reads the
  // stack's own nginx container by name on its network, at the page ferry.yml names.
  const nginxUp = () =>
    (
      prometheusApi(mon, '/api/v1/query?query=nginx_up') as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      }
    ).data.result.map((x) => `${x.metric.server}/${x.metric.stack ?? '-'}/${x.metric.service ?? '-'} ${x.value[1]}`);
  await until(
    `nginx_up 1 for Ferry's nginx and the stack's edge on ${mon.name}`,
    () => nginxUp().sort().join(', ') === `${mon.name}/-/- 1, ${mon.name}/${STACK}/edge 1`,
    60_000,
    () => nginxUp().join(', '),
  );
  assert.equal(status(mon, 'http://127.0.0.1:9180/stub_status'), '200', 'the status page answers on loopback');
  assert.equal(status(mon, `http://${mon.host}:9180/stub_status`), '000', 'and nowhere else');
  // redis_exporter logs in to the stack's Redis with the password from its secret file.
  await until("redis_up 1 for the stack's Redis", upFor(mon, 'redis_up', 'cache'), 60_000);
  // mysqld_exporter logs in to the stack's MariaDB as root, with the password (quoted) from its my.cnf.
  await until("mysql_up 1 for the stack's MariaDB", upFor(mon, 'mysql_up', 'sql'), 90_000);
  // The container health timer runs on both servers, and node_exporter hands its figures on.
  await until(
    'ferry_container_unhealthy of both servers in Prometheus',
    () => {
      const r = prometheusApi(mon, '/api/v1/query?query=ferry_container_unhealthy') as {
        data: { result: { metric: Record<string, string> }[] };
      };
      return [mon, other].every((h) => r.data.result.some((x) => x.metric.server === h.name));
    },
    120_000,
  );
  const exporters = onHost(mon, `readlink -f /srv/ferry/ferry-exporters-${mon.name}/current`).trim();
  for (const secret of [`pg-${STACK}-db`, `redis-${STACK}-cache`, `mysql-${STACK}-sql`])
    assert.equal(onHost(mon, `stat -c %a ${exporters}/secrets/${secret}`).trim(), '444');
  assert.doesNotMatch(onHost(mon, `cat ${exporters}/compose.yml`), /canary/);
  const rules = prometheusApi(mon, '/api/v1/rules') as { data: { groups: { name: string }[] } };
  assert.ok(
    rules.data.groups.some((g) => g.name === 'ferry-hosts'),
    JSON.stringify(rules.data.groups.map((g) => g.name)),
  );
  const second = await run(['apply', '--yes', '--json'], { MON_HOOK: hook.url });
  assert.equal(second.code, 0, second.out + second.err);
  const summary = JSON.parse(second.out.trim().split('\n').pop()!) as { changed: number };
  assert.equal(summary.changed, 0, second.out);
}

/** `curl` from one host to another's port: the HTTP status, or 000 when nothing answered in 3 s. */
const status = (from: TestbedHost, url: string): string =>
  onHost(from, `curl -s -o /dev/null -m 3 -w '%{http_code}' ${url} || true`).trim();

/**
 * The exporters answer the monitoring server and nobody else: a third host is refused on
 * node_exporter and the nginx exporter (the host's network: INPUT) and on the Postgres and
 * Redis exporters (published: DOCKER-USER), while Prometheus, a container on the monitoring server, still scrapes them
 * (deployedAndScraped). The rules come back with Docker: restarted, it still refuses.
 */
async function exportersRefuseOthers(mon: TestbedHost, other: TestbedHost, stranger: TestbedHost): Promise<void> {
  const urls = [
    `http://${other.host}:9100/metrics`,
    `http://${mon.host}:9100/metrics`,
    `http://${mon.host}:9187/metrics`,
    `http://${mon.host}:9121/metrics`,
    `http://${mon.host}:9113/metrics`,
    `http://${mon.host}:9114/metrics`,
  ];
  for (const url of urls) assert.equal(status(mon, url), '200', `the monitoring server reaches ${url}`);
  for (const url of urls) assert.equal(status(stranger, url), '000', `${stranger.name} is refused ${url}`);
  const units = onHost(mon, "systemctl list-units --no-legend --plain 'ferry-firewall-ferry-exporters-*'");
  assert.match(units, /node-exporter\.service/);
  assert.match(units, new RegExp(`postgres-${STACK}-db\\.service`));
  onHost(other, 'systemctl restart docker');
  await until('node_exporter back after Docker restarted', () => status(mon, urls[0]!) === '200', 60_000);
  assert.equal(status(stranger, urls[0]!), '000', 'still refused after Docker restarted');
}

interface Alerts {
  data: { alerts: { labels: Record<string, string> }[] };
}

/**
 * node_exporter stopped on `other` and the stack's Postgres stopped on `mon` (a server
 * down inhibits the other alerts of its own server only): HostDown and PostgresDown reach
 * the hook; started again, Prometheus says both are over.
 */
async function alertsReachTheHook(mon: TestbedHost, other: TestbedHost, hook: Hook): Promise<void> {
  const nodeExporter = 'label=com.docker.compose.service=node-exporter';
  onHost(
    other,
    `docker stop $(docker ps -q --filter label=com.docker.compose.project=ferry-exporters --filter ${nodeExporter})`,
  );
  onHost(mon, `docker stop $(docker ps -q --filter label=com.docker.compose.project=${STACK})`);
  const fired = (alert: string, labels: Record<string, string>) => () =>
    hook.posts.some((p) =>
      p.alerts.some(
        (a) =>
          a.status === 'firing' &&
          a.labels.alertname === alert &&
          Object.entries(labels).every(([k, v]) => a.labels[k] === v),
      ),
    );
  // PostgresDown waits 1 minute (`for`), HostDown 2; Alertmanager 30 s (group_wait): 4 minutes is the bound.
  await until(
    'PostgresDown at the webhook',
    fired('PostgresDown', { server: mon.name, stack: STACK, service: 'db' }),
    240_000,
  );
  await until('HostDown at the webhook', fired('HostDown', { server: other.name, severity: 'critical' }), 240_000);
  onHost(
    other,
    `docker start $(docker ps -aq --filter label=com.docker.compose.project=ferry-exporters --filter ${nodeExporter})`,
  );
  onHost(mon, `docker start $(docker ps -aq --filter label=com.docker.compose.project=${STACK})`);
  // Resolved is sent at Alertmanager's next group interval (5 minutes): Prometheus is asked instead.
  await until(
    'HostDown and PostgresDown over in Prometheus',
    () =>
      !(prometheusApi(mon, '/api/v1/alerts') as Alerts).data.alerts.some((x) =>
        ['HostDown', 'PostgresDown'].includes(x.labels.alertname!),
      ),
    90_000,
  );
}

describe(
  'the monitoring stack deployed by ferry apply',
  { skip: testbedIsUp() ? false : 'test bed not up (npm run testbed:up)' },
  () => {
    const stranger = testbedIsUp() ? testbedHosts('debian-13')[4]! : undefined!;
    let mon: TestbedHost;
    let other: TestbedHost;
    let dir: string;
    let state: string;
    let shown: string[];
    let run: Run;
    let hook: Hook;
    let beat: Hook;

    before(async () => {
      mon = await createFreshHost(MON);
      other = await createFreshHost(OTHER);
      ({ dir, state, run, shown } = rig(mon, other));
      hook = await receiver(gatewayOf(NETWORK), HOOK_CANARY);
      beat = await receiver(gatewayOf(NETWORK), BEAT_CANARY);
      writeFileSync(join(dir, 'heartbeat-url.txt'), `${beat.url}\n`);
      writeFileSync(join(dir, 'ferry.yml'), fleetFile(mon, other, '  grafana: false'));
    });
    after(async () => {
      hook?.server.close();
      beat?.server.close();
      await removeFreshHost(MON);
      await removeFreshHost(OTHER);
    });

    test('bad input is refused before anything changes: a receiver secret not set, Grafana without a password', async () => {
      const unset = await run(['apply', '--yes']);
      assert.equal(unset.code, 2, unset.out + unset.err);
      assert.match(
        unset.err,
        /^error monitoring-secret-missing: the secret of receiver "hook" \(webhook\) is missing/m,
      );
      assert.match(unset.err, /at monitoring\/receivers\/hook/);
      writeFileSync(join(dir, 'ferry.yml'), fleetFile(mon, other));
      const grafana = await run(['plan'], { MON_HOOK: hook.url });
      assert.equal(grafana.code, 2, grafana.out + grafana.err);
      assert.match(grafana.err, /^error monitoring-secret-missing: Grafana's admin password is not said/m);
      assert.match(grafana.err, /at monitoring\/grafana/);
      writeFileSync(join(dir, 'ferry.yml'), fleetFile(mon, other, '  grafana: false'));
      for (const h of [mon, other])
        assert.equal(onHost(h, 'ls /srv/ferry 2>/dev/null | grep -c ^ferry- || true').trim(), '0');
    });

    test('apply deploys Prometheus, Alertmanager and the prober on one host, exporters on both; Prometheus scrapes them; a second apply changes nothing', () =>
      deployedAndScraped(run, mon, other, hook));

    test('Watchdog reaches the heartbeat URL again every interval, and no receiver of alerts', async () => {
      const watchdogs = () => beat.posts.filter((p) => p.alerts.some((a) => a.labels.alertname === 'Watchdog'));
      await until('two Watchdog posts at the heartbeat URL', () => watchdogs().length >= 2, 120_000);
      assert.deepEqual(
        [...new Set(beat.posts.flatMap((p) => p.alerts.map((a) => `${a.labels.alertname} ${p.status}`)))],
        ['Watchdog firing'],
        'the heartbeat gets Watchdog alone, never resolved',
      );
      assert.ok(!posted(hook, 'Watchdog')(), 'the receiver of alerts never gets Watchdog');
    });

    test('the exporter ports answer the monitoring server only; another host is refused', () =>
      exportersRefuseOthers(mon, other, stranger));

    test("an exporter that stops fires HostDown, the stack's Postgres stopped PostgresDown; both reach the webhook; started again, both are over", () =>
      alertsReachTheHook(mon, other, hook));

    test('a changed threshold is a new release of ferry-monitoring alone; rollback serves the one before', async () => {
      const current = () => onHost(mon, 'readlink /srv/ferry/ferry-monitoring/current').trim();
      const exporters = () => onHost(other, `readlink /srv/ferry/ferry-exporters-${other.name}/current`).trim();
      const [before, exportersBefore] = [current(), exporters()];
      writeFileSync(
        join(dir, 'ferry.yml'),
        fleetFile(mon, other, '  grafana: false\n  thresholds: { cpu_percent: 75 }'),
      );
      const changed = await run(['apply', '--yes'], { MON_HOOK: hook.url });
      assert.equal(changed.code, 0, changed.out + changed.err);
      assert.notEqual(current(), before);
      assert.equal(exporters(), exportersBefore, 'the exporters did not change');
      assert.match(onHost(mon, 'cat /srv/ferry/ferry-monitoring/current/prometheus/alerts.yml'), /> 75/);
      const back = await run(['rollback', 'ferry-monitoring', '--yes'], { MON_HOOK: hook.url });
      assert.equal(back.code, 0, back.out + back.err);
      assert.equal(current(), before);
      assert.doesNotMatch(onHost(mon, 'cat /srv/ferry/ferry-monitoring/current/prometheus/alerts.yml'), /> 75/);
      await until(
        'Prometheus healthy on the release rolled back to',
        () =>
          onHost(mon, 'docker inspect -f {{.State.Health.Status}} ferry-monitoring-prometheus-1').trim() === 'healthy',
        120_000,
      );
    });

    test('the receiver URL and the database password are in no output, journal, plan, file left here or process list', async () => {
      const plan = await run(['plan', '--json'], { MON_HOOK: hook.url });
      assert.equal(plan.code, 0, plan.out + plan.err);
      // The state directory whole: journals, and what was generated for the releases (its secrets removed).
      const files = readdirSync(state, { recursive: true })
        .map(String)
        .map((f) => {
          try {
            return readFileSync(join(state, f), 'latin1');
          } catch {
            return '';
          }
        });
      assert.ok(files.length > 5, `the state directory holds ${files.length} files`);
      const canaries = new RegExp(
        `${HOOK_CANARY}|${BEAT_CANARY}|${PG_CANARY}|${REDIS_CANARY}|${MARIADB_CANARY}|${LEDGER_CANARY}`,
      );
      for (const text of [...shown, ...files]) assert.doesNotMatch(text, canaries);
      assert.doesNotMatch(onHost(mon, 'ps -eo args'), canaries);
    });
  },
);
