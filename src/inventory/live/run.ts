/**
 * Live inventory of a fleet: every server at once, each over its own reused connection.
 * A server that fails (unreachable, auth refused, host key changed, no sudo) is reported
 * with its error code and hint while the others complete. The snapshot is kept in the
 * state directory, with its time, for later plans.
 */
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../../core/files.js';
import type { ServerDef } from '../../model/fleet.js';
import { TransportError, type Transport } from '../../transport/transport.js';
import { collectFacts } from './collect.js';
import type { ServerResult } from './render.js';

export interface LiveOptions {
  /** The server's transport, and the user it logs in as (after ~/.ssh/config). */
  connect: (server: ServerDef) => Promise<{ transport: Transport; user: string }>;
  now?: Date;
  timeoutMs?: number;
}

export async function liveInventory(servers: ServerDef[], opts: LiveOptions): Promise<ServerResult[]> {
  return Promise.all(
    servers.map(async (s): Promise<ServerResult> => {
      try {
        const { transport, user } = await opts.connect(s);
        const facts = await collectFacts(s.name, s.host, transport, {
          user,
          sudo: s.sudo === true,
          ...(opts.now ? { now: opts.now } : {}),
          ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        });
        return { server: s.name, host: s.host, facts };
      } catch (e) {
        return { server: s.name, host: s.host, error: describe(e) };
      }
    }),
  );
}

function describe(e: unknown): NonNullable<ServerResult['error']> {
  if (e instanceof TransportError) return { code: e.code, message: e.message, hint: e.hint };
  return {
    code: 'internal',
    message: e instanceof Error ? e.message : String(e),
    hint: 'This is a bug in Ferry; please report it with the command you ran.',
  };
}

/**
 * Writes `inventory/<server>.json` for each server read and `inventory/latest.json` for the
 * whole run; returns the latest's path, or why it could not be kept (the results are
 * still the caller's to show).
 */
export function saveSnapshot(dir: string, results: ServerResult[], at: Date): { path: string } | { problem: string } {
  const base = join(dir, 'inventory');
  const cannot = ensureDir(base);
  if (cannot) return { problem: cannot };
  const write = (name: string, data: unknown): string | undefined =>
    writeFileAtomic(join(base, name), JSON.stringify(data, null, 2) + '\n', 0o600);
  for (const r of results) {
    const why = r.facts ? write(`${r.server}.json`, r.facts) : undefined;
    if (why) return { problem: `${join(base, `${r.server}.json`)}: ${why}` };
  }
  const why = write('latest.json', { collectedAt: at.toISOString(), servers: results });
  return why ? { problem: `${join(base, 'latest.json')}: ${why}` } : { path: join(base, 'latest.json') };
}
