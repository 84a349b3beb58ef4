/** Compose services of the backup suites' stacks, on the test bed's images, and what those suites do with them. */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { containerOf, onHost, type TestbedHost } from './helpers.js';

/** Postgres as the `shop` role and database, its password from `.env`'s POSTGRES_PASSWORD. */
export const PG_SERVICE = `  db:
    image: ferry-tb-postgres:1
    environment:
      POSTGRES_USER: shop
      POSTGRES_DB: shop
      POSTGRES_PASSWORD: \${POSTGRES_PASSWORD}
    volumes: [db-data:/var/lib/postgresql/data]
    restart: unless-stopped
    mem_limit: 512m
`;

/** A service that only holds the `uploads` volume. */
export const FILES_SERVICE = `  files:
    image: ferry-tb-app:1
    entrypoint: [sleep, infinity]
    volumes: [uploads:/srv/uploads]
    restart: unless-stopped
    mem_limit: 64m
`;

/** Rows of table `items` of stack `stack`'s Postgres (PG_SERVICE). */
export const itemRows = (h: TestbedHost, stack: string): number =>
  Number(onHost(h, `docker exec ${containerOf(stack, 'db')} psql -At -U shop -d shop -c 'SELECT count(*) FROM items'`));

/** Table `items` with `rows` rows in stack `stack`'s Postgres, once it accepts connections. */
export function fillItems(h: TestbedHost, stack: string, rows: number): void {
  onHost(
    h,
    `until docker exec ${containerOf(stack, 'db')} pg_isready -q -h 127.0.0.1 -U shop -d shop; do sleep 0.5; done; ` +
      `docker exec -i ${containerOf(stack, 'db')} psql -q -v ON_ERROR_STOP=1 -U shop -d shop`,
    `CREATE TABLE items (id serial PRIMARY KEY, name text);\n` +
      `INSERT INTO items (name) SELECT 'item ' || i FROM generate_series(1, ${rows}) i;\n`,
  );
}

/** Stack `stack`'s scheduled `job` started on `h` as its timer would: its result and its journal since. */
export function startJob(h: TestbedHost, stack: string, job: 'backup' | 'check'): { result: string; journal: string } {
  const unit = `ferry-${job}-${stack}.service`;
  const since = onHost(h, 'date "+%Y-%m-%d %H:%M:%S"').trim();
  onHost(h, `systemctl start ${unit} || true`);
  return {
    result: onHost(h, `systemctl show -p Result --value ${unit}`).trim(),
    journal: onHost(h, `journalctl -u ${unit} --since "${since}" --no-pager -o cat`),
  };
}

/** Every file under `dir`, recursively. */
export const filesUnder = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });

/** What a `ferry backup drill --json` proved, sorted, the release's id left out; fails unless every proof passed. */
export function drillProofs(out: string): string[] {
  const report = JSON.parse(out) as { ok: boolean; proofs: { what: string; ok: boolean }[] };
  assert.ok(report.ok, out);
  return report.proofs.map((p) => p.what.replace(/^release [0-9a-f]{12}$/, 'release')).sort();
}
