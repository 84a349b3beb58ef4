/** A deployable stack in a temporary directory, aimed at one test bed host, and ways to drive `ferry` on it. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths } from '../../scripts/testbed/lib.mjs';
import { composeOn, onHost, type TestbedHost, serverLine } from './helpers.js';
import { ferry, type Transcript } from '../cli/run.js';

const demo = fileURLToPath(new URL('../../examples/demo/', import.meta.url));

export const CANARY = 'canary-pg-4b7e1d9a';

export interface Stack {
  dir: string;
  state: string;
  host: TestbedHost;
  domain: string;
  run: (args: string[], env?: Record<string, string>) => Promise<Transcript>;
  /** `ferry runs --json` of this stack's state directory. */
  runs: () => Promise<{ id: string; command: string; status: string }[]>;
  get: (path?: string) => Promise<{ status: number; body: string }>;
}

/**
 * The demo stack (web on Postgres, worker), named STACK, on `host`, with `DB_HOST`
 * settable so that a release can be made to fail its health check.
 */
export function makeStack(host: TestbedHost, stack: string, extra = ''): Stack {
  const dir = mkdtempSync(join(tmpdir(), `ferry-${stack}-`));
  const state = join(dir, 'state');
  const compose = readFileSync(join(demo, 'compose.yml'), 'utf8').replaceAll('@db:5432', '@${DB_HOST:-db}:5432');
  writeFileSync(join(dir, 'compose.yml'), compose);
  writeFileSync(join(dir, '.env'), `POSTGRES_PASSWORD=${CANARY}\n`);
  const domain = `${stack}.ferry.test`;
  writeFileSync(
    join(dir, 'ferry.yml'),
    [
      'servers:',
      serverLine(host),
      'stacks:',
      `  ${stack}:`,
      `    server: ${host.name}`,
      '    compose: compose.yml',
      `    project: ${stack}`,
      '    deploy: { health_timeout: 40s, http_checks: [{ service: web, port: 8000, path: /health }] }',
      `    proxy: { domains: [${domain}], tls: none, routes: [{ service: web, port: 8000 }] }`,
      extra,
    ].join('\n'),
  );
  const ssh = ['--known-hosts', paths.knownHosts];
  return {
    dir,
    state,
    host,
    domain,
    run: (args, env = {}) =>
      ferry([...args, '-f', 'ferry.yml', ...ssh], { cwd: dir, env: { FERRY_STATE_DIR: state, ...env } }),
    runs: async () =>
      JSON.parse((await ferry(['runs', '--json'], { cwd: dir, env: { FERRY_STATE_DIR: state } })).out).runs,
    get: (path = '/') => httpGet(host.host, domain, path),
  };
}

export function httpGet(address: string, hostHeader: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: address, port: 80, path, headers: { Host: hostHeader }, agent: false, timeout: 10_000 },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Takes a stack made by makeStack off its host: its containers, volumes, releases, lock and nginx site. */
export function removeStack(s: Stack, stack: string): void {
  onHost(
    s.host,
    `cd /srv/ferry/${stack}/current 2>/dev/null && ${composeOn(s.host)} -p ${stack} down -v --remove-orphans >/dev/null 2>&1; ` +
      `rm -rf /srv/ferry/${stack} /var/lib/ferry/locks/${stack}.lock /etc/nginx/sites-enabled/ferry-${stack}.conf /etc/nginx/ferry/${stack}.upstreams.conf; systemctl reload nginx; true`,
  );
}

/** A bounded load: `total` requests, `concurrency` at a time, until done; counts answers that are not 200. */
export async function load(
  address: string,
  hostHeader: string,
  total: number,
  concurrency: number,
  during: Promise<unknown>,
): Promise<{ ok: number; failed: number; codes: Record<string, number> }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const codes: Record<string, number> = {};
  let done = false;
  void during.finally(() => (done = true));
  const worker = async () => {
    // Requests continue until `total` are sent and the change under test has ended.
    while (next < total || !done) {
      next += 1;
      const r = await httpGet(address, hostHeader, '/');
      codes[r.status] = (codes[r.status] ?? 0) + 1;
      if (r.status === 200) ok += 1;
      else failed += 1;
      if (next > total * 20) break;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, failed, codes };
}
