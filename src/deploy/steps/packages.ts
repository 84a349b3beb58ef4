/**
 * Debian packages a server needs for what Ferry puts on it (jq and curl for the watch):
 * each judged by the command it brings, installed with apt-get when one is missing.
 * Rollback leaves them installed: they serve nothing by themselves.
 */
import type { Phase, Step, StepContext } from '../../engine/step.js';
import { render, script, type Command } from '../../shell/command.js';
import { runOwn } from './failure.js';

/** Prints each command of the arguments that the server does not have. */
export const missingCommands = (commands: readonly string[]): Command =>
  script('for c; do command -v "$c" >/dev/null 2>&1 || echo "$c"; done; true', ...commands);

/** apt-get install of the arguments, quietly, without recommends. */
export const aptInstall = (packages: readonly string[]): Command =>
  script(
    'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"',
    ...packages,
  );

export interface PackagesStepOptions {
  id: string;
  server: string;
  sudo: boolean;
  /** Package name → the command that says it is installed. */
  packages: Record<string, string>;
  /** What they are for, for the plan. */
  purpose: string;
  phase?: Phase;
  dependsOn?: string[];
}

export function packagesStep(o: PackagesStepOptions): Step<{ missing: string[] }> {
  const names = Object.keys(o.packages);
  const commands = Object.values(o.packages);
  const missing = async (ctx: StepContext) => {
    const out = (await ctx.transport.exec(missingCommands(commands), { sudo: o.sudo })).stdout;
    const gone = new Set(out.split('\n').filter((l) => l !== ''));
    return names.filter((n) => gone.has(o.packages[n]!));
  };
  return {
    id: o.id,
    host: o.server,
    phase: o.phase ?? 'prepare',
    title: `${names.join(', ')} installed on ${o.server}`,
    dependsOn: o.dependsOn ?? [],
    doc: () => ({
      purpose: o.purpose,
      commands: [render(missingCommands(commands)), `when one is missing: ${render(aptInstall(names))}`],
      verify: render(missingCommands(commands)),
      undo: 'none: the packages stay installed',
    }),
    async check(ctx) {
      const m = await missing(ctx);
      return m.length === 0
        ? { needed: false, observed: { missing: m } }
        : { needed: true, change: { summary: `apt-get install ${m.join(' ')}` }, observed: { missing: m } };
    },
    async apply(ctx, observed) {
      await runOwn(ctx, aptInstall(observed.missing), {
        sudo: o.sudo,
        timeoutMs: 10 * 60_000,
        what: `apt-get install ${observed.missing.join(' ')}`,
        code: 'install-failed',
        hint: `Install ${observed.missing.join(' ')} on ${o.server} by hand (apt-get install), then run again.`,
      });
    },
    async verify(ctx) {
      const m = await missing(ctx);
      return m.length === 0 ? { ok: true } : { ok: false, message: `${m.join(', ')} still missing` };
    },
    rollback: async () => undefined,
  };
}
