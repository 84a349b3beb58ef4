/**
 * The monitoring stack's Compose projects as Ferry itself reads them (no `docker compose`
 * on this machine; the test bed hosts have one): they load, and Ferry's own checks find
 * nothing to say of them: pinned images, limits, restart policies, health checks, volumes for
 * the data, web ports on 127.0.0.1 only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runChecks } from '../check/index.js';
import { loadWorkspace } from '../workspace/load.js';
import { allMonitoringFiles, secretPlaces } from './files.js';
import { GRAFANA_PASSWORD_FILE, receiverSecretFile } from './render/compose.js';
import { monitoringTargets } from './targets.js';
import { monitoringFleet } from './test-helpers/fleet.js';

test('compose: the monitoring server and exporter projects load, and Ferry checks find nothing in them', () => {
  const { loaded } = monitoringFleet();
  const files = allMonitoringFiles(loaded.fleet.monitoring!, monitoringTargets(loaded));
  const dir = mkdtempSync(join(tmpdir(), 'ferry-monitoring-compose-'));
  for (const [rel, text] of files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  writeFileSync(join(dir, GRAFANA_PASSWORD_FILE), 'not-a-real-password\n');
  mkdirSync(join(dir, 'alertmanager/secrets'));
  for (const s of secretPlaces(loaded.fleet.monitoring!))
    writeFileSync(join(dir, receiverSecretFile(s.receiver)), 'https://hooks.example.com/not-a-real-one\n');
  mkdirSync(join(dir, 'servers/app/secrets'));
  writeFileSync(join(dir, 'servers/app/secrets/redis-shop-redis'), '{"redis://redis:6379":"not-a-real-one"}\n');
  writeFileSync(join(dir, 'servers/app/secrets/pg-blog-search'), 'not-a-real-one\n');
  mkdirSync(join(dir, 'servers/db/secrets'));
  writeFileSync(join(dir, 'servers/db/secrets/pg-shop-postgres'), 'not-a-real-one\n');
  writeFileSync(join(dir, 'servers/app/secrets/mysql-blog-mysql'), '[client]\n');
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      '  app: { host: 203.0.113.10, private_address: 10.0.0.5 }',
      '  db: { host: 203.0.113.11, private_address: 10.0.0.6 }',
      'stacks:',
      '  monitoring: { server: db, compose: compose.yml }',
      '  exporters-app: { server: app, compose: servers/app/compose.yml, project: ferry-exporters }',
      '  exporters-db: { server: db, compose: servers/db/compose.yml, project: ferry-exporters }',
      '',
    ].join('\n'),
  );
  const ws = loadWorkspace({ cwd: dir, env: {} });
  assert.ok(ws.loaded && !ws.unreadable, JSON.stringify(ws.findings));
  for (const s of ws.loaded.stacks) assert.ok(s.project, JSON.stringify(s.findings));
  const monitoring = ws.loaded.stacks.find((s) => s.def.name === 'monitoring')!.project!;
  assert.deepEqual(
    monitoring.services.map((s) => s.name),
    ['prometheus', 'alertmanager', 'blackbox', 'grafana'],
  );
  const errors = runChecks(ws.loaded);
  // Upstream's nginx exporter image is FROM scratch: no command can probe it from inside.
  assert.deepEqual(
    errors.map((f) => `${f.code} ${f.stack ?? ''}/${f.service ?? ''}: ${f.message}`),
    [
      'no-healthcheck exporters-app/nginx-blog-front: exporters-app/nginx-blog-front publishes ports but has no healthcheck',
    ],
  );
});
