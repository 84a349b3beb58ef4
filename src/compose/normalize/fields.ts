/**
 * The smaller service keys: build, command/entrypoint, env_file, healthcheck, networks,
 * secrets/configs, labels, plain string lists. Defaults are compose-go's:
 * `transform/build.go` (context "."), `transform/envfile.go` (required true),
 * `types/healthcheck.go` (a string test is `["CMD-SHELL", test]`), `transform/secrets.go`
 * and docker compose's `buildContainerSecretMounts`/`buildContainerConfigMounts`
 * (secret targets default to, and relative ones live under, `/run/secrets/`; configs `/`).
 */
import { parseDuration } from './duration.js';
import type { Build, Healthcheck, Service } from '../../model/compose.js';
import {
  asBool,
  asInt,
  describe,
  isMap,
  put,
  resolveHostPath,
  scalarString,
  schemaError,
  shape,
  type Ctx,
} from './common.js';

/** A string (or a number or boolean written where Compose wants a string); undefined if absent. */
export function optString(ctx: Ctx, raw: Record<string, unknown>, key: string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  const s = scalarString(v);
  if (s === undefined)
    schemaError(ctx, [key], `${key} is ${shape(v)}, not a string`, `Write ${key} as a single string.`);
  return s;
}

/** A list of strings (numbers allowed, as for `expose`). */
export function stringList(ctx: Ctx, raw: unknown, key: string): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    schemaError(ctx, [key], `${key} is ${shape(raw)}, not a list`, `Write ${key} as a list of strings.`);
    return [];
  }
  return raw.flatMap((v, i) => {
    const s = typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
    if (s === undefined)
      schemaError(ctx, [key, i], `${key} entry is ${shape(v)}, not a string`, `Write each ${key} entry as a string.`);
    return s ?? [];
  });
}

export function normalizeBuild(ctx: Ctx, raw: unknown): Build | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return { context: raw };
  if (!isMap(raw)) {
    schemaError(
      ctx,
      ['build'],
      `build is ${shape(raw)}, not a path or a mapping`,
      'Write build as a context path, or as {context, dockerfile, target}.',
    );
    return undefined;
  }
  const build: Build = { context: typeof raw.context === 'string' ? raw.context : '.' };
  if (typeof raw.dockerfile === 'string') build.dockerfile = raw.dockerfile;
  if (typeof raw.target === 'string') build.target = raw.target;
  const args = buildArgs(raw.args);
  if (Object.keys(args).length > 0) build.args = args;
  const unsupported = UNSUPPORTED_BUILD_KEYS.filter((k) => raw[k] !== undefined && raw[k] !== null);
  if (unsupported.length > 0) build.unsupported = unsupported;
  return build;
}

/**
 * Keys of `build` that change what is built or whether it builds, which Ferry's build on
 * the server (`docker build`, the classic builder: Debian's docker.io has no buildx) does not
 * pass on: BuildKit's secrets and SSH forwarding, an inline Dockerfile, more contexts, the
 * build's network, hosts and platforms.
 */
const UNSUPPORTED_BUILD_KEYS = [
  'secrets',
  'ssh',
  'dockerfile_inline',
  'additional_contexts',
  'network',
  'extra_hosts',
  'platforms',
] as const;

/**
 * `build.args` as a mapping or a list of `KEY=VALUE`: the arguments with a value (one
 * written `KEY` alone takes the Dockerfile's default here, as Compose without it in its
 * environment does).
 */
function buildArgs(raw: unknown): Record<string, string> {
  const scalar = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  if (Array.isArray(raw))
    return Object.fromEntries(
      raw.flatMap((e) => {
        const s = scalar(e);
        const at = s?.indexOf('=') ?? -1;
        return s !== undefined && at > 0 ? [[s.slice(0, at), s.slice(at + 1)]] : [];
      }),
    );
  if (!isMap(raw)) return {};
  return Object.fromEntries(
    Object.entries(raw).flatMap(([k, v]) => {
      const s = scalar(v);
      return s === undefined ? [] : [[k, s]];
    }),
  );
}

