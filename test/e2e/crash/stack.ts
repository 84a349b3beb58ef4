/**
 * The stack the crash tests move, shaped like our users' (a front end and an API behind
 * nginx, a worker and a scheduler writing on their own, Redis with a password, Postgres),
 * its fleet file, and what the tests read from the hosts: the rows a database holds, the
 * site's answer, what a migration left (`ferry migrate --status`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerOf, onHost, type TestbedHost, serverLine } from '../helpers.js';

export const CRASH_CANARY = 'canary-crash-3e7a19c2';
export const REDIS_CANARY = 'canary-crash-redis-5d2b';

export function crashCompose(): string {
  const db = `postgresql://app:\${POSTGRES_PASSWORD}@db:5432/app`;
  const app = (version: string) => [
    '    image: ferry-tb-app:1',
    '    environment:',
    `      APP_VERSION: "${version}"`,
    `      DATABASE_URL: ${db}`,
    '    healthcheck:',
    `      test: ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/', timeout=2)"]`,
    '      interval: 2s',
    '      timeout: 3s',
    '      retries: 3',
    '      start_period: 5s',
    '    depends_on: { db: { condition: service_healthy } }',
    '    restart: unless-stopped',
    '    mem_limit: 256m',
  ];
  const worker = (name: string, every: number) => [
    '    image: ferry-tb-worker:1',
    '    environment:',
    `      DATABASE_URL: ${db}`,
    `      WORKER_NAME: ${name}`,
    `      WORKER_INTERVAL: "${every}"`,
    '    depends_on: { db: { condition: service_healthy } }',
    '    restart: unless-stopped',
    '    mem_limit: 128m',
  ];
  return [
    'services:',
    '  web:',
    ...app('web'),
    '  api:',
    ...app('api'),
    '  worker:',
    ...worker('worker', 2),
    '  scheduler:',
    ...worker('scheduler', 5),
    '  cache:',
    '    image: ferry-tb-redis:1',
    '    command: ["redis-server", "--requirepass", "${REDIS_PASSWORD}", "--appendonly", "yes"]',
    '    volumes: ["cache-data:/data"]',
    '    restart: unless-stopped',
    '  db:',
    '    image: ferry-tb-postgres:1',
    '    environment:',
    '      POSTGRES_USER: app',
    '      POSTGRES_DB: app',
    '      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}',
    '    command: ["postgres", "-c", "wal_level=logical"]',
    '    volumes: ["db-data:/var/lib/postgresql/data"]',
    '    healthcheck:',
    '      test: ["CMD", "pg_isready", "-U", "app", "-d", "app"]',
    '      interval: 2s',
    '      timeout: 3s',
    '      retries: 10',
    '    restart: unless-stopped',
    '    mem_limit: 512m',
    'volumes:',
    '  db-data: {}',
    '  cache-data: {}',
    '',
  ].join('\n');
}

/** compose.yml, .env (the passwords: canaries) and ferry.yml with the stack on `source`. */
export function writeCrashStack(
  dir: string,
  o: { stack: string; domain: string; source: TestbedHost; target: TestbedHost },
) {
  writeFileSync(join(dir, 'compose.yml'), crashCompose());
  writeFileSync(join(dir, '.env'), `POSTGRES_PASSWORD=${CRASH_CANARY}\nREDIS_PASSWORD=${REDIS_CANARY}\n`);
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      serverLine(o.source),
      serverLine(o.target),
      'stacks:',
      `  ${o.stack}:`,
      `    server: ${o.source.name}`,
      '    compose: compose.yml',
      `    project: ${o.stack}`,
      '    deploy: { health_timeout: 60s, http_checks: [{ service: web, port: 8000, path: /health }] }',
      `    proxy:`,
      `      domains: [${o.domain}]`,
      '      tls: none',
      '      routes:',
      '        - { path: /api/, service: api, port: 8000 }',
      '        - { service: web, port: 8000 }',
      '',
    ].join('\n'),
  );
}

/** Ids of `ferry_hits` on `h` among `ids` (the probe's acknowledged writes): those missing there. */
export function missingIds(h: TestbedHost, stack: string, ids: number[]): number[] {
  if (ids.length === 0) return [];
  let out: string;
  try {
    out = onHost(
      h,
      `docker exec -i ${containerOf(stack, 'db')} psql -U app -d app -At -c "SELECT id FROM ferry_hits WHERE id = ANY ('{${ids.join(',')}}'::bigint[])"`,
    );
  } catch {
    return ids; // no database answers there: none of them is served
  }
  const have = new Set(out.split('\n').filter(Boolean).map(Number));
  return ids.filter((id) => !have.has(id));
}

/** Rows of a table on `h`, or -1 when its database does not answer. */
export function rows(h: TestbedHost, stack: string, table: string): number {
  try {
    return Number(
      onHost(h, `docker exec ${containerOf(stack, 'db')} psql -U app -d app -At -c "SELECT count(*) FROM ${table}"`),
    );
  } catch {
    return -1;
  }
}
