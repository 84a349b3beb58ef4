/** Exporter ports open to the monitoring server only, in a hardened server's firewall. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPorts } from '../harden/firewall-rules.js';
import { monitoringFleet } from './test-helpers/fleet.js';
import { dropRule, type Guard } from '../deploy/firewall.js';
import { exporterGuards, sshProbers } from './firewall.js';

const rules = (list: { port: string; from: string[]; why: string }[]) =>
  list.filter((r) => r.why === 'monitoring').map((r) => `${r.port} from ${r.from.join(',')}`);

test('firewall: each server opens node_exporter, cAdvisor and its own exporters to the monitoring server, on the host and for containers', () => {
  const { loaded } = monitoringFleet();
  const app = openPorts(loaded, loaded.fleet.servers.app!);
  const expectedApp = ['9100', '9338', '9121', '9114', '9104', '9187', '9113'].map((p) => `${p} from 10.0.0.6`);
  assert.deepEqual(rules(app.host), expectedApp);
  assert.deepEqual(rules(app.containers), expectedApp);
  // The monitoring server lets its own Prometheus (on a Docker bridge) reach every exporter
  // of its own: a container's connection to a port of its server goes through INPUT.
  const db = openPorts(loaded, loaded.fleet.servers.db!);
  const pools = '10.0.0.6,172.16.0.0/12,192.168.0.0/16';
  // 9187: the exporter of the Postgres installed on db, 9188: the one of shop's Postgres placed there.
  assert.deepEqual(
    rules(db.host),
    ['9100', '9338', '9187', '9188'].map((p) => `${p} from ${pools}`),
  );
});

test('firewall: a fleet without monitoring opens no exporter port', () => {
  const { loaded } = monitoringFleet();
  const { monitoring: _, ...fleet } = loaded.fleet;
  const bare = { ...loaded, fleet };
  assert.deepEqual(rules(openPorts(bare, fleet.servers.app!).host), []);
});

test('firewall: every exporter port gets a drop rule for all but the monitoring server; its own containers get in on it only', () => {
  const { loaded } = monitoringFleet();
  const show = (g: Guard) =>
    `${g.service} ${dropRule('ferry-exporters', g).slice(0, 1)} ${g.address}:${g.port} from ${g.allowFrom}${g.localBridges ? ' +bridges' : ''}`;
  assert.deepEqual(exporterGuards(loaded, 'app').map(show), [
    'node-exporter INPUT 10.0.0.5:9100 from 10.0.0.6',
    'cadvisor DOCKER-USER 10.0.0.5:9338 from 10.0.0.6',
    'redis-shop-redis DOCKER-USER 10.0.0.5:9121 from 10.0.0.6',
    'nginx-blog-front DOCKER-USER 10.0.0.5:9114 from 10.0.0.6',
    'mysql-blog-mysql DOCKER-USER 10.0.0.5:9104 from 10.0.0.6',
    'postgres-blog-search DOCKER-USER 10.0.0.5:9187 from 10.0.0.6',
    'nginx INPUT 10.0.0.5:9113 from 10.0.0.6',
  ]);
  const db = exporterGuards(loaded, 'db');
  assert.deepEqual(db.map(show).slice(2), [
    'postgres INPUT 10.0.0.6:9187 from 10.0.0.6 +bridges', // the Postgres installed there: on the host's network
    'postgres-shop-postgres DOCKER-USER 10.0.0.6:9188 from 10.0.0.6 +bridges',
  ]);
  assert.ok(db.every((g) => g.localBridges));
  assert.match(dropRule('ferry-exporters-db', db[0]!).join(' '), /! -s 10\.0\.0\.6 ! -i br-\+ -m comment/);
  const { monitoring: _, ...fleet } = loaded.fleet;
  assert.deepEqual(exporterGuards({ ...loaded, fleet }, 'app'), []);
});

test('firewall: fail2ban does not count the SSH probes of the monitoring server (of its Docker bridges on it) and of the fleet’s other servers', () => {
  const { loaded } = monitoringFleet();
  const { app, db } = loaded.fleet.servers;
  assert.deepEqual(openPorts(loaded, app!).sshProbers, sshProbers(loaded, 'app'));
  assert.deepEqual(sshProbers(loaded, 'app'), ['10.0.0.6', db!.host]);
  assert.deepEqual(sshProbers(loaded, 'db'), [
    '10.0.0.6',
    db!.host,
    '172.16.0.0/12',
    '192.168.0.0/16',
    '10.0.0.5',
    app!.host,
  ]);
  const { monitoring: _, ...fleet } = loaded.fleet;
  assert.deepEqual(sshProbers({ ...loaded, fleet }, 'app'), ['10.0.0.6', db!.host], 'the watch of the other server');
  const alone = { ...fleet, servers: { app: app! } };
  assert.deepEqual(sshProbers({ ...loaded, fleet: alone }, 'app'), []);
});