/** `command`/`entrypoint`: a string (shell form) or a list of strings (exec form), kept as written. */
export function normalizeCommand(ctx: Ctx, raw: unknown, key: 'command' | 'entrypoint'): string | string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw) && raw.every((x) => typeof x === 'string')) return raw as string[];
  schemaError(
    ctx,
    [key],
    `${key} is ${shape(raw)}, not a string or a list of strings`,
    `Write ${key} as a string, or a list of strings for the exec form.`,
  );
  return undefined;
}

const ENV_FILE_HINT = 'Write env_file as a path, a list of paths, or a list of {path, required}.';

export function normalizeEnvFiles(ctx: Ctx, raw: unknown, workingDir: string): Service['envFiles'] {
  if (raw === undefined || raw === null) return [];
  const listed = Array.isArray(raw);
  const entries: unknown[] = listed ? raw : [raw];
  return entries.flatMap((e, i) => {
    const at = listed ? ['env_file', i] : ['env_file'];
    if (typeof e === 'string') return [{ path: resolveHostPath(workingDir, e), required: true }];
    if (!isMap(e) || typeof e.path !== 'string') {
      schemaError(ctx, at, `env_file entry is ${isMap(e) ? 'a mapping without a path' : shape(e)}`, ENV_FILE_HINT);
      return [];
    }
    const required = e.required === undefined ? true : asBool(e.required);
    if (required === undefined)
      schemaError(
        ctx,
        [...at, 'required'],
        `env_file required ${describe(e.required)} is not a boolean`,
        ENV_FILE_HINT,
      );
    return [{ path: resolveHostPath(workingDir, e.path), required: required ?? true }];
  });
}

const HEALTH_HINT =
  'Write healthcheck.test as a shell command string, or a list starting with "CMD", "CMD-SHELL" or "NONE".';

function healthTest(ctx: Ctx, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const test =
    typeof v === 'string'
      ? ['CMD-SHELL', v]
      : Array.isArray(v) && v.every((x) => typeof x === 'string')
        ? (v as string[])
        : undefined;
  if (!test)
    schemaError(
      ctx,
      ['healthcheck', 'test'],
      `healthcheck test is ${shape(v)}, not a string or a list of strings`,
      HEALTH_HINT,
    );
  else if (test.length > 0 && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0]!)) {
    schemaError(
      ctx,
      ['healthcheck', 'test'],
      `healthcheck test starts with ${describe(test[0])}, not "CMD", "CMD-SHELL" or "NONE"`,
      HEALTH_HINT,
    );
  }
  return test;
}

export function normalizeHealthcheck(ctx: Ctx, raw: unknown): Healthcheck | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isMap(raw)) {
    schemaError(ctx, ['healthcheck'], `healthcheck is ${shape(raw)}, not a mapping`, HEALTH_HINT);
    return undefined;
  }
  const test = healthTest(ctx, raw.test);
  const disable = raw.disable === undefined ? false : asBool(raw.disable);
  if (disable === undefined)
    schemaError(
      ctx,
      ['healthcheck', 'disable'],
      `healthcheck disable ${describe(raw.disable)} is not a boolean`,
      'Write disable: true or false.',
    );
  const hc: Healthcheck = { disabled: disable === true || test?.[0] === 'NONE' };
  if (test) hc.test = test;
  for (const [key, field] of [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start_period', 'startPeriod'],
  ] as const) {
    if (typeof raw[key] === 'string') {
      if (parseDuration(raw[key] as string) === undefined)
        schemaError(
          ctx,
          ['healthcheck', key],
          `healthcheck ${key} ${describe(raw[key])} is not a duration`,
          'Write a duration such as 30s, 1m30s or 500ms.',
        );
      else hc[field] = raw[key] as string;
    }
  }
  if (typeof raw.start_interval === 'string' && parseDuration(raw.start_interval) === undefined) {
    schemaError(
      ctx,
      ['healthcheck', 'start_interval'],
      `healthcheck start_interval ${describe(raw.start_interval)} is not a duration`,
      'Write a duration such as 5s.',
    );
  }
  if (raw.retries !== undefined) {
    const retries = asInt(raw.retries);
    if (retries === undefined)
      schemaError(
        ctx,
        ['healthcheck', 'retries'],
        `healthcheck retries ${describe(raw.retries)} is not a whole number`,
        'Write retries as a whole number, e.g. 3.',
      );
    else hc.retries = retries;
  }
  return hc;
}

