/**
 * The offline inventory: for each server, the stacks placed on it and, per service,
 * what a runbook table holds (container, image, ports, memory, CPUs, replicas, volumes,
 * healthcheck, restart), with totals of limits times replicas. Pure data; rendered as a
 * table or JSON by `render/inventory.ts`.
 */
import { isAbsolute, relative } from 'node:path';
import type { PortMapping, Service, VolumeMount } from '../model/compose.js';
import { addressPort } from '../render/address.js';
import type { LoadedFleet } from '../model/loaded.js';

export interface ServiceRow {
  service: string;
  containers: string[];
  image: string;
  ports: string[];
  memoryLimit?: number;
  memoryReservation?: number;
  cpuLimit?: number;
  replicas: number;
  volumes: string[];
  healthcheck: boolean;
  restart?: string;
}

export interface StackInventory {
  stack: string;
  project: string;
  files: string[];
  services: ServiceRow[];
  disabledServices: string[];
  /** Set when the stack could not be loaded (see `ferry check`). */
  error?: string;
}

export interface Totals {
  /** Sum of memory limits times replicas, over services that have one. */
  memoryLimit: number;
  memoryReservation: number;
  cpuLimit: number;
  containers: number;
  /** `stack/service` of services without a memory limit (not in the totals). */
  noMemoryLimit: string[];
  noCpuLimit: string[];
}

export interface ServerInventory {
  /** null for stacks given with `--compose` and placed on no server. */
  server: string | null;
  host?: string;
  memory?: number;
  cpus?: number;
  disk?: number;
  stacks: StackInventory[];
  totals: Totals;
}

export interface Inventory {
  servers: ServerInventory[];
}

export function offlineInventory(loaded: LoadedFleet): Inventory {
  const groups = new Map<string | null, StackInventory[]>();
  for (const name of Object.keys(loaded.fleet.servers)) groups.set(name, []);
  for (const s of loaded.stacks) {
    const key = s.def.server ?? null;
    const inv: StackInventory = s.project
      ? {
          stack: s.def.name,
          project: s.project.name,
          files: s.project.files,
          services: s.project.services.map((svc) => serviceRow(s.project!.name, s.project!.workingDir, svc)),
          disabledServices: s.project.disabledServices,
        }
      : {
          stack: s.def.name,
          project: s.def.project ?? s.def.name,
          files: [],
          services: [],
          disabledServices: [],
          error: 'could not be loaded; run `ferry check` for details',
        };
    const group = groups.get(key);
    if (group) group.push(inv);
    else groups.set(key, [inv]);
  }
  const servers: ServerInventory[] = [];
  for (const [name, stacks] of groups) {
    const def = name === null ? undefined : loaded.fleet.servers[name];
    servers.push({
      server: name,
      ...(def ? { host: def.host } : {}),
      ...(def?.memory !== undefined ? { memory: def.memory } : {}),
      ...(def?.cpus !== undefined ? { cpus: def.cpus } : {}),
      ...(def?.disk !== undefined ? { disk: def.disk } : {}),
      stacks,
      totals: totals(stacks),
    });
  }
  return { servers };
}

function serviceRow(project: string, workingDir: string, svc: Service): ServiceRow {
  return {
    service: svc.name,
    containers: containerNames(project, svc),
    image: svc.image ?? (svc.build ? `(build ${svc.build.context})` : '(none)'),
    ports: svc.ports.map(formatPort),
    ...(svc.resources.memoryLimit !== undefined ? { memoryLimit: svc.resources.memoryLimit } : {}),
    ...(svc.resources.memoryReservation !== undefined ? { memoryReservation: svc.resources.memoryReservation } : {}),
    ...(svc.resources.cpuLimit !== undefined ? { cpuLimit: svc.resources.cpuLimit } : {}),
    replicas: svc.replicas,
    volumes: svc.volumes.map((v) => formatVolume(v, workingDir)),
    healthcheck: svc.healthcheck !== undefined && !svc.healthcheck.disabled,
    ...(svc.restart !== undefined
      ? { restart: svc.restart }
      : svc.deployRestartCondition !== undefined
        ? { restart: `deploy:${svc.deployRestartCondition}` }
        : {}),
  };
}

/** Compose v2 names containers `PROJECT-SERVICE-N` unless `container_name` is set. */
export function containerNames(project: string, svc: Service): string[] {
  if (svc.containerName) return [svc.containerName];
  return Array.from({ length: svc.replicas }, (_, i) => `${project}-${svc.name}-${i + 1}`);
}

function range(a: number | undefined, b: number | undefined): string {
  if (a === undefined) return '';
  return b !== undefined && b !== a ? `${a}-${b}` : String(a);
}

/** `bind:host port -> container port/proto`, e.g. `127.0.0.1:5432 -> 5432/tcp`, `*:80 -> 8080/tcp`. */
export function formatPort(p: PortMapping): string {
  const target = `${range(p.target, p.targetEnd)}/${p.protocol}`;
  if (p.published === undefined)
    return p.hostIp ? `${addressPort(p.hostIp, '(random)')} -> ${target}` : `(random) -> ${target}`;
  return `${addressPort(p.hostIp, range(p.published, p.publishedEnd))} -> ${target}`;
}

/** `source:target[:ro]`; bind sources inside the project directory are shown as `./path`, as written. */
export function formatVolume(v: VolumeMount, workingDir: string): string {
  const ro = v.readOnly ? ':ro' : '';
  if (v.type === 'tmpfs') return `tmpfs:${v.target}`;
  if (!v.source) return `(anonymous):${v.target}${ro}`;
  let source = v.source;
  if (v.type === 'bind' && isAbsolute(source)) {
    const rel = relative(workingDir, source);
    if (rel === '') source = '.';
    else if (!rel.startsWith('..') && !isAbsolute(rel)) source = `./${rel}`;
  }
  return `${source}:${v.target}${ro}`;
}

function totals(stacks: StackInventory[]): Totals {
  const t: Totals = {
    memoryLimit: 0,
    memoryReservation: 0,
    cpuLimit: 0,
    containers: 0,
    noMemoryLimit: [],
    noCpuLimit: [],
  };
  for (const st of stacks) {
    for (const r of st.services) {
      t.containers += r.replicas;
      if (r.memoryLimit !== undefined) t.memoryLimit += r.memoryLimit * r.replicas;
      else if (r.replicas > 0) t.noMemoryLimit.push(`${st.stack}/${r.service}`);
      if (r.memoryReservation !== undefined) t.memoryReservation += r.memoryReservation * r.replicas;
      if (r.cpuLimit !== undefined) t.cpuLimit += r.cpuLimit * r.replicas;
      else if (r.replicas > 0) t.noCpuLimit.push(`${st.stack}/${r.service}`);
    }
  }
  t.cpuLimit = Math.round(t.cpuLimit * 1000) / 1000;
  return t;
}
