/** Findings that need the whole fleet: stacks placed on the same server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ferry } from './run.js';

function fleet(): string {
  const d = mkdtempSync(join(tmpdir(), 'ferry-fleet-'));
  const files: Record<string, string> = {
    'ferry.yml':
      'servers:\n  small: { host: 203.0.113.5, memory: 2GiB, cpus: 1 }\n  other: { host: 203.0.113.6, memory: 2GiB, cpus: 1 }\nstacks:\n  a: { server: small, compose: a/compose.yml }\n  b: { server: small, compose: b/compose.yml }\n  c: { server: other, compose: c/compose.yml }\n',
    'a/compose.yml':
      'services:\n  web:\n    image: a/web:1.0\n    ports: ["8080:80"]\n    mem_limit: 1g\n    restart: always\n    healthcheck: { test: ["CMD", "true"] }\n',
    'b/compose.yml':
      'services:\n  web:\n    image: b/web:1.0\n    ports: ["0.0.0.0:8080:8080"]\n    mem_limit: 1g\n    restart: always\n    healthcheck: { test: ["CMD", "true"] }\n',
    'c/compose.yml':
      'services:\n  web:\n    image: c/web:1.0\n    ports: ["8080:80"]\n    mem_limit: 1g\n    restart: always\n    healthcheck: { test: ["CMD", "true"] }\n',
  };
  for (const [n, t] of Object.entries(files)) {
    mkdirSync(join(d, n, '..'), { recursive: true });
    writeFileSync(join(d, n), t);
  }
  return d;
}

test('two stacks on one server: port conflict and memory over capacity; a third server is unaffected', async () => {
  const d = fleet();
  const r = await ferry(['check', '-f', 'ferry.yml', '--json'], { cwd: d });
  assert.equal(r.code, 1);
  const errors = (
    JSON.parse(r.out) as {
      findings: {
        code: string;
        severity: string;
        message: string;
        where: { file?: string; line?: number };
        server?: string;
      }[];
    }
  ).findings.filter((f) => f.severity === 'error');
  assert.deepEqual(errors.map((f) => f.code).sort(), ['capacity', 'port-conflict']);
  const conflict = errors.find((f) => f.code === 'port-conflict')!;
  assert.equal(conflict.where.file, 'b/compose.yml');
  assert.equal(conflict.where.line, 4);
  assert.match(conflict.message, /a\/web/);
  assert.match(conflict.message, /8080/);
  const capacity = errors.find((f) => f.code === 'capacity')!;
  assert.equal(capacity.server, 'small');
  assert.equal(capacity.where.file, 'ferry.yml');

  const inv = await ferry(['inventory', '-f', 'ferry.yml', '--json'], { cwd: d });
  assert.equal(inv.code, 0);
  const servers = (
    JSON.parse(inv.out) as { servers: { server: string; totals: { memoryLimit: number; containers: number } }[] }
  ).servers;
  assert.deepEqual(
    servers.map((s) => [s.server, s.totals.memoryLimit, s.totals.containers]),
    [
      ['small', 2 * 1024 ** 3, 2],
      ['other', 1024 ** 3, 1],
    ],
  );
});
