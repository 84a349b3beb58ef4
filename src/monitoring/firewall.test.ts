/** Exporter ports open to the monitoring server only, in a hardened server's firewall. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPorts } from '../harden/firewall-rules.js';
import { monitoringFleet } from './test-helpers/fleet.js';

const rules = (list: { port: string; from: string[]; why: string }[]) =>
  list.filter((r) => r.why === 'monitoring').map((r) => `${r.port} from ${r.from.join(',')}`);

test('firewall: each server opens node_exporter, cAdvisor and its own exporters to the monitoring server, on the host and for containers', () => {
  const { loaded } = monitoringFleet();
  const app = openPorts(loaded, loaded.fleet.servers.app!);
  const expectedApp = ['9100', '9338', '9121', '9113', '9104', '9114'].map((p) => `${p} from 10.0.0.6`);
  assert.deepEqual(rules(app.host), expectedApp);
  assert.deepEqual(rules(app.containers), expectedApp);
  const db = openPorts(loaded, loaded.fleet.servers.db!);
  assert.deepEqual(
    rules(db.host),
    ['9100', '9338', '9187', '9188'].map((p) => `${p} from 10.0.0.6`),
  );
});

test('firewall: a fleet without monitoring opens no exporter port', () => {
  const { loaded } = monitoringFleet();
  const { monitoring: _, ...fleet } = loaded.fleet;
  const bare = { ...loaded, fleet };
  assert.deepEqual(rules(openPorts(bare, fleet.servers.app!).host), []);
});
