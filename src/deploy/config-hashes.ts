/**
 * What Compose's `com.docker.compose.config-hash` label should read on each service's
 * containers for a release to be up: `compose config --hash`, except where Compose itself
 * disagrees with it. Compose v2 since 2.22 hashes a service with `env_file:` differently in
 * `config --hash` (its environment not read) and when it creates the container (read), so
 * the two never match although `up` finds nothing to change (docker/compose#14001). After
 * each `up`, Ferry records both per service in the release's directory; when `config
 * --hash` still says what it said then, the label written then is the one expected.
 */
import type { StepContext } from '../engine/step.js';
import type { Container } from './containers.js';
import { releaseDir } from './layout.js';

export const HASH_RECORD = '.ferry-config-hashes.json';

/** `service -> { config, label }`: what `config --hash` printed, and the label `up` wrote then. */
export type HashRecord = Record<string, { config: string; label: string }>;

export const hashRecordPath = (stack: string, release: string): string =>
  `${releaseDir(stack, release)}/${HASH_RECORD}`;

/** `config --hash` per service, with the label recorded after the last `up` where `config --hash` is unchanged. */
export function expectedHashes(fromConfig: Map<string, string>, record: HashRecord): Map<string, string> {
  const out = new Map(fromConfig);
  for (const [service, hash] of fromConfig) {
    const r = record[service];
    if (r && r.config === hash) out.set(service, r.label);
  }
  return out;
}

/** The record after an `up`: per service whose containers all carry one label. */
export function recordOf(fromConfig: Map<string, string>, containers: Container[]): HashRecord {
  const out: HashRecord = {};
  for (const [service, config] of fromConfig) {
    const labels = new Set(containers.filter((c) => c.service === service).map((c) => c.configHash));
    const [label] = [...labels];
    if (labels.size === 1 && label) out[service] = { config, label };
  }
  return out;
}

export async function readHashRecord(
  ctx: StepContext,
  stack: string,
  release: string,
  sudo: boolean,
): Promise<HashRecord> {
  try {
    const parsed: unknown = JSON.parse(
      (await ctx.transport.download(hashRecordPath(stack, release), { sudo })).toString('utf8'),
    );
    return parsed !== null && typeof parsed === 'object' ? (parsed as HashRecord) : {};
  } catch {
    return {}; // none yet (or unreadable): `config --hash` alone
  }
}

export async function writeHashRecord(
  ctx: StepContext,
  stack: string,
  release: string,
  record: HashRecord,
  sudo: boolean,
): Promise<void> {
  await ctx.transport.upload(hashRecordPath(stack, release), `${JSON.stringify(record)}\n`, { mode: 0o600, sudo });
}
