/** Builders of small models for rule tests: defaults everywhere, override what a test is about. */
import type { Finding } from '../../core/finding.js';
import type { ComposeProject, PortMapping, Service, VolumeMount } from '../../model/compose.js';
import { DEFAULT_DEPLOY, type ConnectionPool, type ServerDef, type StackDef } from '../../model/fleet.js';
import type { LoadedFleet, LoadedStack } from '../../model/loaded.js';
import type { CheckContext } from '../context.js';

export function service(name: string, over: Partial<Service> = {}): Service {
  return {
    name,
    image: 'example/app:1.0',
    ports: [],
    expose: [],
    volumes: [],
    environment: {},
    inlineEnvironment: {},
    envFiles: [],
    dependsOn: {},
    resources: {},
    replicas: 1,
    networks: {},
    secrets: [],
    configs: [],
    profiles: [],
    labels: {},
    raw: {},
    ...over,
  };
}

/** `"8080:80"`-like short port: [hostIp, published, target] with tcp, index given. */
export function port(
  index: number,
  published: number | undefined,
  target: number,
  over: Partial<PortMapping> = {},
): PortMapping {
  const p: PortMapping = { target, targetEnd: target, protocol: 'tcp', index, ...over };
  if (published !== undefined) {
    p.published = published;
    p.publishedEnd = over.publishedEnd ?? published;
  }
  return p;
}

export function mount(
  index: number,
  type: VolumeMount['type'],
  source: string | undefined,
  target: string,
): VolumeMount {
  const m: VolumeMount = { type, target, readOnly: false, index };
  if (source !== undefined) m.source = source;
  return m;
}

/** A project whose locator answers `{ file: 'compose.yml', path }` (no line numbers). */
export function project(services: Service[], over: Partial<ComposeProject> = {}): ComposeProject {
  return {
    name: 'app',
    workingDir: '/srv/app',
    files: ['compose.yml'],
    services,
    disabledServices: [],
    activeProfiles: [],
    volumes: {},
    networks: {},
    secrets: {},
    configs: {},
    locate: (path) => ({ file: 'compose.yml', path: path.join('/') }),
    ...over,
  };
}

export function stack(
  name: string,
  proj: ComposeProject | undefined,
  def: Partial<StackDef> = {},
  findings: Finding[] = [],
): LoadedStack {
  const s: LoadedStack = {
    def: { name, compose: [`/srv/${name}/compose.yml`], connections: [], deploy: DEFAULT_DEPLOY, ...def },
    findings,
  };
  if (proj) s.project = proj;
  return s;
}

export function server(name: string, over: Partial<ServerDef> = {}): ServerDef {
  return { name, host: `${name}.example.net`, user: 'deploy', port: 22, ...over };
}

/** A fleet whose locator answers `{ file: 'ferry.yml', path }`. */
export function fleet(stacks: LoadedStack[], servers: ServerDef[] = [], findings: Finding[] = []): LoadedFleet {
  return {
    fleet: {
      file: '/srv/ferry.yml',
      display: 'ferry.yml',
      servers: Object.fromEntries(servers.map((s) => [s.name, s])),
      stacks: Object.fromEntries(stacks.map((s) => [s.def.name, s.def])),
      locate: (path) => ({ file: 'ferry.yml', path: path.join('/') }),
    },
    stacks,
    findings,
  };
}

/** A one-stack fleet with no server. */
export function single(services: Service[], over: Partial<ComposeProject> = {}): LoadedFleet {
  return fleet([stack('app', project(services, over))]);
}

export function pool(
  index: number,
  service: string,
  pool: number,
  to: string,
  over: Partial<ConnectionPool> = {},
): ConnectionPool {
  return { service, pool, to, index, ...over };
}

/** A context that reads from an in-memory map of files. */
export function files(map: Record<string, string> = {}): CheckContext {
  return { readText: (p) => map[p] };
}

/** What rule tests compare: the stable parts of a finding. */
export function brief(fs: Finding[]): { code: string; severity: string; message: string; path: string | undefined }[] {
  return fs.map((f) => ({ code: f.code, severity: f.severity, message: f.message, path: f.where.path }));
}
