/** What is read on a server about its access, in one command: sshd's ports, ufw, the switch. */
import type { StepContext } from '../../engine/step.js';
import { sections } from '../../inventory/live/probe.js';
import { script, type Command } from '../../shell/command.js';
import type { AccessFacts } from '../access.js';
import { SSHD_DROP_IN } from '../render/sshd.js';
import { SAVED_TAR, SWITCH_UNIT } from '../render/switch.js';
import { ferryLines } from '../render/ufw.js';

export interface AccessState extends AccessFacts {
  /** sha256 of Ferry's sshd drop-in, null when there is none. */
  dropInHash: string | null;
  /** The switch's timer runs and holds a saved configuration: a change is not confirmed yet. */
  armed: boolean;
}

export const accessStateCommand: Command = script(
  [
    'echo @@ports; sshd -T 2>&1 | sed -n "s/^port //p"',
    'echo @@socket; systemctl is-active ssh.socket 2>/dev/null',
    'echo @@dropin; sha256sum "$1" 2>/dev/null | cut -c1-64',
    'echo @@ufw; if command -v ufw >/dev/null 2>&1; then echo installed; ufw status verbose; fi',
    'echo @@added; if command -v ufw >/dev/null 2>&1; then ufw show added; fi',
    'echo @@switch; systemctl is-active "$2.timer" 2>/dev/null; [ -f "$3" ] && echo saved; true',
  ].join('\n'),
  SSHD_DROP_IN,
  SWITCH_UNIT,
  SAVED_TAR,
);

export function parseAccessState(stdout: string): AccessState {
  const s = sections(stdout);
  const ports = (s.get('ports') ?? '')
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
  const ufwText = s.get('ufw') ?? '';
  const sw = (s.get('switch') ?? '').split('\n').map((l) => l.trim());
  const hash = (s.get('dropin') ?? '').trim();
  return {
    ports,
    socketActivated: (s.get('socket') ?? '').trim() === 'active',
    ufw: {
      installed: ufwText.startsWith('installed'),
      active: /^Status: active$/m.test(ufwText),
      defaults: /^Default: (.*)$/m.exec(ufwText)?.[1]?.trim() ?? '',
      statusText: ufwText,
      ferryLines: ferryLines(s.get('added') ?? ''),
    },
    dropInHash: /^[0-9a-f]{64}$/.test(hash) ? hash : null,
    armed: sw.includes('active') && sw.includes('saved'),
  };
}

export async function readAccessState(ctx: StepContext, sudo: boolean): Promise<AccessState> {
  const r = await ctx.transport.exec(accessStateCommand, { sudo });
  return parseAccessState(r.stdout);
}

/** ufw's defaults as Ferry wants them (`ufw status verbose`). */
export const WANTED_DEFAULTS = /^deny \(incoming\), allow \(outgoing\)/;
