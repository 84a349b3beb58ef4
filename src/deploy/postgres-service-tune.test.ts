import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkspace } from '../workspace/load.js';
import { serviceTunes, withTunes } from './postgres-service-tune.js';

const COMPOSE = `services:
  db:
    image: postgres:16
    command: ["postgres", "-c", "max_connections=50", "-c", "work_mem=8MB"]
    deploy: { resources: { limits: { memory: 2G } } }
  reports:
    image: postgres:16
    command: postgres -c log_min_duration_statement=500
  api: { image: app:1 }
  cache: { image: redis:7 }
`;

function loaded(services: string, server = '{ host: 203.0.113.10, memory: 4GiB }') {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pg-tune-'));
  writeFileSync(join(dir, 'compose.yml'), COMPOSE);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      `  app: ${server}`,
      'stacks:',
      '  shop:',
      '    server: app',
      '    compose: compose.yml',
      `    services: ${services}`,
      '    connections: [{ service: api, pool: 10, processes: 4, to: reports }]',
      '',
    ].join('\n'),
  );
  const ws = loadWorkspace({ cwd: dir, env: {} });
  if (!ws.loaded) throw new Error(`fixture fleet unreadable: ${JSON.stringify(ws.findings)}`);
  return { stack: ws.loaded.stacks[0]!, server: ws.loaded.fleet.servers.app! };
}

test("from the service's memory limit, after the command's own words; what the command sets stays", () => {
  const { stack, server } = loaded('{ db: { tune: true } }');
  const [t] = serviceTunes(stack, server);
  assert.deepEqual(t!.command, [
    'postgres',
    '-c',
    'max_connections=50',
    '-c',
    'work_mem=8MB',
    '-c',
    'shared_buffers=524288kB',
    '-c',
    'effective_cache_size=1572864kB',
    '-c',
    'maintenance_work_mem=131072kB',
  ]);
  assert.deepEqual(t!.settings, [
    'shared_buffers=512 MB',
    'effective_cache_size=1536 MB',
    'maintenance_work_mem=128 MB',
  ]);
});

test("from the server's memory, with max_connections from the pools that connect (and the check's headroom)", () => {
  const { stack, server } = loaded('{ reports: { tune: true } }');
  const [t] = serviceTunes(stack, server);
  // 10 × 4 connections, 3 for superusers, 10 % kept free: 48, rounded up to 50.
  assert.deepEqual(t!.settings, [
    'max_connections=50',
    'shared_buffers=1 GB',
    'effective_cache_size=3 GB',
    'maintenance_work_mem=256 MB',
    'work_mem=20 MB',
  ]);
  assert.deepEqual(t!.command.slice(0, 3), ['postgres', '-c', 'log_min_duration_statement=500']);
  const doc = withTunes({ services: { reports: { image: 'postgres:16' }, api: { image: 'app:1' } } }, [t!]);
  assert.deepEqual(doc.services, { reports: { image: 'postgres:16', command: t!.command }, api: { image: 'app:1' } });
});

test('refused, at their key: a service that is not Postgres, and a size nobody gave', () => {
  const code = (services: string, server?: string) => {
    const { stack, server: s } = loaded(services, server);
    try {
      serviceTunes(stack, s);
      return 'none';
    } catch (e) {
      return `${(e as { code: string }).code} ${(e as { place: string }).place}`;
    }
  };
  assert.equal(code('{ cache: { tune: true } }'), 'tune-not-postgres stacks/shop/services/cache/tune');
  assert.equal(
    code('{ reports: { tune: true } }', '{ host: 203.0.113.10 }'),
    'tune-memory-unknown stacks/shop/services/reports/tune',
  );
  assert.equal(code('{ db: { tune: false } }'), 'none');
});
