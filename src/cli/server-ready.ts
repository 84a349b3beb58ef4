/**
 * A server made ready to restore a stack's backups: restic, the password file and an SSH
 * key to the repository's server (`access`), and with `deploy` the stack itself deployed
 * there as `ferry apply` would (Docker installed when missing, the server hardened when
 * its `harden` key is set). One journaled run, resumable; `ferry recover` and `ferry
 * restore --to` run it before their restore.
 */
import { UsageError } from '../core/errors.js';
import { makePlan } from '../engine/plan.js';
import type { Journal } from '../journal/journal.js';
import { buildPlan } from '../plans/build.js';
import { preview } from '../plans/preview.js';
import { countChanges, renderPlanTable } from '../render/plan.js';
import { accessSteps } from '../backup/steps.js';
import type { RepoAccess } from '../backup/restic.js';
import { hardeningFor } from './hardening.js';
import { confirm, declined, executeStage, planCheckFailed, type ApplyFlags } from './run-plan.js';
import type { Session } from './session.js';
import { readPassword, type BackupTarget } from './backup-input.js';

export interface ReadyFlags extends ApplyFlags {
  dryRun?: boolean;
}

/** The run's outcome; undefined after --dry-run (the plan printed). */
export async function serverReady(
  s: Session,
  b: BackupTarget,
  repo: RepoAccess,
  flags: ReadyFlags,
  journal: Journal,
  deploy: boolean,
): Promise<{ changed: number; ok: number; journal_run: string } | undefined> {
  const stack = b.stack.def.name;
  const moved = { ...b.stack, def: { ...b.stack.def, server: b.server.name } };
  const target = { stack: moved, server: b.server };
  const hardening = deploy && b.server.harden !== undefined ? hardeningFor(s, [b.server], flags) : undefined;
  const fp = deploy ? await buildPlan(s.loaded, [target], s.local, hardening) : undefined;
  const password = readPassword(s, b.def.password!, stack);
  const access = accessSteps({ stack, server: b.server.name, sudo: b.server.sudo === true, password, repos: [repo] });
  const plan = makePlan([...(fp?.plan.steps ?? []), ...access.head, ...access.channels.values()]);
  const p = await preview(plan, s.transports, s.redactor);
  if (!flags.json || flags.dryRun) s.io.out(flags.json ? `${JSON.stringify(p, null, 2)}\n` : renderPlanTable(p));
  const what = deploy ? 'recover' : 'restore';
  if (countChanges(p).error > 0) throw planCheckFailed('nothing was changed', `run ${what} again`);
  if (flags.dryRun) return undefined;
  if (countChanges(p).change > 0) await confirmed(flags, b, repo, deploy);
  const command = `${deploy ? 'recover' : 'restore'} ${stack} --to ${b.server.name} ${deploy ? 'deploy' : 'access'}`;
  const summary = await executeStage(
    s,
    { plan, targets: fp?.targets ?? [target], hardened: fp?.hardened ?? [] },
    command,
    flags,
    journal,
    {
      fallback: 'command-failed',
      place: `host ${b.server.name}`,
      message: (why) =>
        `making ${b.server.name} ready for ${stack} failed: ${why ?? 'see the run'}; no data was restored`,
      hint: `Then run ${what} again with --resume.`,
    },
  );
  return { changed: summary.changed, ok: summary.ok, journal_run: summary.runId };
}

async function confirmed(flags: ReadyFlags, b: BackupTarget, repo: RepoAccess, deploy: boolean): Promise<void> {
  if (flags.yes) return;
  if (!(flags.interactive ?? process.stdin.isTTY))
    throw new UsageError(
      `${deploy ? 'recover deploys and restores' : 'restore --to prepares and restores'} on a server and needs a confirmation, but no one can answer here (stdin is not a terminal)`,
      'Read the plan (--dry-run), then pass --yes.',
      '--yes',
    );
  const q = deploy
    ? `deploy ${b.stack.def.name} on ${b.server.name} and restore it from ${repo.name}? [y/N] `
    : `prepare ${b.server.name} to read ${repo.name} (restic, the password, an SSH key)? [y/N] `;
  if (!(await confirm(q))) throw declined(`the ${deploy ? 'recovery' : 'restore'} of ${b.stack.def.name}`);
}
