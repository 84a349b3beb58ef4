/**
 * `ferry lock status STACK` and `ferry lock release STACK --id RUN`: look at, and free, the
 * lock an apply holds on a stack's server, e.g. after a run died. Releasing needs the
 * holder's run id, so nobody frees a lock blindly.
 */
import { resolve } from 'node:path';
import { InputError, UsageError } from '../core/errors.js';
import { sortFindings } from '../core/finding.js';
import { suggest } from '../core/suggest.js';
import { loadFleetFile } from '../fleet/load.js';
import { lockStatus, releaseLock } from '../lock/lock.js';
import type { ServerDef } from '../model/fleet.js';
import type { Transport } from '../transport/transport.js';
import type { CliIo } from './io.js';
import { sshPool, targetFor, type SshFlags } from './live.js';

export interface LockFlags extends SshFlags {
  file?: string;
  id?: string;
  json?: boolean;
}

async function onStackServer(
  stack: string,
  flags: LockFlags,
  io: CliIo,
  use: (t: Transport, server: ServerDef) => Promise<number>,
): Promise<number> {
  const f = loadFleetFile(resolve(io.cwd, flags.file ?? 'ferry.yml'), { cwd: io.cwd });
  io.redactor.addAll(f.secrets);
  if (!f.fleet) throw new InputError(sortFindings(f.findings));
  const def = f.fleet.stacks[stack];
  if (!def?.server) {
    const near = suggest(stack, Object.keys(f.fleet.stacks));
    throw new UsageError(
      `unknown stack "${stack}"${near ? `; did you mean "${near}"?` : ''}`,
      `Stacks in ${f.fleet.display ?? 'the fleet file'}: ${Object.keys(f.fleet.stacks).join(', ') || 'none'}.`,
    );
  }
  const server = f.fleet.servers[def.server];
  if (!server)
    throw new UsageError(
      `stack ${stack} names server "${def.server}", which the fleet file does not define`,
      'Run `ferry check` to see the fleet file problems.',
    );
  const pool = sshPool(flags, io.redactor);
  try {
    return await use(pool.get(targetFor(server, flags)), server);
  } finally {
    await pool.close();
  }
}

/** Exit 0 with the lock's state; 1 when the server cannot be reached. */
export function lockStatusCommand(stack: string, flags: LockFlags, io: CliIo): Promise<number> {
  return onStackServer(stack, flags, io, async (t, server) => {
    const held = await lockStatus(t, stack, server.sudo === true);
    const owner = held === undefined || held === 'unowned' ? undefined : held;
    if (flags.json)
      io.out(
        `${JSON.stringify({ stack, server: server.name, locked: held !== undefined, ...(owner ? { owner } : {}) }, null, 2)}\n`,
      );
    else if (held === undefined) io.out(`stack ${stack} on ${server.name}: not locked\n`);
    else if (owner)
      io.out(
        `stack ${stack} on ${server.name}: locked by run ${owner.run} (${owner.by}, since ${owner.at}: ${owner.command})\n`,
      );
    else
      io.out(
        `stack ${stack} on ${server.name}: locked, with no owner details (a run died while taking it); release it with --id unknown\n`,
      );
    return 0;
  });
}

/** Exit 0 when released or not locked; 1 when another run holds it. */
export function lockReleaseCommand(stack: string, flags: LockFlags, io: CliIo): Promise<number> {
  if (!flags.id)
    throw new UsageError(
      'ferry lock release needs --id RUN, the run that holds the lock',
      `See it with \`ferry lock status ${stack}\`.`,
    );
  const id = flags.id;
  return onStackServer(stack, flags, io, async (t, server) => {
    const r = await releaseLock(t, stack, id === 'unknown' ? '' : id, server.sudo === true);
    io.out(
      r === 'released'
        ? `stack ${stack} on ${server.name}: lock of run ${id} released\n`
        : `stack ${stack} on ${server.name}: not locked\n`,
    );
    return 0;
  });
}
