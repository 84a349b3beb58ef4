/**
 * One merged, interpolated service mapping -> the typed `Service`. Pure: no file access;
 * env_file contents arrive as `envFileValues`, read by the loader. Malformed values become
 * `schema` findings at `services/<name>/<key>/...` (only `where.path` set) and are left out.
 */
import type { Finding } from '../../core/finding.js';
import type { Service } from '../../model/compose.js';
import { asInt, describe, isMap, schemaError, type Ctx } from './common.js';
import { normalizeDependsOn } from './depends.js';
import { mergeEnvironment, normalizeEnvironment } from './environment.js';
import {
  normalizeBuild,
  normalizeCommand,
  normalizeEnvFiles,
  normalizeFileMounts,
  normalizeHealthcheck,
  normalizeLabels,
  normalizeNetworks,
  optString,
  stringList,
} from './fields.js';
import { normalizePorts } from './ports.js';
import { normalizeResources } from './resources.js';
import { normalizeTmpfs, normalizeVolumes } from './volumes.js';

export interface NormalizeOptions {
  /** Absolute directory relative bind sources and env_file paths are resolved from. */
  workingDir: string;
  /** Variables read from the service's env_file(s), later files already overriding earlier ones. */
  envFileValues: Record<string, string>;
}

const REPLICAS_HINT = 'Write the number of containers as a whole number, 0 or more.';

function count(ctx: Ctx, v: unknown, path: string[]): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = asInt(v);
  if (n === undefined)
    schemaError(ctx, path, `${path.join('.')} ${describe(v)} is not a whole number of containers`, REPLICAS_HINT);
  return n;
}

/**
 * `deploy.replicas`, else `scale`, else 1. compose-go's `checkConsistency` refuses a
 * service whose `scale` and `deploy.replicas` are both set and differ.
 */
function replicas(ctx: Ctx, raw: Record<string, unknown>, deploy: Record<string, unknown> | undefined): number {
  const fromDeploy = count(ctx, deploy?.replicas, ['deploy', 'replicas']);
  const fromScale = count(ctx, raw.scale, ['scale']);
  if (fromDeploy !== undefined && fromScale !== undefined && fromDeploy !== fromScale) {
    schemaError(
      ctx,
      ['scale'],
      `scale (${fromScale}) and deploy.replicas (${fromDeploy}) differ`,
      'Compose refuses a service whose scale and deploy.replicas differ; keep only one of them.',
    );
  }
  return fromDeploy ?? fromScale ?? 1;
}

function restartCondition(deploy: Record<string, unknown> | undefined): string | undefined {
  const policy = deploy?.restart_policy;
  return isMap(policy) && typeof policy.condition === 'string' ? policy.condition : undefined;
}

/** Sets the optional fields that have a value, leaving the others absent. */
function optional(service: Service, fields: Partial<Service>): void {
  for (const [k, v] of Object.entries(fields))
    if (v !== undefined) (service as unknown as Record<string, unknown>)[k] = v;
}

export function normalizeService(
  name: string,
  raw: Record<string, unknown>,
  opts: NormalizeOptions,
): { service: Service; findings: Finding[] } {
  const ctx: Ctx = { service: name, findings: [] };
  const deploy = isMap(raw.deploy) ? raw.deploy : undefined;
  const inlineEnvironment = normalizeEnvironment(raw.environment, ctx);
  const service: Service = {
    name,
    ports: normalizePorts(raw.ports, ctx),
    expose: stringList(ctx, raw.expose, 'expose'),
    volumes: [...normalizeVolumes(raw.volumes, opts.workingDir, ctx), ...normalizeTmpfs(raw.tmpfs, ctx)],
    environment: mergeEnvironment(opts.envFileValues, inlineEnvironment),
    inlineEnvironment,
    envFiles: normalizeEnvFiles(ctx, raw.env_file, opts.workingDir),
    dependsOn: normalizeDependsOn(raw.depends_on, ctx),
    resources: normalizeResources(raw, ctx),
    replicas: replicas(ctx, raw, deploy),
    networks: normalizeNetworks(ctx, raw.networks),
    secrets: normalizeFileMounts(ctx, raw.secrets, 'secrets'),
    configs: normalizeFileMounts(ctx, raw.configs, 'configs'),
    profiles: stringList(ctx, raw.profiles, 'profiles'),
    labels: normalizeLabels(ctx, raw.labels),
    raw,
  };
  optional(service, {
    image: optString(ctx, raw, 'image'),
    build: normalizeBuild(ctx, raw.build),
    containerName: optString(ctx, raw, 'container_name'),
    command: normalizeCommand(ctx, raw.command, 'command'),
    entrypoint: normalizeCommand(ctx, raw.entrypoint, 'entrypoint'),
    healthcheck: normalizeHealthcheck(ctx, raw.healthcheck),
    restart: optString(ctx, raw, 'restart'),
    deployRestartCondition: restartCondition(deploy),
    networkMode: optString(ctx, raw, 'network_mode'),
    user: optString(ctx, raw, 'user'),
  });
  return { service, findings: ctx.findings };
}
