/**
 * `ferry check`: every rule over the loaded fleet, plus the loaders' own findings, in one
 * sorted list. Rules are pure functions of the model; the only I/O is `ctx.readText`.
 * Codes and their meaning are documented in docs/checks.md.
 */
import { sortFindings, type Finding } from '../core/finding.js';
import type { LoadedFleet } from '../model/loaded.js';
import { defaultCheckContext, type CheckContext, type Rule } from './context.js';
import { capacity } from './rules/capacity.js';
import { connectionBudget } from './rules/connection-budget.js';
import { hostGateway } from './rules/host-gateway.js';
import { containerNameWithReplicas } from './rules/container-name-with-replicas.js';
import { dependencyCycle } from './rules/dependency-cycle.js';
import { exposedPort } from './rules/exposed-port.js';
import { floatingTag } from './rules/floating-tag.js';
import { invalidImage } from './rules/invalid-image.js';
import { noHealthcheck } from './rules/no-healthcheck.js';
import { noMemoryLimit } from './rules/no-memory-limit.js';
import { noRestartPolicy } from './rules/no-restart-policy.js';
import { plaintextSecret } from './rules/plaintext-secret.js';
import { portConflict } from './rules/port-conflict.js';
import { projectConflict } from './rules/project-conflict.js';
import { proxyRoute } from './rules/proxy-route.js';
import { statefulWithoutVolume } from './rules/stateful-without-volume.js';
import { unknownReference } from './rules/unknown-reference.js';

export type { CheckContext, Rule } from './context.js';
export { defaultCheckContext, readTextFile } from './context.js';

/** Every rule, by the main code it reports. */
export const RULES: Readonly<Record<string, Rule>> = {
  'port-conflict': portConflict,
  'project-conflict': projectConflict,
  capacity,
  'exposed-port': exposedPort,
  'plaintext-secret': plaintextSecret,
  'floating-tag': floatingTag,
  'invalid-image': invalidImage,
  'no-memory-limit': noMemoryLimit,
  'no-healthcheck': noHealthcheck,
  'no-restart-policy': noRestartPolicy,
  'container-name-with-replicas': containerNameWithReplicas,
  'stateful-without-volume': statefulWithoutVolume,
  'connection-budget': connectionBudget,
  'host-gateway-missing': hostGateway,
  'unknown-reference': unknownReference,
  'dependency-cycle': dependencyCycle,
  'proxy-route': proxyRoute,
};

function placeKey(f: Finding): string {
  const w = f.where;
  return [f.code, f.stack, w.file, w.line, w.column, w.path, w.host].join('\u0000');
}

/**
 * All loader findings and every rule's findings, sorted. A rule finding with the same code
 * at the same place as a loader finding is left out: both noticed one problem.
 */
export function runChecks(fleet: LoadedFleet, ctx: Partial<CheckContext> = {}): Finding[] {
  const c: CheckContext = { ...defaultCheckContext, ...ctx };
  const input: Finding[] = [...fleet.findings, ...fleet.stacks.flatMap((s) => s.findings)];
  const known = new Set(input.map(placeKey));
  const found = Object.values(RULES).flatMap((rule) => rule(fleet, c));
  return sortFindings([...input, ...found.filter((f) => !known.has(placeKey(f)))]);
}
