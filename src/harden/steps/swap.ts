/** A swap file of the size asked: made, switched on and kept in /etc/fstab; replaced when its size differs. */
import type { Step } from '../../engine/step.js';
import { render, script, type Command } from '../../shell/command.js';
import { runOwn } from '../../deploy/steps/failure.js';

export const SWAP_FILE = '/swapfile';

export const swapStateCommand: Command = script(
  'swapon --show=NAME,SIZE --bytes --noheadings 2>/dev/null | awk -v f="$1" \'$1 == f { print "active", $2 }\'; grep -qs "^$1 " /etc/fstab && echo fstab; true',
  SWAP_FILE,
);
export const makeSwapCommand = (bytes: number): Command =>
  script(
    [
      'set -e',
      'swapoff "$1" 2>/dev/null || true',
      'rm -f "$1"',
      'fallocate -l "$2" "$1" 2>/dev/null || dd if=/dev/zero of="$1" bs=1M count=$(( $2 / 1048576 )) status=none',
      'chmod 600 "$1"',
      'mkswap "$1" >/dev/null',
      'swapon "$1"',
      'grep -qs "^$1 " /etc/fstab || echo "$1 none swap sw 0 0" >> /etc/fstab',
    ].join('\n'),
    SWAP_FILE,
    String(bytes),
  );
export const removeSwapCommand: Command = script(
  'swapoff "$1" 2>/dev/null; rm -f "$1"; sed -i "\\#^$1 #d" /etc/fstab',
  SWAP_FILE,
);

/** `active BYTES` and `fstab` lines, as swapStateCommand prints them. */
export function swapDiffers(stdout: string, bytes: number): string[] {
  const size = Number(/^active (\d+)$/m.exec(stdout)?.[1] ?? 0);
  const out: string[] = [];
  // swapon counts the file less its header page.
  if (Math.abs(size - bytes) > 65536)
    out.push(size === 0 ? `${SWAP_FILE}: create` : `${SWAP_FILE}: ${size} -> ${bytes} bytes`);
  if (!/^fstab$/m.test(stdout)) out.push('/etc/fstab: add');
  return out;
}

export function swapStep(o: {
  id: string;
  server: string;
  bytes: number;
  sudo: boolean;
  dependsOn: string[];
}): Step<{ existed: boolean }> {
  const { sudo } = o;
  const state = async (ctx: Parameters<Step['check']>[0]) =>
    (await ctx.transport.exec(swapStateCommand, { sudo })).stdout;
  return {
    id: o.id,
    host: o.server,
    phase: 'prepare',
    title: `swap file of ${o.bytes} bytes`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `A swap file ${SWAP_FILE} of ${o.bytes} bytes, switched on and listed in /etc/fstab.`,
      commands: [render(swapStateCommand), render(makeSwapCommand(o.bytes))],
      verify: render(swapStateCommand),
      undo: render(removeSwapCommand),
    }),
    async check(ctx) {
      const now = await state(ctx);
      const p = ctx.prior as { existed?: boolean } | undefined;
      const observed = { existed: p?.existed ?? /^active /m.test(now) };
      const diff = swapDiffers(now, o.bytes);
      return diff.length === 0
        ? { needed: false, observed }
        : { needed: true, change: { summary: diff.join('; ') }, observed };
    },
    async apply(ctx) {
      await runOwn(ctx, makeSwapCommand(o.bytes), {
        sudo,
        timeoutMs: 600_000,
        what: `making ${SWAP_FILE}`,
        code: 'swap-failed',
        hint: `Check free disk space on ${o.server} (\`df -h /\`), or leave harden.swap out.`,
      });
    },
    async verify(ctx) {
      const diff = swapDiffers(await state(ctx), o.bytes);
      return diff.length === 0 ? { ok: true } : { ok: false, message: diff.join('; ') };
    },
    async rollback(ctx, observed) {
      if (!observed.existed) await ctx.transport.exec(removeSwapCommand, { sudo });
    },
  };
}
