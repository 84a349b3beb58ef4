/**
 * A fleet with every kind of thing monitoring watches, loaded from a temporary directory
 * as the commands load it: two servers (one with a Postgres on the host), a shop behind
 * nginx with Postgres (placed on the database server), Redis with a password and an HTTP check, and a
 * blog with MySQL, a Postgres whose password is a Compose secret, its own nginx container
 * publishing a port (its stub_status named) and a second nginx whose page Ferry does not know.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedFleet } from '../../model/loaded.js';
import { loadWorkspace } from '../../workspace/load.js';

const SHOP = `services:
  web:
    image: registry.example.com/shop/web:1.4.2
    healthcheck: { test: ["CMD", "true"] }
  api:
    image: registry.example.com/shop/api:1.4.2
  postgres:
    image: postgres:16.4
    environment: { POSTGRES_DB: shop, POSTGRES_PASSWORD: "\${SHOP_DB_PASSWORD:-canary-pg-shop-77a0}" }
    volumes: [pg:/var/lib/postgresql/data]
  redis:
    image: redis:7.4
    command: ["redis-server", "--appendonly", "yes", "--requirepass", "\${REDIS_PASSWORD:-canary-redis-6a1b}"]
    volumes: [redis:/data]
volumes: { pg: {}, redis: {} }
`;

const BLOG = `services:
  front:
    image: nginx:1.27
    ports: ["8080:80"]
  assets:
    image: nginxinc/nginx-unprivileged:1.27
  mysql:
    image: mysql:8.4
    environment: { MYSQL_ROOT_PASSWORD: "\${BLOG_DB_ROOT:-canary-my-8d3c}", MYSQL_DATABASE: blog }
    volumes: [db:/var/lib/mysql]
  search:
    image: postgres:16.4
    environment: { POSTGRES_USER: search, POSTGRES_PASSWORD_FILE: /run/secrets/search_pw }
    secrets: [search_pw]
    volumes: [search:/var/lib/postgresql/data]
volumes: { db: {}, search: {} }
secrets: { search_pw: { file: ./search-pw.txt } }
`;

export const FLEET_YML = `servers:
  app: { host: 203.0.113.10, private_address: 10.0.0.5 }
  db: { host: 203.0.113.11, private_address: 10.0.0.6, port: 2222, postgres: { max_connections: 500 } }
stacks:
  shop:
    server: app
    compose: shop.yml
    project: shop
    services: { postgres: { server: db } }
    deploy: { http_checks: [{ service: api, port: 8000, path: /api/health }] }
    backups: { password: { env: SHOP_BACKUP_PASSWORD }, repositories: [{ name: offsite, path: /var/backups/shop }] }
    proxy:
      domains: [shop.example.com, www.shop.example.com]
      routes:
        - { path: /, service: web, port: 3000 }
        - { path: /api, service: api, port: 8000 }
  blog:
    server: app
    compose: blog.yml
    project: blog
    services: { front: { nginx_status: { port: 8081, path: /nginx_status } } }
    deploy: { http_checks: [{ service: front, port: 80, path: /healthz }, { service: mysql, port: 3306, path: / }] }
monitoring:
  server: db
  receivers:
    hooks: { type: webhook, url: { env: FERRY_TEST_WEBHOOK_URL } }
    chat: { type: slack, url: { env: FERRY_TEST_SLACK_URL }, channel: "#ops", severity: critical }
    discord: { type: discord, url: { file: secrets/discord-url } }
    phone: { type: telegram, token: { env: FERRY_TEST_TELEGRAM_TOKEN }, chat_id: -1001234567890 }
    mail:
      type: email
      to: ops@example.com
      from: alerts@example.com
      smarthost: smtp.example.com:587
      username: alerts
      password: { env: FERRY_TEST_SMTP_PASSWORD }
  thresholds: { cpu_percent: 85, certificate_days: 14 }
  heartbeat: { url: { env: FERRY_TEST_HEARTBEAT_URL }, every: 2m }
  images:
    prometheus: { name: mirror.example.com/prom/prometheus, version: v2.53.3 }
`;

/** The fixture fleet loaded; `dir` holds its files (the Discord URL file is written there). */
export function monitoringFleet(secret = 'discord-canary'): { loaded: LoadedFleet; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-monitoring-'));
  writeFileSync(join(dir, 'shop.yml'), SHOP);
  writeFileSync(join(dir, 'blog.yml'), BLOG);
  writeFileSync(join(dir, 'search-pw.txt'), 'canary-pg-1f2e\n');
  writeFileSync(join(dir, 'ferry.yml'), FLEET_YML);
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'discord-url'), `${secret}\n`);
  const ws = loadWorkspace({ cwd: dir, env: {} });
  if (!ws.loaded) throw new Error(`fixture fleet unreadable: ${JSON.stringify(ws.findings)}`);
  return { loaded: ws.loaded, dir };
}
