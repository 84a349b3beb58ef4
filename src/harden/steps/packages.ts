/** The Debian packages hardening uses, installed when missing (apt-get, no recommends). */
import type { Step } from '../../engine/step.js';
import { render, script, type Command } from '../../shell/command.js';
import { runOwn } from '../../deploy/steps/failure.js';

export const missingCommand = (packages: string[]): Command =>
  script(
    'for p; do dpkg-query -W -f "\\${Status}\\n" "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"; done; true',
    ...packages,
  );
export const installCommand = (packages: string[]): Command =>
  script(
    'export DEBIAN_FRONTEND=noninteractive; apt-get install -y --no-install-recommends "$@" || { apt-get update -qq && apt-get install -y --no-install-recommends "$@"; }',
    ...packages,
  );

export function packagesStep(o: {
  id: string;
  server: string;
  packages: string[];
  sudo: boolean;
}): Step<{ missing: string[] }> {
  const { sudo } = o;
  const missing = async (t: { exec: (c: Command, opts: { sudo: boolean }) => Promise<{ stdout: string }> }) =>
    (await t.exec(missingCommand(o.packages), { sudo })).stdout.split('\n').filter((l) => l.trim() !== '');
  return {
    id: o.id,
    host: o.server,
    phase: 'prepare',
    title: `packages: ${o.packages.join(', ')}`,
    dependsOn: [],
    doc: () => ({
      purpose: `Install what hardening uses and the server lacks, among ${o.packages.join(', ')}.`,
      commands: [render(missingCommand(o.packages)), render(installCommand(o.packages))],
      verify: 'dpkg-query shows each installed',
      undo: 'Nothing: packages are left installed (removing ufw or fail2ban would drop their rules).',
    }),
    async check(ctx) {
      const m = await missing(ctx.transport);
      return m.length === 0
        ? { needed: false, observed: { missing: m } }
        : { needed: true, change: { summary: `install ${m.join(', ')}` }, observed: { missing: m } };
    },
    async apply(ctx, { missing: m }) {
      await runOwn(ctx, installCommand(m), {
        sudo,
        timeoutMs: 600_000,
        what: `apt-get install ${m.join(' ')}`,
        code: 'package-install-failed',
        hint: `Install them on ${o.server} by hand (apt-get install ${m.join(' ')}), then apply again.`,
      });
    },
    async verify(ctx) {
      const m = await missing(ctx.transport);
      return m.length === 0 ? { ok: true } : { ok: false, message: `still missing: ${m.join(', ')}` };
    },
    async rollback() {
      // Packages stay: see doc().undo.
    },
  };
}
