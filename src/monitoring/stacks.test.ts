/**
 * The monitoring stack and exporters as stacks: made from the generated files, loaded as
 * Compose projects, and shipped by a release with every configuration file and the
 * secrets as secrets; none of the secrets anywhere else.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FerryError } from '../core/errors.js';
import { isSecret } from '../core/secret.js';
import { makeBundle } from '../deploy/bundle.js';
import type { LoadedFleet } from '../model/loaded.js';
import type { MonitoringDef } from '../model/monitoring.js';
import { buildPlan, selectTargets } from '../plans/build.js';
import { RecordingTransport } from '../transport/recording.js';
import { secretPath } from './render/alertmanager.js';
import { exportersStack, MONITORING_STACK, monitoringStacks } from './stacks.js';
import { monitoringFleet } from './test-helpers/fleet.js';

const ENV = {
  FERRY_TEST_WEBHOOK_URL: 'https://hooks.example.com/canary-webhook-0c1d',
  FERRY_TEST_SLACK_URL: 'https://hooks.slack.example/canary-slack-7e2f',
  FERRY_TEST_TELEGRAM_TOKEN: '123456:canary-telegram-9a8b',
  FERRY_TEST_SMTP_PASSWORD: 'canary-smtp-5d6e',
  FERRY_TEST_GRAFANA: 'canary-grafana-4f4f',
  FERRY_TEST_HEARTBEAT_URL: 'https://hc.example/ping/canary-beat-2e7a',
};
const source = { env: ENV, readFile: (p: string) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined) };

function fleetWith(change: Partial<MonitoringDef>): LoadedFleet {
  const { loaded } = monitoringFleet('https://discord.example/canary-discord-3c4d');
  return { ...loaded, fleet: { ...loaded.fleet, monitoring: { ...loaded.fleet.monitoring!, ...change } } };
}

test('stacks: ferry-monitoring on the monitoring server, exporters on every server, shipped file by file with the secrets as secrets', () => {
  const loaded = fleetWith({ grafana: { adminPassword: { env: 'FERRY_TEST_GRAFANA' } }, deploy: { images: 'push' } });
  const dir = join(mkdtempSync(join(tmpdir(), 'ferry-generated-')), 'monitoring');
  const m = monitoringStacks(loaded, source, dir);
  assert.deepEqual(
    m.stacks.map((s) => [s.def.name, s.def.server, s.project!.name, s.def.deploy.images]),
    [
      [MONITORING_STACK, 'db', 'ferry-monitoring', 'push'],
      [exportersStack('app'), 'app', 'ferry-exporters', 'push'],
      [exportersStack('db'), 'db', 'ferry-exporters', 'push'],
    ],
  );
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const bundle = makeBundle(m.stacks[0]!);
  const shipped = new Map(bundle.files.map((f) => [f.rel, f]));
  for (const rel of [
    'compose.yml',
    'prometheus/prometheus.yml',
    'prometheus/alerts.yml',
    'alertmanager/alertmanager.yml',
    'blackbox/blackbox.yml',
    'grafana/provisioning/datasources/prometheus.yml',
    'grafana/dashboards/hosts.json',
  ])
    assert.ok(shipped.has(rel) && !isSecret(shipped.get(rel)!.content), `${rel} shipped as a plain file`);
  const secrets = bundle.files.filter((f) => isSecret(f.content)).map((f) => f.rel);
  assert.deepEqual(secrets.sort(), [
    'alertmanager/secrets/chat',
    'alertmanager/secrets/discord',
    'alertmanager/secrets/ferry-heartbeat',
    'alertmanager/secrets/hooks',
    'alertmanager/secrets/mail',
    'alertmanager/secrets/phone',
    'grafana/admin-password',
  ]);
  assert.deepEqual(bundle.dataPaths, [], 'no configuration is taken for data');
  assert.equal(statSync(join(dir, MONITORING_STACK, 'alertmanager/secrets/hooks')).mode & 0o777, 0o600);
  const plain = bundle.files.filter((f) => !isSecret(f.content)).map((f) => f.content.toString());
  assert.doesNotMatch(plain.join('\n'), /canary/);
  const am = m.stacks[0]!.project!.services.find((s) => s.name === 'alertmanager')!;
  assert.deepEqual(
    am.secrets.map((x) => x.source),
    [
      'receiver-hooks',
      'receiver-chat',
      'receiver-discord',
      'receiver-phone',
      'receiver-mail',
      'receiver-ferry-heartbeat',
    ],
  );
  assert.ok(String(shipped.get('alertmanager/alertmanager.yml')!.content).includes(secretPath('hooks')));
  assert.deepEqual(
    m.secrets.map((x) => x.reveal()),
    [
      ENV.FERRY_TEST_WEBHOOK_URL,
      ENV.FERRY_TEST_SLACK_URL,
      'https://discord.example/canary-discord-3c4d',
      ENV.FERRY_TEST_TELEGRAM_TOKEN,
      ENV.FERRY_TEST_SMTP_PASSWORD,
      ENV.FERRY_TEST_HEARTBEAT_URL,
      ENV.FERRY_TEST_GRAFANA,
      'canary-pg-shop-77a0',
      'canary-redis-6a1b',
      'canary-my-8d3c',
      'canary-pg-1f2e',
    ],
  );
  m.removeSecrets();
  assert.equal(existsSync(join(dir, MONITORING_STACK, 'alertmanager/secrets/hooks')), false);
  assert.equal(existsSync(join(dir, MONITORING_STACK, 'grafana/admin-password')), false);
  assert.ok(existsSync(join(dir, MONITORING_STACK, 'prometheus/prometheus.yml')));
});

test('stacks: without Grafana and cAdvisor, neither is deployed nor scraped', () => {
  const m = monitoringStacks(
    fleetWith({ grafana: false, cadvisor: false }),
    source,
    join(mkdtempSync(join(tmpdir(), 'ferry-generated-')), 'monitoring'),
  );
  assert.deepEqual(
    m.stacks[0]!.project!.services.map((s) => s.name),
    ['prometheus', 'alertmanager', 'blackbox'],
  );
  assert.deepEqual(
    m.stacks[1]!.project!.services.map((s) => s.name),
    [
      'node-exporter',
      'nginx-exporter',
      'postgres-blog-search',
      'redis-shop-redis',
      'mysql-blog-mysql',
      'nginx-blog-front',
    ],
  );
  const prometheus = readFileSync(join(m.stacks[0]!.project!.workingDir, 'prometheus/prometheus.yml'), 'utf8');
  assert.doesNotMatch(prometheus, /cadvisor/);
  assert.equal(makeBundle(m.stacks[0]!).files.filter((f) => f.rel.startsWith('grafana/')).length, 0);
});

test('stacks: Grafana without a password, a receiver secret not set, or a database password file missing is monitoring-secret-missing before anything is written', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'ferry-generated-')), 'monitoring');
  assert.throws(
    () => monitoringStacks(fleetWith({}), source, dir),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === 'monitoring-secret-missing' &&
      e.place === 'monitoring/grafana' &&
      /grafana: false/.test(e.hint ?? ''),
  );
  assert.throws(
    () =>
      monitoringStacks(
        fleetWith({ grafana: { adminPassword: { env: 'FERRY_TEST_GRAFANA' } } }),
        { ...source, env: { ...ENV, FERRY_TEST_GRAFANA: '' } },
        dir,
      ),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === 'monitoring-secret-missing' &&
      /FERRY_TEST_GRAFANA is not set/.test(e.message),
  );
  // A database password read from a Compose secret whose file is not on this machine.
  assert.throws(
    () =>
      monitoringStacks(
        fleetWith({ grafana: false }),
        { ...source, readFile: (p) => (p.endsWith('search-pw.txt') ? undefined : source.readFile(p)) },
        dir,
      ),
    (e: unknown) =>
      e instanceof FerryError &&
      e.code === 'monitoring-secret-missing' &&
      /^the password of blog\/search \(Compose secret search_pw\), for its exporter is missing: the file .*search-pw\.txt is unreadable/.test(
        e.message,
      ) &&
      e.place === 'stacks/blog/compose: secrets.search_pw',
  );
  assert.equal(existsSync(dir), false);
});

test("stacks: a stack's Postgres gets its exporter on its server, on the stack's network, its password a secret", () => {
  const base = fleetWith({ grafana: false });
  const loaded: LoadedFleet = {
    ...base,
    stacks: base.stacks.map((s) => {
      if (s.def.name !== 'shop') return s;
      const { placement: _placed, ...def } = s.def;
      const services = s.project!.services.map((x) =>
        x.name === 'postgres'
          ? { ...x, environment: { ...x.environment, POSTGRES_PASSWORD: 'canary-pg-61a2', POSTGRES_USER: 'shop' } }
          : x,
      );
      return { ...s, def, project: { ...s.project!, services } };
    }),
  };
  const m = monitoringStacks(loaded, source, join(mkdtempSync(join(tmpdir(), 'ferry-generated-')), 'monitoring'));
  const app = m.stacks.find((s) => s.def.name === exportersStack('app'))!;
  const pg = app.project!.services.find((s) => s.name === 'postgres-shop-postgres')!;
  assert.deepEqual(Object.keys(pg.networks), ['shop_default']);
  assert.deepEqual(pg.environment, {
    DATA_SOURCE_URI: 'postgres:5432/shop?sslmode=disable',
    DATA_SOURCE_USER: 'shop',
    DATA_SOURCE_PASS_FILE: '/run/secrets/pg-shop-postgres',
  });
  assert.equal(pg.ports[0]!.hostIp, '10.0.0.5');
  assert.equal(pg.ports[0]!.published, 9187);
  const bundle = makeBundle(app);
  const secret = bundle.files.find((f) => f.rel === 'secrets/pg-shop-postgres')!;
  assert.ok(isSecret(secret.content) && secret.content.reveal() === 'canary-pg-61a2');
  const plain = bundle.files.filter((f) => !isSecret(f.content)).map((f) => f.content.toString());
  assert.doesNotMatch(plain.join('\n'), /canary/);
  assert.ok(
    m.secrets.some((x) => x.reveal() === 'canary-pg-61a2'),
    'the password goes to the redactor',
  );
  const db = m.stacks.find((s) => s.def.name === exportersStack('db'))!;
  assert.deepEqual(
    db.project!.services.filter((s) => s.name.startsWith('postgres-')).map((s) => s.name),
    ['postgres-exporter'],
    "on the other server, only the exporter of the Postgres installed there, not this stack's",
  );
  const host = db.project!.services.find((s) => s.name === 'postgres-exporter')!;
  assert.equal(host.networkMode, 'host');
  assert.deepEqual(host.environment, {
    DATA_SOURCE_URI: '127.0.0.1:5432/postgres?sslmode=disable',
    DATA_SOURCE_USER: 'ferry_monitor',
    DATA_SOURCE_PASS_FILE: '/run/secrets/host-postgres',
  });
  assert.deepEqual(host.command, ['--web.listen-address=10.0.0.6:9187']);
  assert.equal(makeBundle(db).files.filter((f) => isSecret(f.content)).length, 0, 'its password stays on the server');
});

test('plan: the exporters of a server start after the stacks there (whose networks they join), not after those of another server; the health timer comes with them', async () => {
  const loaded = fleetWith({ grafana: false });
  const m = monitoringStacks(loaded, source, join(mkdtempSync(join(tmpdir(), 'ferry-generated-')), 'monitoring'));
  const fp = await buildPlan(
    loaded,
    selectTargets(loaded, ['blog', exportersStack('app'), exportersStack('db')], m.stacks),
    new RecordingTransport('local').when(/^docker image inspect /, { stdout: 'sha256:0\n' }),
  );
  const up = fp.plan.steps.find((s) => s.id === `${exportersStack('app')}/up`)!;
  assert.ok(up.dependsOn.includes('blog/up'), up.dependsOn.join(', '));
  const other = fp.plan.steps.find((s) => s.id === `${exportersStack('db')}/up`)!;
  assert.ok(!other.dependsOn.includes('blog/up'), 'the exporters of another server wait for nothing there');
  const ids = fp.plan.steps.map((s) => s.id);
  assert.ok(ids.includes(`${exportersStack('app')}/health/enable`));
  // Ferry's nginx proxies shop on app: its status page is written after the proxy's own steps there.
  const status = fp.plan.steps.find((s) => s.id === `${exportersStack('app')}/nginx-status`)!;
  assert.equal(status.phase, 'proxy');
  assert.ok(
    status.dependsOn.includes('blog/up') && !status.dependsOn.includes('blog/prune'),
    status.dependsOn.join(', '),
  );
  assert.ok(!ids.includes(`${exportersStack('db')}/nginx-status`), 'no proxy on db, no status page');
  // The firewall steps of a server run one after the other (ufw loses a rule changed twice at once), before up.
  const walls = fp.plan.steps.filter((s) => s.id.startsWith(`${exportersStack('app')}/firewall/`));
  assert.ok(walls.length > 2);
  walls.slice(1).forEach((w, i) => assert.ok(w.dependsOn.includes(walls[i]!.id), w.id));
  assert.ok(walls.every((w) => up.dependsOn.includes(w.id)));
});

test('plan: the exporters of a server start after the services of other stacks placed there (whose network they join)', async () => {
  const base = fleetWith({ grafana: false });
  // Certificates are not the point here.
  const loaded = { ...base, fleet: { ...base.fleet, acme: { email: 'ops@example.com' } } } as LoadedFleet;
  const m = monitoringStacks(loaded, source, join(mkdtempSync(join(tmpdir(), 'ferry-generated-')), 'monitoring'));
  const fp = await buildPlan(
    loaded,
    selectTargets(loaded, ['shop', exportersStack('db')], m.stacks),
    new RecordingTransport('local').when(/^docker image inspect /, { stdout: 'sha256:0\n' }),
  );
  const up = fp.plan.steps.find((s) => s.id === `${exportersStack('db')}/up`)!;
  const placedOnDb = fp.plan.steps.filter((s) => s.id.startsWith('shop/') && s.host === 'db').map((s) => s.id);
  assert.ok(placedOnDb.length > 0);
  assert.ok(
    placedOnDb.some((id) => up.dependsOn.includes(id)),
    `${up.dependsOn.join(', ')} / ${placedOnDb.join(', ')}`,
  );
  assert.ok(!up.dependsOn.some((id) => fp.plan.steps.find((s) => s.id === id)?.host === 'app'), 'nothing of app');
});

test("stacks: a stack's Redis with a password gets redis_exporter with the password in its secret file only (mode 600, for the redactor)", () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'ferry-generated-')), 'monitoring');
  const m = monitoringStacks(fleetWith({ grafana: false }), source, dir);
  const exporters = m.stacks[1]!.project!;
  const svc = exporters.services.find((s) => s.name === 'redis-shop-redis')!;
  assert.deepEqual(svc.command, [
    '--redis.addr=redis://redis:6379',
    '--redis.password-file=/run/secrets/redis-shop-redis',
  ]);
  const file = join(exporters.workingDir, 'secrets/redis-shop-redis');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { 'redis://redis:6379': 'canary-redis-6a1b' });
  assert.ok(m.secrets.some((s) => s.reveal() === 'canary-redis-6a1b'));
  assert.doesNotMatch(readFileSync(join(exporters.workingDir, 'compose.yml'), 'utf8'), /canary-redis/);
  m.removeSecrets();
  assert.equal(existsSync(file), false);
});

test("stacks: a stack's MySQL gets mysqld_exporter with its credentials in a my.cnf secret only (mode 600, for the redactor)", () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'ferry-generated-')), 'monitoring');
  const m = monitoringStacks(fleetWith({ grafana: false }), source, dir);
  const exporters = m.stacks[1]!.project!;
  const svc = exporters.services.find((s) => s.name === 'mysql-blog-mysql')!;
  assert.deepEqual(svc.command, ['--config.my-cnf=/run/secrets/mysql-blog-mysql']);
  assert.deepEqual(svc.environment, {});
  const file = join(exporters.workingDir, 'secrets/mysql-blog-mysql');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.equal(readFileSync(file, 'utf8'), '[client]\nuser=root\npassword=`canary-my-8d3c`\nhost=mysql\nport=3306\n');
  assert.ok(m.secrets.some((s) => s.reveal() === 'canary-my-8d3c'));
  assert.doesNotMatch(readFileSync(join(exporters.workingDir, 'compose.yml'), 'utf8'), /canary-my/);
  m.removeSecrets();
  assert.equal(existsSync(file), false);
});
