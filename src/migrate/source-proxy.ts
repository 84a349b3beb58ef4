/**
 * The source's nginx, pointed at the source's own containers again when a rollback starts
 * its stopped writers: a started container may come back at another address.
 */
import type { StepContext } from '../engine/step.js';
import { refreshUpstreams } from '../deploy/proxy-link.js';
import type { Migration } from './context.js';
import type { MoveInput } from './plan.js';

export function sourceProxyRefresh(
  i: Pick<MoveInput, 'stack' | 'source' | 'sourceRelease'>,
  m: Pick<Migration, 'source'>,
): { afterStart?: (ctx: StepContext) => Promise<void> } {
  const def = i.stack.def;
  if (!def.proxy) return {};
  const where = { stack: def, project: i.sourceRelease.project, host: i.source.name, sudo: m.source.sudo };
  return { afterStart: (ctx) => refreshUpstreams(ctx, where) };
}
