/** The demo stack as the migration tests deploy it, its fleet file, and a clean slate on a host. */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paths } from '../../scripts/testbed/lib.mjs';
import { onHost, type TestbedHost, serverLine } from './helpers.js';

const demo = fileURLToPath(new URL('../../examples/demo/compose.yml', import.meta.url));

/** The demo's compose file with a `files` volume on web and `extra` added before its volumes (services, then volumes). */
export function demoCompose(extra: { services?: string[]; volumes: string[] }): string {
  return readFileSync(demo, 'utf8')
    .replace(
      '    restart: unless-stopped\n    mem_limit: 256m\n',
      '    restart: unless-stopped\n    mem_limit: 256m\n    volumes:\n      - files:/srv/files\n',
    )
    .replace(
      'volumes:\n  db-data: {}\n',
      [...(extra.services ?? []), 'volumes:', '  db-data: {}', ...extra.volumes.map((v) => `  ${v}: {}`), ''].join(
        '\n',
      ),
    );
}

/** compose.yml, .env (the password) and ferry.yml with the stack on `source`, routed for `domain`. */
export function writeMigrationStack(
  dir: string,
  o: { stack: string; domain: string; password: string; compose: string; source: TestbedHost; target: TestbedHost },
): void {
  writeFileSync(join(dir, 'compose.yml'), o.compose);
  writeFileSync(join(dir, '.env'), `POSTGRES_PASSWORD=${o.password}\n`);
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
      `    proxy: { domains: [${o.domain}], tls: none, routes: [{ service: web, port: 8000 }] }`,
      '',
    ].join('\n'),
  );
}

/** Removes the stack and everything a migration of it may have left on `h`. */
export function cleanStack(h: TestbedHost, stack: string, volumes: string[]): void {
  onHost(
    h,
    `ids=$(docker ps -aq --filter label=com.docker.compose.project=${stack}); [ -z "$ids" ] || docker rm -f $ids >/dev/null; ` +
      `docker volume rm ${volumes.map((v) => `${stack}_${v}`).join(' ')} >/dev/null 2>&1; umount /srv 2>/dev/null; pkill -f '[f]erry-migrate-${stack}-replica'; ` +
      `while iptables -w -D INPUT -p tcp --dport 80 -m comment --comment ferry-hold-${stack} -j DROP 2>/dev/null; do :; done; ` +
      `rm -rf /srv/ferry/${stack} /var/lib/ferry/locks/${stack}.lock /etc/nginx/sites-enabled/ferry-${stack}.conf /etc/nginx/ferry/${stack}.upstreams.conf /root/.ssh/ferry-migrate-${stack}*; ` +
      `sed -i '/ferry-migrate-${stack}\\(-replica\\|-back\\)\\?$/d' /root/.ssh/authorized_keys; systemctl reload nginx; true`,
  );
}

const CHILD = fileURLToPath(new URL('./ferry-child.ts', import.meta.url));

/** Ferry in a child process in `dir`; `onLine` sees each line of its stderr, with a way to kill it (SIGKILL) there. */
export function ferryChild(
  o: { dir: string; state: string },
  args: string[],
  onLine: (line: string, kill: () => void) => void,
) {
  const c = spawn(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), CHILD, ...args, '-f', 'ferry.yml', '--known-hosts', paths.knownHosts],
    {
      cwd: o.dir,
      env: { ...process.env, FERRY_STATE_DIR: o.state },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  let out = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr.on('data', (d: Buffer) => {
    const before = err.length;
    err += d.toString();
    for (const line of err.slice(before).split('\n')) onLine(line, () => c.kill('SIGKILL'));
  });
  return new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) =>
    c.on('close', (code, signal) => resolve({ code, signal, out, err })),
  );
}
