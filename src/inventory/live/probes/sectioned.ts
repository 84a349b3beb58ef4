/** One command made of named sections, each introduced by an `@@NAME` line; a failing section does not stop the rest. */
import { cmd, quiet, seq, type Command } from '../../../shell/command.js';

export function sectioned(parts: Record<string, Command>): Command {
  return seq(...Object.entries(parts).flatMap(([name, c]) => [cmd('echo', `@@${name}`), quiet(c)]));
}
