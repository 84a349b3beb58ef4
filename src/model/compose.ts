/**
 * The typed model of a Compose project after loading: files merged, `extends` and
 * `include` resolved, variables interpolated, profiles applied, every service
 * normalized. Everything downstream (inventory, check, plan) reads only this.
 */
import type { Where } from '../core/finding.js';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One published or exposed port mapping, short or long syntax, ranges kept as ranges. */
export interface PortMapping {
  /** Bind address on the host (`127.0.0.1`, `::1`, `0.0.0.0`); undefined = all interfaces. */
  hostIp?: string;
  /** First published host port; undefined = Docker picks an ephemeral port (or none published). */
  published?: number;
  /** Last published host port of a range (== published for one port). */
  publishedEnd?: number;
  target: number;
  targetEnd: number;
  protocol: Protocol;
  /** `host` or `ingress` (long syntax only). */
  mode?: string;
  name?: string;
  /** Index in the service's merged `ports` list, for locating it. */
  index: number;
}

export type MountType = 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'cluster' | 'image';

export interface VolumeMount {
  type: MountType;
  /** Volume name for `volume`, host path (as written, resolved to absolute) for `bind`. */
  source?: string;
  target: string;
  readOnly: boolean;
  index: number;
}

export interface Resources {
  /** Bytes. From `deploy.resources.limits.memory`, else `mem_limit`. */
  memoryLimit?: number;
  /** Bytes. From `deploy.resources.reservations.memory`, else `mem_reservation`. */
  memoryReservation?: number;
  /** CPUs (1.5 = one and a half cores). From `deploy.resources.limits.cpus`, else `cpus`. */
  cpuLimit?: number;
  cpuReservation?: number;
}

export type DependsCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface Dependency {
  condition: DependsCondition;
  required: boolean;
  restart: boolean;
}

export interface Healthcheck {
  /** `["CMD", ...]`, `["CMD-SHELL", "..."]`, or `["NONE"]`. */
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  startPeriod?: string;
  disabled: boolean;
}

export interface Build {
  context: string;
  dockerfile?: string;
  target?: string;
  /** `build.args` with a value (interpolated: a value may be a secret). */
  args?: Record<string, string>;
  /** Keys given that a build on the server does not pass on (`secrets`, `ssh`, ...): refused there. */
  unsupported?: string[];
}

export interface Service {
  name: string;
  image?: string;
  build?: Build;
  containerName?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  ports: PortMapping[];
  expose: string[];
  volumes: VolumeMount[];
  /** Resolved environment: `environment` over `env_file` contents. null = declared without a value. */
  environment: Record<string, string | null>;
  /** Keys written literally in the compose file's `environment` (not from env_file): plaintext-secret looks at these. */
  inlineEnvironment: Record<string, string | null>;
  envFiles: { path: string; required: boolean }[];
  dependsOn: Record<string, Dependency>;
  resources: Resources;
  /** From `deploy.replicas`, else `scale`, else 1. */
  replicas: number;
  healthcheck?: Healthcheck;
  restart?: string;
  /** `deploy.restart_policy.condition` when set (Swarm) */
  deployRestartCondition?: string;
  networks: Record<string, { aliases?: string[]; ipv4Address?: string } | null>;
  networkMode?: string;
  secrets: { source: string; target: string }[];
  configs: { source: string; target: string }[];
  profiles: string[];
  labels: Record<string, string>;
  user?: string;
  /** The merged, interpolated mapping as Compose would see it (before normalization). */
  raw: Record<string, unknown>;
}

export interface NamedResource {
  name: string;
  external: boolean;
  driver?: string;
  /** For secrets/configs: `file`, `environment` or `content`. */
  file?: string;
  environment?: string;
  raw: Record<string, unknown>;
}

/**
 * Maps a key path in the merged model (e.g. `services/web/ports/0`) to where it was
 * written. Implemented by the loader; checks call it to fill `Finding.where`.
 */
export type Locator = (path: readonly (string | number)[]) => Where;

export interface ComposeProject {
  /** Compose project name (top-level `name`, else the directory name, lower-cased). */
  name: string;
  /** Directory relative paths are resolved from (the first file's directory). */
  workingDir: string;
  /** Files in load order, as displayed. */
  files: string[];
  /** Enabled services only, in declaration order. */
  services: Service[];
  /** Services left out by inactive profiles. */
  disabledServices: string[];
  activeProfiles: string[];
  volumes: Record<string, NamedResource>;
  networks: Record<string, NamedResource>;
  secrets: Record<string, NamedResource>;
  configs: Record<string, NamedResource>;
  /** The variables interpolation saw (env files, then the process environment over them). */
  interpolation?: Record<string, string>;
  locate: Locator;
}
