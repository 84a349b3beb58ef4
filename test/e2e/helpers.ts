/** Shell access to test bed hosts for end-to-end tests: plain OpenSSH, independent of Ferry's transport. */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { paths, sshArgs, sshTarget, testbedHosts, testbedIsUp, type TestbedHost } from '../../scripts/testbed/lib.mjs';

export { sshTarget, testbedHosts, testbedIsUp, type TestbedHost };

/** A test bed host as a server of a fleet file (one line under `servers:`), `extra` keys inside its braces. */
export const serverLine = (x: Pick<TestbedHost, 'name' | 'host' | 'user' | 'port'>, extra = ''): string =>
  `  ${x.name}: { host: ${x.host}, user: ${x.user}, port: ${x.port}, identity_file: ${paths.key}${extra} }`;

/** A stack's opening lines in ferry.yml: on `server`, compose.yml, its project named after it, the health timeout. */
export const stackLines = (stack: string, server: string, healthTimeout: string): string[] => [
  `  ${stack}:`,
  `    server: ${server}`,
  '    compose: compose.yml',
  `    project: ${stack}`,
  `    deploy: { health_timeout: ${healthTimeout} }`,
];

/**
 * The host whose nginx the proxy and TLS tests have to themselves: they assert what nginx
 * did host-wide (its reloads, its whole configuration), which suites migrating other
 * stacks through another host's nginx, side by side, must not disturb.
 */
export const NGINX_HOST = 'host5';

export function nginxHost(): TestbedHost {
  const h = testbedHosts('debian-13').find((x) => x.name === NGINX_HOST);
  if (!h)
    throw new Error(
      `the test bed has no Debian 13 ${NGINX_HOST}: run \`npm run testbed:up\` with TESTBED_HOSTS of 6 or more`,
    );
  return h;
}

/**
 * runc's answer when a `docker exec` could not start its process at all (seen on a loaded
 * machine: "read init-p: connection reset by peer"): nothing ran in the container.
 */
const EXEC_NOT_STARTED = /OCI runtime exec failed: exec failed: unable to start container process/;

/**
 * Runs a shell line on a host as root; throws with stderr on failure. A line whose
 * `docker exec` runc could not start is run again (twice at most, a second apart): the
 * exec'd process never ran, and the test lines around it are single reads or writes.
 */
export function onHost(host: TestbedHost, line: string, input?: string | Buffer): string {
  for (let attempt = 1; ; attempt++) {
    try {
      return execFileSync('ssh', [...sshArgs(host), line], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
    } catch (e) {
      const out = e instanceof Error && 'output' in e ? String((e as { output: unknown }).output) : '';
      if (attempt > 2 || !EXEC_NOT_STARTED.test(out)) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
    }
  }
}

/** Loads images from this machine's engine into a host's engine (no registry), unless it has them. */
export function loadImages(host: TestbedHost, images: string[]): void {
  const missing = images.filter(
    (img) => spawnSync('ssh', [...sshArgs(host), `docker image inspect ${img} >/dev/null 2>&1`]).status !== 0,
  );
  if (missing.length === 0) return;
  const save = spawnSync(
    'sh',
    [
      '-c',
      `docker save ${missing.join(' ')} | ssh ${sshArgs(host)
        .map((a) => `'${a}'`)
        .join(' ')} docker load`,
    ],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  if (save.status !== 0) throw new Error(`loading ${missing.join(', ')} into ${host.name} failed: ${save.stderr}`);
}

/** The Compose command of a host: the `docker compose` plugin (v2, Debian 13) or `docker-compose` (v1, Debian 12). */
export const composeOn = (host: TestbedHost): string => (host.os === 'debian-12' ? 'docker-compose' : 'docker compose');

/**
 * A shell expression for the first container of `service` in compose project `project`,
 * found by Compose's labels: v1 names it `project_service_1`, v2 `project-service-1`.
 */
export const containerOf = (project: string, service: string): string =>
  `$(docker ps -q --filter label=com.docker.compose.project=${project} --filter label=com.docker.compose.service=${service} | head -1)`;

/** A regular expression source matching a container's name under either Compose (`p_s_1`, `p-s-1`). */
export const containerName = (project: string, service: string, n = 1): string => `${project}[_-]${service}[_-]${n}`;

/** How a Ferry child process ended, and what it printed. */
export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

const FERRY_CHILD = fileURLToPath(new URL('./ferry-child.ts', import.meta.url));

/**
 * Ferry in a child process (from the sources) in `cwd`, its journal in `state`, with `env`
 * besides this process's: for tests that kill it (`FERRY_TEST_KILL_AT`) or must see its exit.
 */
export function ferryChild(
  cwd: string,
  state: string,
  args: string[],
  env: Record<string, string> = {},
  started?: (child: ChildProcess) => void,
): Promise<ChildRun> {
  const c = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), FERRY_CHILD, ...args], {
    cwd,
    env: { ...process.env, FERRY_STATE_DIR: state, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr.on('data', (d: Buffer) => (err += d.toString()));
  started?.(c);
  return new Promise((resolve) => c.on('close', (code, signal) => resolve({ code, signal, out, err })));
}

/** Every process's command line on the hosts, read over and over while something runs, until `stop`. */
export function watchProcesses(hosts: TestbedHost[]): { stop: () => Promise<string> } {
  let seen = '';
  let running = true;
  const once = (h: TestbedHost) =>
    new Promise<void>((resolve) => {
      execFile('ssh', [...sshArgs(h), 'ps -eo args'], (_e, out) => {
        seen += out;
        resolve();
      });
    });
  const loop = (async () => {
    while (running) {
      await Promise.all(hosts.map(once));
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return seen;
    },
  };
}
