/** What the watch commands read from the command line and the fleet: durations, the receivers' secrets. */
import { UsageError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { parseDuration } from '../compose/normalize/duration.js';
import { receiverSecret } from '../monitoring/secrets.js';
import type { ReceiverDef } from '../model/monitoring.js';
import type { CliIo } from './io.js';
import { secretSource } from './secret-source.js';
import type { SessionFlags } from './session.js';

export interface WatchFlags extends SessionFlags {
  for?: string;
  every?: string;
  report?: string;
  json?: boolean;
  /** Install the watch on the servers instead, see its status, or take it away. */
  install?: boolean;
  status?: boolean;
  remove?: boolean;
  /** The installed watch's name (default: from the names watched). */
  name?: string;
}

export function duration(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || !Number.isFinite(ms) || ms <= 0)
    throw new UsageError(`${flag} ${text} is not a duration`, `Write it as 30s, 10m, 72h or 3d.`, flag);
  return ms;
}

export function receiverSecrets(receivers: readonly ReceiverDef[], io: CliIo): Map<string, Secret> {
  const out = new Map<string, Secret>();
  for (const r of receivers) {
    const secret = receiverSecret(r, secretSource(io));
    if (!secret) continue;
    io.redactor.add(secret.reveal());
    out.set(r.name, secret);
  }
  return out;
}
