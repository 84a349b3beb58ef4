/** Canary secrets, from env files, inline environment, URLs and command lines, never reach any output. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ferry } from './run.js';

const CANARY = 'canary-5e1b9d27';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-canary-'));
  writeFileSync(join(dir, '.env'), `DB_PASSWORD=${CANARY}-dotenv\nAPI_TOKEN=${CANARY}-token\n`);
  writeFileSync(join(dir, 'app.env'), `SECRET_KEY=${CANARY}-envfile\nPLAIN=${CANARY}-plain-envfile\n`);
  writeFileSync(
    join(dir, 'compose.yml'),
    `services:
  app:
    image: example/app:1.0
    env_file: app.env
    ports: ["8000:8000"]
    environment:
      POSTGRES_PASSWORD: ${CANARY}-inline
      DATABASE_URL: postgres://app:${CANARY}-url@db:5432/app
      FROM_DOTENV: \${DB_PASSWORD}
      TOKEN: \${API_TOKEN}
  db:
    image: postgres:16
    command: ["postgres", "-c", "max_connections=100"]
    environment:
      POSTGRES_PASSWORD: \${DB_PASSWORD}
  flower:
    image: mher/flower:2.0
    command: ["celery", "flower", "--basic_auth=admin:${CANARY}-basic"]
  cache:
    image: redis:7
    command: redis-server --requirepass ${CANARY}-redis
`,
  );
  writeFileSync(
    join(dir, 'ferry.yml'),
    `servers:\n  s: { host: 203.0.113.9, memory: 1GiB, cpus: 1 }\nstacks:\n  app: { server: s, compose: compose.yml }\n`,
  );
  return dir;
}

test('no output format of inventory or check contains a canary secret', async () => {
  const dir = project();
  const runs = [
    ['inventory', '-f', 'ferry.yml'],
    ['inventory', '-f', 'ferry.yml', '--json'],
    ['check', '-f', 'ferry.yml'],
    ['check', '-f', 'ferry.yml', '--json'],
    ['inventory', '--compose', 'compose.yml', '--json'],
    ['check', '--compose', 'compose.yml'],
  ];
  for (const args of runs) {
    const r = await ferry(args, { cwd: dir });
    assert.ok(r.out.length > 0, `ferry ${args.join(' ')} printed something`);
    assert.ok(!`${r.out}${r.err}`.includes(CANARY), `ferry ${args.join(' ')} printed a canary:\n${r.out}${r.err}`);
  }
  // And the check does see the plaintext credentials, each at its place.
  const r = await ferry(['check', '-f', 'ferry.yml', '--json'], { cwd: dir });
  const found = (JSON.parse(r.out) as { findings: { code: string; where: { path?: string } }[] }).findings
    .filter((f) => f.code === 'plaintext-secret')
    .map((f) => f.where.path);
  for (const p of [
    'services/app/environment/POSTGRES_PASSWORD',
    'services/app/environment/DATABASE_URL',
    'services/flower/command',
    'services/cache/command',
  ]) {
    assert.ok(
      found.some((x) => x?.startsWith(p)),
      `plaintext-secret at ${p} (found: ${found.join(', ')})`,
    );
  }
});
