/**
 * A per-stack lock on the server, so that two applies never change one stack at once.
 * `mkdir` is atomic: the first to create `/var/lib/ferry/locks/STACK.lock` holds it; the
 * owner's details (run, who, when) are written inside. Like Kamal's lock, the failure
 * of `mkdir` is turned into a typed error on the spot, naming the holder.
 */
import { FerryError } from '../core/errors.js';
import { and, cmd, type Command } from '../shell/command.js';
import type { Transport } from '../transport/transport.js';

export const LOCK_ROOT = '/var/lib/ferry/locks';

export interface LockOwner {
  run: string;
  /** `user@machine` of the operator. */
  by: string;
  at: string;
  command: string;
}

export class LockHeldError extends FerryError {
  constructor(
    readonly host: string,
    readonly stackName: string,
    readonly owner: LockOwner | undefined,
  ) {
    super(
      'lock-held',
      owner
        ? `stack ${stackName} on ${host} is locked by run ${owner.run} (${owner.by}, since ${owner.at}: ${owner.command})`
        : `stack ${stackName} on ${host} is locked, and the lock holds no owner details`,
      `host ${host}`,
      `Wait for that run to finish. If it died, check with \`ferry lock status ${stackName}\`, then \`ferry lock release ${stackName} --id ${owner?.run ?? 'RUN'}\`.`,
    );
    this.name = 'LockHeldError';
  }
}

export const lockDir = (stack: string): string => `${LOCK_ROOT}/${stack}.lock`;
const ownerFile = (stack: string): string => `${lockDir(stack)}/owner.json`;

/** `mkdir -p ROOT && mkdir ROOT/STACK.lock`: fails with "File exists" when held. */
export function acquireCommand(stack: string): Command {
  return and(cmd('mkdir', '-p', '-m', '700', LOCK_ROOT), cmd('mkdir', lockDir(stack)));
}

export const readOwnerCommand = (stack: string): Command => cmd('cat', ownerFile(stack));
export const releaseCommand = (stack: string): Command => cmd('rm', '-rf', lockDir(stack));

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    return typeof o.run === 'string'
      ? { run: o.run, by: String(o.by ?? '?'), at: String(o.at ?? '?'), command: String(o.command ?? '?') }
      : undefined;
  } catch {
    return undefined;
  }
}

export async function lockStatus(
  t: Transport,
  stack: string,
  sudo = false,
): Promise<LockOwner | 'unowned' | undefined> {
  const r = await t.exec(readOwnerCommand(stack), { sudo });
  if (r.code === 0) return parseOwner(r.stdout) ?? 'unowned';
  const dir = await t.exec(cmd('test', '-d', lockDir(stack)), { sudo });
  return dir.code === 0 ? 'unowned' : undefined;
}

/** Takes the lock for `owner.run`, or throws LockHeldError naming the holder. */
export async function acquireLock(t: Transport, stack: string, owner: LockOwner, sudo = false): Promise<void> {
  const r = await t.exec(acquireCommand(stack), { sudo });
  if (r.code !== 0) {
    if (/File exists/.test(r.stderr)) {
      const held = await lockStatus(t, stack, sudo);
      throw new LockHeldError(t.name, stack, held === 'unowned' || held === undefined ? undefined : held);
    }
    await t.exec(acquireCommand(stack), { sudo, check: true });
  }
  await t.upload(ownerFile(stack), JSON.stringify(owner) + '\n', { mode: 0o600, sudo });
}

/**
 * Releases the lock if `run` holds it. `force` releases a lock held by another run (a
 * stale one, after checking); it still needs that run's id, so nobody releases blindly.
 */
export async function releaseLock(
  t: Transport,
  stack: string,
  run: string,
  sudo = false,
): Promise<'released' | 'not-held'> {
  const held = await lockStatus(t, stack, sudo);
  if (held === undefined) return 'not-held';
  if (held !== 'unowned' && held.run !== run) throw new LockHeldError(t.name, stack, held);
  await t.exec(releaseCommand(stack), { sudo, check: true });
  return 'released';
}
