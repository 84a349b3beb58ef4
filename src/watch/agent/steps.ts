/**
 * The steps that install a watch on a server, or take it away. Installing: jq and curl
 * installed; the runner, the configuration, the receivers (a secret, mode 600) and the
 * units written, each by a file step (only what differs, put back on rollback); the timer
 * enabled and started. Taking away: the timer stopped and disabled, its units, the
 * configuration and the receivers deleted; what the watch saw (its state directory) kept.
 */
import type { Secret } from '../../core/secret.js';
import { fileStep } from '../../engine/steps/file.js';
import type { Step, StepContext } from '../../engine/step.js';
import { packagesStep } from '../../deploy/steps/packages.js';
import { timerStep } from '../../deploy/steps/timer.js';
import { runOwn } from '../../deploy/steps/failure.js';
import { render, script } from '../../shell/command.js';
import {
  watchConfigPath,
  watchFiles,
  watchReceiversPath,
  watchStateDir,
  watchUnit,
  watchUnitPath,
  type WatchInstall,
} from './files.js';
import { WATCH_ETC, WATCH_RUNNER_PATH } from './runner.js';

const stepId = (name: string, server: string, what: string): string => `watch/${name}/${server}/${what}`;

/** The steps installing watch `w` on its server, started at `started`; `receivers` its receivers file. */
export function watchInstallSteps(w: WatchInstall, started: Date, receivers: Secret): Step[] {
  const { server, sudo } = w.target;
  const packages = packagesStep({
    id: stepId(w.name, server, 'packages'),
    server,
    sudo,
    packages: { jq: 'jq', curl: 'curl' },
    purpose: 'The watch reads and judges its samples with jq and posts alerts with curl.',
  });
  const files = [...watchFiles(w, started), { path: watchReceiversPath(w.name), content: receivers, mode: 0o600 }].map(
    (f) =>
      fileStep({
        id: stepId(w.name, server, f.path.slice(f.path.lastIndexOf('/') + 1)),
        host: server,
        path: f.path,
        content: f.content,
        mode: f.mode,
        owner: 'root',
        parents: true,
        sudo,
        phase: 'deploy',
        dependsOn: [packages.id],
      }),
  );
  return [
    packages,
    ...files,
    timerStep({
      id: stepId(w.name, server, 'enable'),
      server,
      sudo,
      dependsOn: files.map((f) => f.id),
      timer: watchUnit(w.name, 'timer'),
      purpose: `Run ${WATCH_RUNNER_PATH} ${w.name} every ${w.everyS} s until the watch ends; then it disables its timer.`,
    }),
  ];
}

/** $1 the timer, $2 the service, then the files: what of the watch is still there. */
const PRESENT = `t=$1 s=$2; shift 2
[ "$(systemctl is-enabled "$t" 2>/dev/null)" = enabled ] && echo "enabled $t"
[ "$(systemctl is-active "$t" 2>/dev/null)" = active ] && echo "active $t"
for f; do test -e "$f" && echo "file $f"; done; true`;
/** $1 the timer, $2 the service, $3 the directory of configurations, then the files. */
const REMOVE = `t=$1 s=$2 etc=$3; shift 3
systemctl disable --now "$t" 2>/dev/null || true
systemctl reset-failed "$s" 2>/dev/null || true
rm -f -- "$@"
systemctl daemon-reload
ls "$etc"/*.json >/dev/null 2>&1 || rm -f ${WATCH_RUNNER_PATH}`;

/** The step taking watch `name` away from `server`; what it saw stays in its state directory. */
export function watchRemoveStep(name: string, server: string, sudo: boolean): Step<{ present: string[] }> {
  const files = [
    watchUnitPath(name, 'timer'),
    watchUnitPath(name, 'service'),
    watchConfigPath(name),
    watchReceiversPath(name),
  ];
  const present = script(PRESENT, watchUnit(name, 'timer'), watchUnit(name, 'service'), ...files);
  const remove = script(REMOVE, watchUnit(name, 'timer'), watchUnit(name, 'service'), WATCH_ETC, ...files);
  const read = async (ctx: StepContext) =>
    (await ctx.transport.exec(present, { sudo })).stdout.split('\n').filter((l) => l !== '');
  return {
    id: stepId(name, server, 'remove'),
    host: server,
    phase: 'deploy',
    title: `take the watch ${name} away from ${server}`,
    dependsOn: [],
    doc: () => ({
      purpose: `Stop the watch ${name} on ${server}; what it saw stays in ${watchStateDir(name)}.`,
      commands: [render(present), render(remove)],
      verify: render(present),
      undo: 'none: install the watch again with `ferry watch --install`',
    }),
    async check(ctx) {
      const seen = await read(ctx);
      return seen.length === 0
        ? { needed: false, observed: { present: seen } }
        : { needed: true, change: { summary: seen.join(', ') }, observed: { present: seen } };
    },
    async apply(ctx) {
      await runOwn(ctx, remove, {
        sudo,
        what: `taking the watch ${name} away`,
        code: 'systemctl-failed',
        hint: `Check \`systemctl status ${watchUnit(name, 'timer')}\` on ${server}.`,
      });
    },
    async verify(ctx) {
      const seen = await read(ctx);
      return seen.length === 0 ? { ok: true } : { ok: false, message: `still there: ${seen.join(', ')}` };
    },
    rollback: async () => undefined,
  };
}
