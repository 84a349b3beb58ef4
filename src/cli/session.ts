/**
 * What `plan`, `apply` and `rollback` share: the fleet loaded and checked (errors stop
 * before any server is touched), the invocation's redactor taught every secret, one SSH
 * pool, and a transport per server.
 */
import { hostname, userInfo } from 'node:os';
import { InputError } from '../core/errors.js';
import type { Redactor } from '../core/redact.js';
import { runChecks } from '../check/index.js';
import type { LoadedFleet } from '../model/loaded.js';
import { LocalTransport } from '../transport/local.js';
import type { SshPool } from '../transport/ssh/index.js';
import type { Transport } from '../transport/transport.js';
import { loadWorkspace } from '../workspace/load.js';
import type { CliIo } from './io.js';
import { sshPool, targetFor, type SshFlags } from './live.js';

export interface SessionFlags extends SshFlags {
  file?: string;
}

export interface Session {
  loaded: LoadedFleet;
  fleetFile: string;
  redactor: Redactor;
  io: CliIo;
  pool: SshPool;
  transports: (server: string) => Transport;
  local: Transport;
  close: () => Promise<void>;
}

/** A session; throws an InputError (exit 2) when the input cannot be read or has errors. */
export function openSession(flags: SessionFlags, io: CliIo): Session {
  const ws = loadWorkspace({ cwd: io.cwd, env: io.env, ...(flags.file ? { fleetFile: flags.file } : {}) });
  io.redactor.addAll(ws.secrets);
  if (!ws.loaded || ws.unreadable) throw new InputError([...ws.findings, ...(ws.loaded ? blocking(ws.loaded) : [])]);
  const errors = runChecks(ws.loaded).filter((f) => f.severity === 'error');
  if (errors.length > 0)
    throw new InputError(errors, {
      code: 'check-failed',
      message: 'the fleet has errors; nothing was changed',
      place: ws.loaded.fleet.display ?? 'the fleet file',
      hint: 'fix them (`ferry check` lists every finding), then run this again',
    });
  const loaded = ws.loaded;
  const pool = sshPool(flags, io.redactor);
  const cache = new Map<string, Transport>();
  const transports = (server: string): Transport => {
    let t = cache.get(server);
    if (!t) {
      const def = loaded.fleet.servers[server];
      if (!def) throw new Error(`no server ${server}`);
      t = pool.get(targetFor(def, flags));
      cache.set(server, t);
    }
    return t;
  };
  return {
    loaded,
    fleetFile: loaded.fleet.file ?? '',
    redactor: io.redactor,
    io,
    pool,
    transports,
    local: new LocalTransport({ redactor: io.redactor }),
    close: () => pool.close(),
  };
}

function blocking(loaded: LoadedFleet) {
  return [...loaded.findings, ...loaded.stacks.flatMap((s) => (s.project ? [] : s.findings))];
}

/** `user@machine`, as locks record the operator. */
export function operator(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    /* no passwd entry */
  }
  return `${user}@${hostname()}`;
}
