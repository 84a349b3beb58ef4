/** What `plan` and `apply` give the harden planner: the servers, how Ferry logs in, and the SSH proof. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ServerDef } from '../model/fleet.js';
import type { Hardening } from '../plans/build.js';
import { sshProver } from '../transport/ssh/prove.js';
import { publicKeysOf } from '../transport/ssh/public-keys.js';
import { expandHome } from '../transport/ssh/target.js';
import type { SshFlags } from './live.js';
import type { Session } from './session.js';

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

export function hardeningFor(s: Session, servers: ServerDef[], flags: SshFlags): Hardening {
  const home = homedir();
  return {
    servers,
    login: (server: ServerDef) => {
      const identity = server.identityFile ?? flags.identity;
      const paths = identity ? [expandHome(identity, home)] : DEFAULT_KEYS.map((k) => join(home, '.ssh', k));
      return { user: server.user ?? 'root', operatorKeys: publicKeysOf(paths) };
    },
    prove: sshProver(s.transports, s.redactor),
  };
}
