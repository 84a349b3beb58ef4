/**
 * The steps of `ferry backup run STACK`, all on the stack's server: restic installed, the
 * password file written (mode 600), for a repository on another server an SSH channel to
 * it, each repository created when missing, then one backup run per repository. Backups
 * are never undone: a rollback leaves repositories, keys and restic as they are.
 */
import { createHash } from 'node:crypto';
import type { Secret } from '../core/secret.js';
import type { Step, StepContext } from '../engine/step.js';
import { channelSteps } from '../migrate/channel.js';
import { render } from '../shell/command.js';
import { cmd } from '../shell/command.js';
import { toolFailure } from '../tools/classify.js';
import { StepError } from '../engine/errors.js';
import { keptDays, type BackupRetention } from '../model/backup.js';
import { describeSources, type BackupSources } from './sources.js';
import { recordBackupRun } from './metrics.js';
import {
  INSTALL_CHECK,
  forgetKind,
  forgottenCount,
  initRepo,
  prune,
  installRestic,
  passwordDir,
  passwordFile,
  probeRepo,
  type RepoAccess,
} from './restic.js';
import { backUp, requireReachable, runSnapshots } from './run.js';
import { scheduleStep } from './schedule-step.js';
import type { Job } from './schedule.js';

export interface BackupPlanInput {
  stack: string;
  server: string;
  sudo: boolean;
  password: Secret;
  repos: RepoAccess[];
  sources: BackupSources;
  /** The run's id, carried by every snapshot it makes (`run=ID`). */
  run: string;
  retention: BackupRetention;
  /** The timers' calendar expressions; a job left out has no timer (one left behind is removed). */
  calendars: Partial<Record<Job, string>>;
}

const nothing = async (): Promise<void> => undefined;

/** What reaching the repositories from a server takes. */
export type Access = Pick<BackupPlanInput, 'stack' | 'server' | 'sudo' | 'password' | 'repos'>;

function installStep(i: Access): Step<{ installed: boolean }> {
  const installed = async (ctx: StepContext) => (await ctx.transport.exec(INSTALL_CHECK, { sudo: i.sudo })).code === 0;
  return {
    id: `${i.stack}/backup/restic`,
    host: i.server,
    phase: 'prepare',
    title: `restic on ${i.server}`,
    dependsOn: [],
    doc: () => ({
      purpose: 'restic makes, encrypts and checks the backups.',
      commands: [render(installRestic)],
      verify: render(INSTALL_CHECK),
      undo: 'none: restic stays installed',
    }),
    async check(ctx) {
      const ok = await installed(ctx);
      return ok
        ? { needed: false, observed: { installed: true } }
        : { needed: true, change: { summary: 'apt-get install restic' }, observed: { installed: false } };
    },
    async apply(ctx) {
      const r = await ctx.transport.exec(installRestic, { sudo: i.sudo, timeoutMs: 10 * 60_000 });
      if (r.code !== 0)
        throw new StepError(
          'restic-install-failed',
          `${i.server}: apt-get install restic failed (exit ${r.code}):\n${ctx.redactor.redact(r.stderr.trim().split('\n').slice(-6).join('\n'))}`,
          'Install restic on the server by hand (`apt-get install restic`, or a release binary of 0.17 or later), then run again.',
          `host ${i.server}`,
        );
    },
    verify: async (ctx) =>
      (await installed(ctx)) ? { ok: true } : { ok: false, message: `${i.server}: restic is not on the PATH` },
    rollback: nothing,
  };
}

const SUM = (path: string) => cmd('sha256sum', path);
const hashOf = (s: Secret): string => createHash('sha256').update(s.reveal()).digest('hex');

interface SecretFile {
  id: string;
  path: string;
  secret: Secret;
  title: string;
  purpose: string;
}

/** A secret written to a mode-600 file on the server (its directory mode 700), rewritten only when its hash differs. */
function secretFileStep(i: Access, f: SecretFile): Step<{ current: boolean }> {
  const current = async (ctx: StepContext) => {
    const r = await ctx.transport.exec(SUM(f.path), { sudo: i.sudo });
    return r.code === 0 && r.stdout.split(' ')[0] === hashOf(f.secret);
  };
  return {
    id: f.id,
    host: i.server,
    phase: 'prepare',
    title: f.title,
    dependsOn: [],
    doc: () => ({
      purpose: f.purpose,
      commands: [render(passwordDir(i.stack)), `upload to ${f.path} (mode 600)`],
      verify: `${render(SUM(f.path))} matches the secret's hash`,
      undo: 'none: the file stays',
    }),
    async check(ctx) {
      return (await current(ctx))
        ? { needed: false, observed: { current: true } }
        : { needed: true, change: { summary: `write ${f.path} (mode 600)` }, observed: { current: false } };
    },
    async apply(ctx) {
      await ctx.transport.exec(passwordDir(i.stack), { sudo: i.sudo, check: true });
      await ctx.transport.upload(f.path, f.secret, { mode: 0o600, sudo: i.sudo });
    },
    verify: async (ctx) =>
      (await current(ctx)) ? { ok: true } : { ok: false, message: `${f.path} does not hold what it should` },
    rollback: nothing,
  };
}

