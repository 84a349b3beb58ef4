/**
 * The shell lines behind upload, download and sudo. Pure, so their exact shape is
 * tested: file content travels on stdin, never on a command line; the temp file is
 * created by mktemp (mode 600, next to the target), given its final mode and owner
 * before any byte is written, then renamed over the target (atomic on one file system).
 */
import { posix } from 'node:path';
import { cmd, render, script, type Command } from '../../shell/command.js';

export function uploadCommand(path: string, mode: number, owner?: string): Command {
  assertAbsolute(path);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    throw new Error(`upload mode must be from 0 to 0o7777, got ${mode}`);
  const base = posix.basename(path);
  const template = posix.join(posix.dirname(path), `${base.startsWith('.') ? '' : '.'}${base}.ferry-XXXXXX`);
  return script(UPLOAD, template, mode.toString(8).padStart(3, '0'), owner ?? '', path);
}

/** $1 temp file template, $2 mode, $3 owner (empty: keep), $4 target; content on stdin. */
const UPLOAD =
  'tmp=$(mktemp "$1") && chmod "$2" "$tmp" && { [ -z "$3" ] || chown "$3" "$tmp"; } && cat > "$tmp" && mv -f "$tmp" "$4" || { rm -f "$tmp"; false; }';

export function downloadCommand(path: string): Command {
  assertAbsolute(path);
  return cmd('cat', '--', path);
}

/** The line that runs `line` as root without asking for a password. */
export function sudoLine(line: string): string {
  return render(cmd('sudo', '-n', 'sh', '-c', line));
}

function assertAbsolute(path: string): void {
  if (!path.startsWith('/')) throw new Error(`remote paths must be absolute, got "${path}"`);
}
