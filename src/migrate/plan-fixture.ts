/**
 * For the planners' graph tests: a fleet of two servers and one stack, loaded from a
 * temporary directory like `ferry migrate` loads it (the demo stack of the e2e tests: a
 * web app on Postgres, a worker, a Redis cache, volumes, routed by nginx), and the inputs
 * of the migration and rollback planners built from it in memory. Planning reads nothing
 * from the servers; their transports answer nothing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Step } from '../engine/step.js';
import type { LoadedFleet, LoadedStack } from '../model/loaded.js';
import type { ServerDef } from '../model/fleet.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { RecordingTransport } from '../transport/recording.js';
import { loadWorkspace } from '../workspace/load.js';
import type { Endpoint } from './channel.js';
import type { MoveInput } from './plan.js';

const demo = fileURLToPath(new URL('../../examples/demo/compose.yml', import.meta.url));

const CACHE = [
  '  cache:',
  '    image: ferry-tb-redis:1',
  '    volumes:',
  '      - cache-data:/data',
  '    restart: unless-stopped',
];

/** The demo's compose file, with a `files` volume on web and, unless `dbOnly`, a Redis cache with its volume. */
export function demoCompose(o: { cache: boolean; files: boolean }): string {
  let text = readFileSync(demo, 'utf8');
  if (o.files)
    text = text.replace(
      '    restart: unless-stopped\n    mem_limit: 256m\n',
      '    restart: unless-stopped\n    mem_limit: 256m\n    volumes:\n      - files:/srv/files\n',
    );
  const volumes = [...(o.cache ? ['cache-data'] : []), ...(o.files ? ['files'] : [])];
  return text.replace(
    'volumes:\n  db-data: {}\n',
    [...(o.cache ? CACHE : []), 'volumes:', '  db-data: {}', ...volumes.map((v) => `  ${v}: {}`), ''].join('\n'),
  );
}

export interface Fixture {
  loaded: LoadedFleet;
  stack: LoadedStack;
  source: ServerDef;
  target: ServerDef;
  /** What `ferry migrate` reads and builds before it plans. */
  move: MoveInput;
}

/** The release the source runs: the stack as Ferry deployed it there. */
export function sourceReleaseOf(stack: LoadedStack): ReleaseMeta {
  return {
    id: '20260101-000000-aaaaaaaa',
    project: stack.project!.name,
    composeFiles: ['compose.yml'],
    services: stack.project!.services.map((s) => ({ name: s.name, replicas: s.replicas, swap: false })),
  };
}

/** The fleet loaded from a new directory: stack `shop` on host1 (203.0.113.10), host2 (203.0.113.11) beside it. */
/** `servers`, `connections`: lines added under `servers:` and as the stack's `connections`. */
/** `host1`, `host2`: keys added inside their braces; `stack`: lines added under the stack. */
export function fixture(o: {
  compose: string;
  proxy: boolean;
  servers?: string[];
  connections?: string;
  host1?: string;
  host2?: string;
  stack?: string[];
}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-plan-'));
  writeFileSync(join(dir, 'compose.yml'), o.compose);
  writeFileSync(join(dir, '.env'), 'POSTGRES_PASSWORD=pw-canary\n');
  const fleet = [
    'servers:',
    `  host1: { host: 203.0.113.10, user: root${o.host1 ?? ''} }`,
    `  host2: { host: 203.0.113.11, user: root${o.host2 ?? ''} }`,
    ...(o.servers ?? []),
    'stacks:',
    '  shop:',
    '    server: host1',
    '    compose: compose.yml',
    '    project: shop',
    '    deploy: { images: pull, health_timeout: 60s, http_checks: [{ service: web, port: 8000, path: /health }] }',
    ...(o.proxy ? ['    proxy: { domains: [shop.test], tls: none, routes: [{ service: web, port: 8000 }] }'] : []),
    ...(o.connections ? [`    connections: ${o.connections}`] : []),
    ...(o.stack ?? []).map((l) => `    ${l}`),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'ferry.yml'), fleet);
  const ws = loadWorkspace({ cwd: dir, env: {} });
  const loaded = ws.loaded;
  if (!loaded) throw new Error(`fixture fleet unreadable: ${JSON.stringify(ws.findings)}`);
  const stack = loaded.stacks.find((s) => s.def.name === 'shop')!;
  if (!stack.project) throw new Error(`fixture stack unreadable: ${JSON.stringify(stack.findings)}`);
  const [source, target] = [loaded.fleet.servers.host1!, loaded.fleet.servers.host2!];
  const transports = new Map([source, target].map((s) => [s.name, new RecordingTransport(s.name)]));
  const endpointOf = (s: ServerDef): Endpoint => ({
    name: s.name,
    address: s.host,
    port: 22,
    user: 'root',
    sudo: false,
  });
  return {
    loaded,
    stack,
    source,
    target,
    move: {
      stack,
      source,
      target,
      sourceEndpoint: endpointOf(source),
      targetEndpoint: endpointOf(target),
      sourceRelease: sourceReleaseOf(stack),
      transports: (server) => transports.get(server)!,
      local: new RecordingTransport('local'),
    },
  };
}

/** A plan's graph: per step in order, its id, host, phase and dependencies. */
export type Graph = [id: string, host: string, phase: string, dependsOn: string[]][];

export const graphOf = (steps: Step[]): Graph => steps.map((s) => [s.id, s.host, s.phase, [...s.dependsOn]]);