const passwordStep = (i: Access): Step =>
  secretFileStep(i, {
    id: `${i.stack}/backup/password`,
    path: passwordFile(i.stack),
    secret: i.password,
    title: `backup password in ${passwordFile(i.stack)}`,
    purpose:
      'restic reads the repositories’ password from this file (RESTIC_PASSWORD_FILE): never from a command line.',
  });

/** A REST repository's URL with its credentials, in the file restic reads it from (--repository-file). */
const repositoryFileStep = (i: Access, r: RepoAccess, file: { path: string; content: Secret }): Step => {
  const keys = r.file?.holds === 'keys';
  return secretFileStep(i, {
    id: `${i.stack}/backup/repository-file/${r.name}`,
    path: file.path,
    secret: file.content,
    title: keys
      ? `the keys of bucket repository ${r.name}, in ${file.path}`
      : `the address of repository ${r.name} with its credentials, in ${file.path}`,
    purpose: keys
      ? `restic reads the access key id and secret access key of ${r.name} from this file (AWS_SHARED_CREDENTIALS_FILE): never from a command line.`
      : `restic reads the URL of ${r.name} with the REST server's user and password from this file (--repository-file): never from a command line.`,
  });
};

/** Whether the repository is there: true, false (none yet), or the classified failure (wrong password, unreachable). */
async function repoThere(ctx: StepContext, i: BackupPlanInput, r: RepoAccess): Promise<boolean> {
  // A bucket's was probed already, with its keys.
  const probed = await requireReachable(ctx.transport, r, i.sudo, (s) => ctx.redactor.redact(s));
  const res = probed ?? (await ctx.transport.exec(probeRepo(r), { sudo: i.sudo, timeoutMs: 120_000 }));
  if (res.code === 0) return true;
  const e = toolFailure('restic', res, {
    host: i.server,
    what: `opening repository ${r.name} (${r.url})`,
    redact: (s) => ctx.redactor.redact(s),
  })!;
  if (e.code === 'backup-repository-missing') return false;
  throw e;
}

function repoStep(i: BackupPlanInput, r: RepoAccess, dependsOn: string[]): Step<{ there: boolean }> {
  return {
    id: `${i.stack}/backup/repository/${r.name}`,
    host: i.server,
    ...(r.channel ? { reaches: [r.channel.target.name] } : {}),
    phase: 'prepare',
    title: `repository ${r.name} (${r.url})`,
    dependsOn,
    doc: () => ({
      purpose: `The restic repository ${r.name}, created when missing; its password opens it.`,
      commands: [render(initRepo(r))],
      verify: render(probeRepo(r)),
      undo: 'none: a repository is never removed',
    }),
    async check(ctx) {
      return (await repoThere(ctx, i, r))
        ? { needed: false, observed: { there: true } }
        : { needed: true, change: { summary: `restic init ${r.url}` }, observed: { there: false } };
    },
    async apply(ctx) {
      const res = await ctx.transport.exec(initRepo(r), { sudo: i.sudo, timeoutMs: 120_000 });
      const e = toolFailure('restic', res, {
        host: i.server,
        what: `creating repository ${r.name} (${r.url})`,
        redact: (s) => ctx.redactor.redact(s),
      });
      if (e) throw e;
    },
    verify: async (ctx) =>
      (await repoThere(ctx, i, r)) ? { ok: true } : { ok: false, message: `${r.url}: no repository after init` },
    rollback: nothing,
  };
}

function runStep(i: BackupPlanInput, r: RepoAccess, dependsOn: string[]): Step<{ run: string }> {
  const n = describeSources(i.sources).length;
  return {
    id: `${i.stack}/backup/run/${r.name}`,
    host: i.server,
    ...(r.channel ? { reaches: [r.channel.target.name] } : {}),
    phase: 'transfer',
    title: `back up ${i.stack} to ${r.name}`,
    dependsOn,
    doc: () => ({
      purpose: `Every source of ${i.stack} into ${r.name}, then the run's manifest (rows and checksums, key counts, files and bytes).`,
      commands: [
        'see docs/backups.md: pg_dump --snapshot and mysqldump --single-transaction into restic backup --stdin-from-command; BGSAVE then the RDB file; volumes and paths as files; manifest.json',
      ],
      verify: `restic snapshots --tag run=${i.run}: the manifest is there`,
      undo: 'none: snapshots stay until retention removes them',
    }),
    check: async () => ({
      needed: true,
      change: { summary: `${n} source(s) into ${r.name}, run ${i.run}` },
      observed: { run: i.run },
    }),
    apply: async (ctx) => {
      const record = (startedAt: Date, ok: boolean) =>
        recordBackupRun(ctx, { stack: i.stack, repository: r.name, sudo: i.sudo, startedAt, ok });
      const startedAt = new Date();
      let manifest;
      try {
        manifest = await backUp(ctx, { ...i, repo: r });
      } catch (e) {
        await record(startedAt, false).catch(() => undefined);
        throw e;
      }
      await record(new Date(manifest.at), true);
    },
    async verify(ctx) {
      const snaps = await runSnapshots(ctx.transport, r, i.run, i.sudo, (s) => ctx.redactor.redact(s));
      return snaps.some((s) => s.tags?.includes('kind=manifest'))
        ? { ok: true }
        : { ok: false, message: `${r.name}: no manifest snapshot of run ${i.run}` };
    },
    rollback: nothing,
  };
}

