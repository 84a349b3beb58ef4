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

test('a project that cannot be loaded does not print the secrets in it, on any command, text or JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-canary-'));
  writeFileSync(join(dir, '.env'), `DB_PASSWORD=${CANARY}-dotenv\n`);
  writeFileSync(
    join(dir, 'compose.yml'),
    `services:
  web:
    image: nginx:1.27
    environment:
      DATABASE_URL: "postgres://app:${CANARY}-url@db/\${ DB}"
      LONG: "${CANARY}-long${'x'.repeat(300)}\${ DB}"
      PASSWORD_TOO: \${DB_PASSWORD}
    command: ["redis-server", "--requirepass", "${CANARY}-cmd"]
    labels:
      traefik.http.middlewares.auth.basicauth.users: "admin:${CANARY}-label"
`,
  );
  writeFileSync(
    join(dir, 'ferry.yml'),
    'servers:\n  s: { host: 127.0.0.1, port: 1 }\nstacks:\n  app: { server: s, compose: compose.yml }\n',
  );
  const runs = [
    ['check', '--compose', 'compose.yml'],
    ['check', '--compose', 'compose.yml', '--json'],
    ['check', '-f', 'ferry.yml', '--json'],
    ['inventory', '-f', 'ferry.yml'],
    ['inventory', '-f', 'ferry.yml', '--json'],
    ['plan', '-f', 'ferry.yml'],
    ['apply', '-f', 'ferry.yml', '--yes', '--json'],
    ['rollback', 'app', '-f', 'ferry.yml', '--yes'],
    ['migrate', 'app', '--to', 's', '-f', 'ferry.yml', '--yes'],
    ['retire', 'app', '--from', 's', '-f', 'ferry.yml', '--yes', '--json'],
  ];
  for (const args of runs) {
    const r = await ferry(args, { cwd: dir });
    assert.equal(r.code, 2, `ferry ${args.join(' ')} exits 2:\n${r.out}${r.err}`);
    assert.match(`${r.out}${r.err}`, /invalid-interpolation/, args.join(' '));
    assert.ok(!`${r.out}${r.err}`.includes(CANARY), `ferry ${args.join(' ')} printed a canary:\n${r.out}${r.err}`);
  }
});

test('a realistic .env stays readable: only secrets are masked, as whole values', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-plain-'));
  writeFileSync(
    join(dir, '.env'),
    `POSTGRES_USER=postgres\nPOSTGRES_DB=app\nLOG_LEVEL=warning\nAPP_IMAGE=example/app\nPOSTGRES_PASSWORD=${CANARY}-pg\n`,
  );
  writeFileSync(
    join(dir, 'compose.yml'),
    `services:
  app:
    image: \${APP_IMAGE}:1.0
    environment:
      DATABASE_URL: postgres://\${POSTGRES_USER}:\${POSTGRES_PASSWORD}@postgres:5432/\${POSTGRES_DB}
      LOG_LEVEL: \${LOG_LEVEL}
  postgres:
    image: postgres:16.4
    volumes: ["pgdata:/var/lib/postgresql/data"]
    environment:
      POSTGRES_USER: \${POSTGRES_USER}
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
volumes:
  pgdata:
`,
  );
  for (const args of [
    ['inventory', '--compose', 'compose.yml'],
    ['check', '--compose', 'compose.yml'],
  ]) {
    const r = await ferry(args, { cwd: dir });
    const all = `${r.out}${r.err}`;
    assert.ok(!all.includes(CANARY), `ferry ${args.join(' ')} printed a canary:\n${all}`);
    assert.doesNotMatch(all, /\[REDACTED\]/, `ferry ${args.join(' ')} masked a word:\n${all}`);
  }
  const inv = await ferry(['inventory', '--compose', 'compose.yml'], { cwd: dir });
  assert.match(inv.out, /example\/app:1\.0/);
  assert.match(inv.out, /pgdata:\/var\/lib\/postgresql\/data/);
  assert.match(inv.out, /^postgres +\S+-postgres-1 +postgres:16\.4 /m);
  const check = await ferry(['check', '--compose', 'compose.yml'], { cwd: dir });
  assert.match(check.out, /\n0 errors, \d+ warnings, 0 notes\n$/);
});
