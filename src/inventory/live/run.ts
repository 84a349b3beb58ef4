/**
 * Live inventory of a fleet: every server at once, each over its own reused connection.
 * A server that fails (unreachable, auth refused, host key changed, no sudo) is reported
 * with its error code and hint while the others complete. The snapshot is kept in the
 * state directory, with its time, for later plans.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

function describe(e: unknown): { code: string; message: string; hint: string } {
  if (e instanceof TransportError) return { code: e.code, message: e.message, hint: e.hint };
  return {
    code: 'internal',
    message: e instanceof Error ? e.message : String(e),
    hint: 'This is a bug in Ferry; please report it with the command you ran.',
  };
}

/** Writes `inventory/<server>.json` for each server read and `inventory/latest.json` for the whole run. */
export function saveSnapshot(dir: string, results: ServerResult[], at: Date): string {
  const base = join(dir, 'inventory');
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const write = (name: string, data: unknown): void => {
    const tmp = join(base, `.${name}.tmp`);
    writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n', { mode: 0o600 });
    renameSync(tmp, join(base, name));
  };
  for (const r of results) if (r.facts) write(`${r.server}.json`, r.facts);
  write('latest.json', { collectedAt: at.toISOString(), servers: results });
  return join(base, 'latest.json');
}