function retentionStep(i: BackupPlanInput, r: RepoAccess, dependsOn: string[]): Step<{ remove: number }> {
  const forget = async (ctx: StepContext, dryRun: boolean): Promise<number> => {
    let n = 0;
    for (const [kind, days] of keptDays(i.retention)) {
      const res = await ctx.transport.exec(forgetKind(r, kind, days, dryRun), { sudo: i.sudo, timeoutMs: 30 * 60_000 });
      const e = toolFailure('restic', res, {
        host: i.server,
        what: `${dryRun ? 'listing' : 'forgetting'} ${kind} snapshots older than ${days} days in ${r.name}`,
        redact: (s) => ctx.redactor.redact(s),
      });
      if (e) throw e;
      n += forgottenCount(res.stdout);
    }
    return n;
  };
  return {
    id: `${i.stack}/backup/retention/${r.name}`,
    host: i.server,
    ...(r.channel ? { reaches: [r.channel.target.name] } : {}),
    phase: 'verify',
    title: `retention in ${r.name}`,
    dependsOn,
    doc: () => ({
      purpose: `Snapshots of ${i.stack} older than their kind's retention (${keptDays(i.retention)
        .map(([k, d]) => `${k} ${d} days`)
        .join(', ')}) before the newest of their source are forgotten, and their data pruned.`,
      commands: [...keptDays(i.retention).map(([k, d]) => render(forgetKind(r, k, d, false))), render(prune(r))],
      verify: 'the same forget with --dry-run removes nothing',
      undo: 'none: forgotten snapshots are gone',
    }),
    async check(ctx) {
      const remove = await forget(ctx, true);
      return remove > 0
        ? {
            needed: true,
            change: { summary: `forget ${remove} snapshot(s) past retention, then prune` },
            observed: { remove },
          }
        : { needed: false, observed: { remove } };
    },
    async apply(ctx) {
      await forget(ctx, false);
      const res = await ctx.transport.exec(prune(r), { sudo: i.sudo, timeoutMs: 6 * 60 * 60_000 });
      const e = toolFailure('restic', res, {
        host: i.server,
        what: `pruning ${r.name}`,
        redact: (s) => ctx.redactor.redact(s),
      });
      if (e) throw e;
    },
    verify: async (ctx) => {
      const left = await forget(ctx, true);
      return left === 0 ? { ok: true } : { ok: false, message: `${r.name}: ${left} snapshot(s) past retention remain` };
    },
    rollback: nothing,
  };
}

/**
 * restic and the password file on the server (`head`), and what reaching each repository
 * takes besides (`channels`, by repository): an SSH key to a repository on another server,
 * the file with a REST repository's credentials; `before(r)`: the steps repository `r`
 * needs first.
 */
export function accessSteps(i: Access): {
  head: Step[];
  channels: Map<string, Step>;
  before: (r: RepoAccess) => string[];
} {
  const head = [installStep(i), passwordStep(i)];
  const channels = new Map<string, Step>();
  for (const r of i.repos) {
    if (r.file?.content) channels.set(r.name, repositoryFileStep(i, r, { path: r.file.path, content: r.file.content }));
    if (!r.channel) continue;
    const { open } = channelSteps({
      ch: r.channel,
      dependsOn: [],
      openId: `${i.stack}/backup/channel/${r.name}`,
      title: `SSH key from ${i.server} to ${r.channel.target.name} for repository ${r.name}`,
    });
    channels.set(r.name, open);
  }
  const before = (r: RepoAccess) => [
    ...head.map((x) => x.id),
    ...(channels.has(r.name) ? [channels.get(r.name)!.id] : []),
  ];
  return { head, channels, before };
}

export function backupSteps(i: BackupPlanInput): Step[] {
  const access = accessSteps(i);
  const steps: Step[] = [...access.head];
  // Runs one after the other: two at once would dump every database twice at once, and the
  // second BGSAVE of a Redis would wait for the first.
  let previous: string | undefined;
  for (const r of i.repos) {
    const channel = access.channels.get(r.name);
    if (channel) steps.push(channel);
    const repo = repoStep(i, r, access.before(r));
    const run = runStep(i, r, previous ? [repo.id, previous] : [repo.id]);
    previous = run.id;
    steps.push(repo, run, retentionStep(i, r, [run.id]));
  }
  // After every repository exists: the runner's first run must find them.
  steps.push(
    scheduleStep({
      ...i,
      dependsOn: steps.filter((s) => s.id.includes('/backup/repository/')).map((s) => s.id),
    }),
  );
  return steps;
}
