/**
 * Pebble (Let's Encrypt's test ACME server) on this machine for end-to-end tests, with
 * `pebble-challtestsrv` as its DNS. Pebble listens on this machine's address on the test
 * bed's network (the hosts' gateway), with its own server certificate made here by
 * openssl; it validates HTTP-01 on port 80 of the real host the test names resolve to.
 * Never with PEBBLE_VA_ALWAYS_VALID: the challenge path is what the tests prove.
 * Also what the proxy and TLS tests share about host3: one test at a time, and removing
 * what a test added under the directories it writes to.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export const PEBBLE_PORT = 14000;
export const PEBBLE_MANAGEMENT_PORT = 15000;

export interface Pebble {
  /** ACME directory URL, reachable from the test bed hosts. */
  directory: string;
  /** The CA that signed pebble's own server certificate (what certbot must trust), a file here. */
  caBundle: string;
  /** Pebble's current root CA (regenerated at each start), which issued certificates chain to. */
  root(): Promise<string>;
  /** Makes challtestsrv answer A queries for `name` with `address`. */
  addA(name: string, address: string): Promise<void>;
  /** The last lines of both logs, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** The address of this machine on a Docker network: its gateway, as the containers see it. */
export function gatewayOf(network: string): string {
  return execFileSync(
    'docker',
    ['network', 'inspect', network, '--format', '{{range .IPAM.Config}}{{.Gateway}}{{end}}'],
    { encoding: 'utf8' },
  ).trim();
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

interface Answer {
  status: number;
  body: string;
}

function fetchText(url: string, opts: { ca?: string; method?: string; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(
      url,
      { method: opts.method ?? 'GET', timeout: 5000, ...(opts.ca ? { ca: opts.ca } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Calls `fn` until it returns without throwing, or throws its last error after `ms`. */
export async function until<T>(what: string, ms: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${ms} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA and a server certificate for `address`, signed by it. */
function makeCertificates(dir: string, address: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(
    dir,
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=Ferry test pebble CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl(dir, 'req', ...ec, '-keyout', 'key.pem', '-out', 'server.csr', '-subj', '/CN=pebble');
  writeFileSync(
    join(dir, 'ext.cnf'),
    `subjectAltName=IP:${address},DNS:localhost\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  );
}

function start(dir: string, name: string, command: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(command, args, { cwd: dir, env, stdio: ['ignore', log, log] });
  child.on('error', () => undefined);
  return child;
}

function stopped(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Starts challtestsrv (DNS on loopback) and pebble on `address`; both are stopped by `stop()`. */
export async function startPebble(address: string): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pebble-'));
  const children: ChildProcess[] = [];
  const logs = () => ['challtestsrv', 'pebble'].map((n) => `${n}: ${tail(join(dir, `${n}.log`))}`).join('\n');
  const stop = async () => {
    await Promise.all(children.map((c) => stopped(c, 5000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    makeCertificates(dir, address);
    const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const [dns, management] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' };
    delete env.PEBBLE_VA_ALWAYS_VALID;
    children.push(
      start(
        dir,
        'challtestsrv',
        'pebble-challtestsrv',
        [
          '-dns01',
          `127.0.0.1:${dns}`,
          '-http01',
          '',
          '-https01',
          '',
          '-tlsalpn01',
          '',
          '-management',
          `127.0.0.1:${management}`,
          '-defaultIPv4',
          '',
          '-defaultIPv6',
          '',
        ],
        env,
      ),
    );
    const config = {
      pebble: {
        listenAddress: `${address}:${PEBBLE_PORT}`,
        managementListenAddress: `${address}:${PEBBLE_MANAGEMENT_PORT}`,
        certificate: join(dir, 'cert.pem'),
        privateKey: join(dir, 'key.pem'),
        httpPort: 80,
        tlsPort: 443,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    };
    writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config, null, 2));
    children.push(
      start(dir, 'pebble', 'pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dns}`], env),
    );
    const directory = `https://${address}:${PEBBLE_PORT}/dir`;
    const addA = async (name: string, ip: string) => {
      const r = await fetchText(`http://127.0.0.1:${management}/add-a`, {
        method: 'POST',
        body: JSON.stringify({ host: name, addresses: [ip] }),
      });
      if (r.status !== 200) throw new Error(`challtestsrv add-a ${name}: HTTP ${r.status} ${r.body}`);
    };
    // Any HTTP answer (a 404 for /) means the management interface is up.
    await until('pebble-challtestsrv', 20_000, () => fetchText(`http://127.0.0.1:${management}/`));
    await until('pebble directory', 20_000, async () => {
      const r = await fetchText(directory, { ca });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    });
    const root = async () => {
      const r = await fetchText(`https://${address}:${PEBBLE_MANAGEMENT_PORT}/roots/0`, { ca });
      if (r.status !== 200) throw new Error(`pebble /roots/0: HTTP ${r.status}`);
      return r.body;
    };
    return { directory, caBundle: join(dir, 'ca.pem'), root, addA, logs, stop };
  } catch (e) {
    const text = `${(e as Error).message}\n${logs()}`;
    await stop();
    throw new Error(text);
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Runs `fn` while no other test process runs one under the same `name` on this machine
 * (the test runner may run files at once; the proxy and TLS tests both change host3's
 * nginx). A lock file holds the owner's pid; a dead owner's lock is taken over.
 */
export async function oneAtATime<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const path = join(tmpdir(), `ferry-e2e-${name}.lock`);
  await until(`the ${name} lock (${path})`, 15 * 60_000, async () => {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (!pid || !alive(pid)) rmSync(path, { force: true });
      throw new Error(`held by pid ${pid}`);
    }
  });
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every path under `roots` on a host (the roots too, when they exist): what a test may add to. */
export function pathsUnder(run: (line: string) => string, roots: string[]): Set<string> {
  return new Set(
    run(`find ${roots.join(' ')} 2>/dev/null; true`)
      .split('\n')
      .filter((p) => p !== ''),
  );
}

/** nginx's directories that every stack on the host writes to, side by side. */
const SHARED_DIRS = ['/etc/nginx/ferry/', '/etc/nginx/sites-enabled/'];

/**
 * Removes what appeared under `roots` since `before` (the topmost new paths, with what is
 * below them). In nginx's shared directories only the files named after one of `stacks`: other
 * stacks' tests, running at the same time, write theirs there too.
 */
export function removeAdded(
  run: (line: string) => string,
  roots: string[],
  before: Set<string>,
  stacks: string[],
): string[] {
  const mine = (p: string) => !SHARED_DIRS.some((d) => p.startsWith(d)) || stacks.some((s) => basename(p).includes(s));
  const added = [...pathsUnder(run, roots)].filter((p) => !before.has(p) && mine(p));
  const top = added.filter((p) => !added.some((q) => q !== p && p.startsWith(`${q}/`)));
  if (top.length > 0) run(`rm -rf ${top.map((p) => `'${p}'`).join(' ')}`);
  return top;
}
