/**
 * What `plan`, `apply` and `rollback` share: the fleet loaded and checked (errors stop
 * before any server is touched), a redactor that knows every secret, one SSH pool, and
 * a transport per server.
 */
import { hostname, userInfo } from 'node:os';
import { hasErrors, type Finding } from '../core/finding.js';
import { Redactor } from '../core/redact.js';
import { runChecks } from '../check/index.js';
import type { LoadedFleet } from '../model/loaded.js';
import { renderFindings } from '../render/findings.js';
import { LocalTransport } from '../transport/local.js';
import type { SshPool } from '../transport/ssh/index.js';
import type { Transport } from '../transport/transport.js';
import { loadWorkspace } from '../workspace/load.js';
import { redacting, type Io } from './io.js';
import { sshPool, targetFor, type SshFlags } from './live.js';

export interface SessionFlags extends SshFlags {
  file?: string;
}

export interface Session {
  loaded: LoadedFleet;
  fleetFile: string;
  redactor: Redactor;
  io: Io;
  pool: SshPool;
  transports: (server: string) => Transport;
  local: Transport;
  close: () => Promise<void>;
}

/** A session, or the exit code after printing why there is none (2: input unreadable or with errors). */
export function openSession(flags: SessionFlags, rawIo: Io): Session | number {
  const redactor = new Redactor();
  const io = redacting(rawIo, redactor);
  const ws = loadWorkspace({ cwd: rawIo.cwd, env: rawIo.env, ...(flags.file ? { fleetFile: flags.file } : {}) });
  redactor.addAll(ws.secrets);
  if (!ws.loaded || ws.unreadable) {
    io.err(renderFindings([...ws.findings, ...(ws.loaded ? blocking(ws.loaded) : [])]));
    return 2;
  }
  const errors = runChecks(ws.loaded).filter((f) => f.severity === 'error');
  if (hasErrors(errors)) {
    io.err(
      `${renderFindings(errors)}error check-failed: the fleet has errors; nothing was changed\n  hint: fix them (\`ferry check\` lists every finding), then run this again\n`,
    );
    return 2;
  }
  const loaded = ws.loaded;
  const pool = sshPool(flags, redactor);
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
    redactor,
    io,
    pool,
    transports,
    local: new LocalTransport({ redactor }),
    close: () => pool.close(),
  };
}

function blocking(loaded: LoadedFleet): Finding[] {
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
