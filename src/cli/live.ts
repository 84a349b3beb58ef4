/**
 * `--live`: read the servers over SSH. Builds one SSH pool for the run from the fleet
 * and the SSH flags, collects facts from every server at once, keeps the snapshot.
 */
import { UsageError, type ErrorReport } from '../core/errors.js';
import { finding, type Finding } from '../core/finding.js';
import type { Redactor } from '../core/redact.js';
import type { HostFacts } from '../inventory/live/facts.js';
import type { ServerResult } from '../inventory/live/render.js';
import { liveInventory, saveSnapshot } from '../inventory/live/run.js';
import type { ServerDef } from '../model/fleet.js';
import type { LoadedFleet } from '../model/loaded.js';
import { stateDir } from '../state/dir.js';
import { SshPool, type SshTarget } from '../transport/ssh/index.js';
import type { CliIo } from './io.js';

export interface SshFlags {
  identity?: string;
  knownHosts?: string[];
  trustNewHostKey?: boolean;
  connectTimeout?: string;
  sshConfig?: string;
}

/** Longest `--connect-timeout`, in seconds: a server that has not answered in ten minutes will not. */
const MAX_CONNECT_TIMEOUT = 600;

export function targetFor(s: ServerDef, flags: SshFlags): SshTarget {
  const identity = s.identityFile ?? flags.identity;
  const timeout = flags.connectTimeout !== undefined ? Number(flags.connectTimeout.trim() || NaN) : undefined;
  if (timeout !== undefined && !(timeout > 0 && timeout <= MAX_CONNECT_TIMEOUT))
    throw new UsageError(
      `--connect-timeout must be a number of seconds greater than 0 and at most ${MAX_CONNECT_TIMEOUT}, not "${flags.connectTimeout}"`,
      'For example: --connect-timeout 5',
      '--connect-timeout',
    );
  return {
    name: s.name,
    host: s.host,
    ...(s.port !== undefined ? { port: s.port } : {}),
    ...(s.user !== undefined ? { user: s.user } : {}),
    ...(s.sudo ? { sudo: true } : {}),
    ...(identity ? { identityFiles: [identity] } : {}),
    ...(flags.knownHosts && flags.knownHosts.length > 0 ? { knownHostsFiles: flags.knownHosts } : {}),
    ...(flags.trustNewHostKey ? { trustNewHostKey: true } : {}),
    ...(timeout !== undefined ? { connectTimeoutMs: timeout * 1000 } : {}),
    ...hardenedEndpoint(s),
  };
}

/** Where a hardened server is reached: sshd's port and the admin user of its `harden`, tried before the declared ones. */
function hardenedEndpoint(s: ServerDef): Pick<SshTarget, 'hardened'> {
  const port = s.harden?.ssh?.port;
  const user = s.harden?.admin?.user;
  if (port === undefined && user === undefined) return {};
  return { hardened: { ...(port !== undefined ? { port } : {}), ...(user !== undefined ? { user } : {}) } };
}

/** The run's SSH pool, with the flags' ssh config and the run's redactor. */
export function sshPool(flags: SshFlags, redactor: Redactor): SshPool {
  return new SshPool({ redactor, ...(flags.sshConfig ? { sshConfigPath: flags.sshConfig } : {}) });
}

export interface LiveRun {
  results: ServerResult[];
  facts: Map<string, HostFacts>;
  /** Where the snapshot was kept, or why it could not be. */
  saved: { snapshot: string; snapshotError?: undefined } | { snapshot?: undefined; snapshotError: ErrorReport };
}

/** Reads every server of the fleet; the pool is closed before returning. */
export async function readServers(loaded: LoadedFleet, flags: SshFlags, io: CliIo): Promise<LiveRun> {
  const redactor = io.redactor;
  const servers = Object.values(loaded.fleet.servers);
  if (servers.length === 0)
    throw new UsageError(
      '--live needs servers: the fleet file defines none',
      'Add servers to ferry.yml (with --compose there are no servers to read).',
      '--live',
    );
  const targets = new Map(servers.map((s) => [s.name, targetFor(s, flags)]));
  const pool = sshPool(flags, redactor);
  const now = new Date();
  try {
    const results = await liveInventory(servers, {
      connect: async (s) => {
        const transport = pool.get(targets.get(s.name)!);
        return { transport, user: (await transport.resolve()).endpoint.user };
      },
      now,
    });
    const kept = saveSnapshot(stateDir(io.env), results, now);
    const facts = new Map(results.filter((r) => r.facts).map((r) => [r.server, r.facts!]));
    return {
      results,
      facts,
      saved: 'path' in kept ? { snapshot: kept.path } : { snapshotError: snapshotError(kept.problem) },
    };
  } finally {
    await pool.close();
  }
}

function snapshotError(why: string): ErrorReport {
  return {
    code: 'state-dir-unwritable',
    message: `the live inventory was not kept: ${why}`,
    place: 'FERRY_STATE_DIR',
    hint: 'Set FERRY_STATE_DIR (or XDG_STATE_HOME) to a directory you can write; the results shown are complete.',
  };
}

/** The snapshot that could not be kept, as a warning of `check --live`. */
export function snapshotFinding(e: ErrorReport): Finding {
  return finding('state-dir-unwritable', 'warning', e.message, { path: e.place }, e.hint);
}

/** A server that could not be read, as a finding for `check --live`. */
export function serverFinding(r: ServerResult): Finding {
  const e = r.error!;
  return finding(e.code, 'error', `server ${r.server} (${r.host}): ${e.message}`, { host: r.server }, e.hint, {
    server: r.server,
  });
}