const NETWORKS_HINT =
  'Write networks as a list of network names, or a mapping of name to {aliases, ipv4_address} or nothing.';

export function normalizeNetworks(ctx: Ctx, raw: unknown): Service['networks'] {
  const out: Service['networks'] = {};
  if (raw === undefined || raw === null) return out;
  if (Array.isArray(raw)) {
    raw.forEach((n, i) =>
      typeof n === 'string'
        ? put(out, n, null)
        : schemaError(ctx, ['networks', i], `network is ${shape(n)}, not a name`, NETWORKS_HINT),
    );
    return out;
  }
  if (!isMap(raw)) {
    schemaError(ctx, ['networks'], `networks is ${shape(raw)}, not a list or a mapping`, NETWORKS_HINT);
    return out;
  }
  for (const [name, v] of Object.entries(raw)) {
    if (v === null || v === undefined) put(out, name, null);
    else if (!isMap(v))
      schemaError(ctx, ['networks', name], `network ${name} is ${shape(v)}, not a mapping`, NETWORKS_HINT);
    else {
      const cfg: { aliases?: string[]; ipv4Address?: string } = {};
      if (Array.isArray(v.aliases)) cfg.aliases = v.aliases.map(String);
      if (typeof v.ipv4_address === 'string') cfg.ipv4Address = v.ipv4_address;
      put(out, name, cfg);
    }
  }
  return out;
}

/** `secrets`/`configs`: names or {source, target}; targets made absolute as Docker mounts them. */
export function normalizeFileMounts(
  ctx: Ctx,
  raw: unknown,
  key: 'secrets' | 'configs',
): { source: string; target: string }[] {
  if (raw === undefined || raw === null) return [];
  const base = key === 'secrets' ? '/run/secrets/' : '/';
  const hint = `Write each ${key} entry as a name, or as {source, target}.`;
  if (!Array.isArray(raw)) {
    schemaError(ctx, [key], `${key} is ${shape(raw)}, not a list`, hint);
    return [];
  }
  return raw.flatMap((e, i) => {
    const source = typeof e === 'string' ? e : isMap(e) && typeof e.source === 'string' ? e.source : undefined;
    if (!source) {
      schemaError(ctx, [key, i], `${key} entry is ${isMap(e) ? 'a mapping without a source' : shape(e)}`, hint);
      return [];
    }
    const written = isMap(e) && typeof e.target === 'string' && e.target !== '' ? e.target : undefined;
    return [
      { source, target: written === undefined ? base + source : written.startsWith('/') ? written : base + written },
    ];
  });
}

/** Labels from a list (`k=v`, bare `k` = "") or a mapping (null = ""), as compose-go's `Labels`. */
export function normalizeLabels(ctx: Ctx, raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined || raw === null) return out;
  const hint = 'Write labels as a mapping (key: value) or a list of "key=value" strings.';
  if (Array.isArray(raw)) {
    raw.forEach((e, i) => {
      if (typeof e !== 'string')
        return schemaError(ctx, ['labels', i], `label is ${shape(e)}, not a "key=value" string`, hint);
      const eq = e.indexOf('=');
      put(out, eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
    });
  } else if (isMap(raw)) {
    for (const [k, v] of Object.entries(raw)) {
      const s = v === null || v === undefined ? '' : scalarString(v);
      if (s === undefined) schemaError(ctx, ['labels', k], `label ${k} is ${shape(v)}, not a string`, hint);
      else put(out, k, s);
    }
  } else schemaError(ctx, ['labels'], `labels is ${shape(raw)}, not a mapping or a list`, hint);
  return out;
}
