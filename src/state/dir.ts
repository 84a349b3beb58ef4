/** Ferry's local state directory: `FERRY_STATE_DIR`, else `$XDG_STATE_HOME/ferry`, else `~/.local/state/ferry`. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '../compose/project-env.js';

export function stateDir(env: Env): string {
  if (env.FERRY_STATE_DIR) return env.FERRY_STATE_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'ferry');
  return join(env.HOME ?? homedir(), '.local', 'state', 'ferry');
}
