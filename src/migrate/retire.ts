/**
 * `ferry retire STACK --from SERVER`: after the rollback window, removes what a migration
 * left on its source: the stopped containers and their volumes (the data), the releases,
 * the nginx site. Only where the stack was moved away from (the `migrated-to` marker is
 * there): a server still serving the stack is refused.
 */
import { and, cmd, quiet, render, seq, type Command } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import type { Step } from '../engine/step.js';
import { compose, releaseCall, type ComposeCall } from '../deploy/compose-cli.js';
import { stackDir } from '../deploy/layout.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { composeFlavor } from '../deploy/steps/engine.js';
import { sitePath, upstreamsPath } from '../proxy/names.js';
import { reloadNginxCommand } from '../proxy/commands.js';
import { runTool } from '../tools/run.js';
import { markerPath } from './steps/switch.js';

const DOWN_TIMEOUT_MS = 10 * 60_000;

/** What retire's check saw: whether the stack's directory was there (and the marker named `to`). */
export interface RetireObserved {
  present: boolean;
}

export function retireSteps(o: {
  stack: string;
  host: string;
  sudo: boolean;
  release?: ReleaseMeta;
  to: string;
}): Step<RetireObserved>[] {
  const files = [sitePath(o.stack), upstreamsPath(o.stack)];
  const removeFiles: Command = seq(
    cmd('rm', '-f', ...files),
    and(quiet(cmd('nginx', '-t', '-q')), reloadNginxCommand),
    cmd('rm', '-rf', stackDir(o.stack)),
  );
  const down = (c: ComposeCall) => compose(c, 'down', '--volumes', '--remove-orphans');
  const call = (flavor: ComposeCall['flavor']): ComposeCall | undefined =>
    o.release ? releaseCall(o.stack, o.release.project, o.release, flavor) : undefined;
  return [
    {
      id: `${o.stack}/retire`,
      host: o.host,
      phase: 'deploy',
      title: `remove ${o.stack} from ${o.host} (moved to ${o.to}): containers, volumes, releases, nginx site`,
      dependsOn: [],
      doc: () => ({
        purpose: `Delete what stack ${o.stack} left on ${o.host} after it moved to ${o.to}: its stopped containers and their volumes (its data there), ${stackDir(o.stack)}, and its nginx files. This deletes data: only after the rollback window.`,
        commands: [...(call('plugin') ? [render(down(call('plugin')!))] : []), render(removeFiles)],
        verify: `${stackDir(o.stack)} is gone and no container of the project is left.`,
        undo: 'None: the data on this server is gone (the stack runs, with its data, on the target). Compose down is stopped after 10 minutes.',
      }),
      async check(ctx) {
        const marker = await ctx.transport.exec(quiet(cmd('cat', markerPath(o.stack))), { sudo: o.sudo });
        const dir = await ctx.transport.exec(cmd('test', '-d', stackDir(o.stack)), { sudo: o.sudo });
        if (dir.code !== 0) return { needed: false, observed: { present: false } };
        if (marker.code !== 0 || marker.stdout.trim() !== o.to) {
          throw new StepError(
            'not-moved',
            `${o.host}: stack ${o.stack} was not moved away from here (no ${markerPath(o.stack)} naming ${o.to}); retire removes only a stack migrate moved`,
            'Check the server named by --from: it must be the source of a finished `ferry migrate`.',
          );
        }
        return {
          needed: true,
          change: { summary: `delete ${o.stack}'s containers, volumes and files on ${o.host}` },
          observed: { present: true },
        };
      },
      async apply(ctx) {
        const c = call(await composeFlavor(ctx.transport, o.sudo));
        if (c)
          await runTool(ctx, 'compose', down(c), { what: 'compose down', sudo: o.sudo, timeoutMs: DOWN_TIMEOUT_MS });
        await ctx.transport.exec(removeFiles, { sudo: o.sudo, check: true });
      },
      async verify(ctx) {
        const dir = await ctx.transport.exec(cmd('test', '-d', stackDir(o.stack)), { sudo: o.sudo });
        return dir.code !== 0 ? { ok: true } : { ok: false, message: `${stackDir(o.stack)} is still there` };
      },
      async rollback() {},
    },
  ];
}
