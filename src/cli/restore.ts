/**
 * `ferry restore STACK [--run ID] [--repository NAME]`: a backup run put back into the
 * stack on its server, as a plan like every other (previewed, confirmed, locked, journaled,
 * resumable), ending with the proof: every table's rows and checksum, every key count and
 * every volume's files, read from the live stack. Only the sources whose live data differs
 * from the run are restored; when none differs, nothing is changed and it says so.
 */
import { mysqlFiles } from '../backup/mysql-restore.js';
import { randomBytes } from 'node:crypto';
import { FerryError, UsageError } from '../core/errors.js';
import { makePlan, type Plan } from '../engine/plan.js';
import { openJournal, type Journal, type RunRecord } from '../journal/journal.js';
import { preview } from '../plans/preview.js';
import { renderPlanTable } from '../render/plan.js';
import { stateDir } from '../state/dir.js';
import { currentRelease } from '../deploy/release-meta.js';
import { manifestOf } from '../backup/drill.js';
import { dataAt, proofLines, type BackupManifest, type Proof } from '../backup/manifest.js';
import { differing, liveProofs, sourceKey, type Live, type SourceRef } from '../backup/restore-live.js';
import { restoreSteps, type RestoreInput } from '../backup/restore-steps.js';
import { beforeDb, volumeBefore } from '../backup/restore-commands.js';
import type { CliIo } from './io.js';
import { confirm, declined, execute, runFailure, withSession, type ApplyFlags } from './run-plan.js';
import type { Session } from './session.js';
import { backupTarget, readPassword, repositoryOf, type BackupTarget } from './backup-input.js';
import { serverReady } from './server-ready.js';

export interface RestoreFlags extends ApplyFlags {
  /** Another server of the fleet where the stack is deployed: restored there. */
  to?: string;
  run?: string;
  repository?: string;
  dryRun?: boolean;
}

/** What a restore run is, written in its journal command so that `--resume` finds it again. */
interface Identity {
  /** The server restored into (the stack's, or a new one by `ferry recover`). */
  server: string;
  run: string;
  id: string;
  repository: string;
  sources: SourceRef[];
}

const commandOf = (stack: string, x: Identity): string =>
  `restore ${stack} server=${x.server} run=${x.run} id=${x.id} repository=${x.repository} sources=${x.sources.map((s) => `${s.kind}:${s.name}`).join(',')}`;

export function identityOf(command: string): Identity | undefined {
  const field = (k: string) => new RegExp(`(?:^| )${k}=(\\S*)`).exec(command)?.[1];
  const [server, run, id, repository, sources] = ['server', 'run', 'id', 'repository', 'sources'].map(field);
  if (!server || !run || !id || !repository || sources === undefined) return undefined;
  return {
    server,
    run,
    id,
    repository,
    sources: sources
      .split(',')
      .filter(Boolean)
      .map((s) => ({ kind: s.slice(0, s.indexOf(':')) as SourceRef['kind'], name: s.slice(s.indexOf(':') + 1) })),
  };
}

/** The restore of `stack` a kill stopped, when --resume asks for it. */
function interrupted(journal: Journal, stack: string, flags: RestoreFlags, s: Session): RunRecord | undefined {
  if (!flags.resume) return undefined;
  const r = journal.lastUnfinished((x) => x.command.startsWith(`restore ${stack} `));
  if (!r)
    throw new FerryError(
      'nothing-to-resume',
      `no restore of ${stack} was stopped before its end`,
      '--resume',
      `\`ferry runs\` lists the runs; run \`ferry restore ${stack}\` without --resume to restore.`,
      2,
    );
  if (!flags.json) s.io.err(`resuming the restore ${r.id} (${r.command})\n`);
  return r;
}

/** The live data already matches the run: its proofs. */
interface Same {
  same: Proof[];
  manifest: BackupManifest;
  repository: string;
  server: string;
}

interface Prepared {
  b: BackupTarget;
  input: RestoreInput;
  command: string;
  resumes?: string;
}

async function prepare(
  s: Session,
  stack: string,
  flags: RestoreFlags,
  journal: Journal,
  on?: string,
): Promise<Prepared | Same> {
  const resumed = interrupted(journal, stack, flags, s);
  const was = resumed ? identityOf(resumed.command) : undefined;
  const b = backupTarget(s, stack, was?.server ?? on);
  // Only checked: restic on the server reads its own copy, but a restore whose password is
  // not set here stops before anything is read (`backup-password-unreadable`).
  readPassword(s, b.def.password!, stack);
  const repo = repositoryOf(b, was?.repository ?? flags.repository);
  const sudo = b.server.sudo === true;
  const t = s.transports(b.server.name);
  const manifest = await manifestOf({ t, stack, repo, sudo, redactor: s.redactor }, was?.run ?? flags.run);
  const { meta } = await currentRelease(t, stack, sudo);
  if (!meta)
    throw new FerryError(
      'restore-not-deployed',
      `stack ${stack} is not deployed on ${b.server.name}: there is nothing to restore into`,
      `host ${b.server.name}`,
      `Deploy it first (\`ferry apply ${stack}\`), then restore.`,
    );
  const dockerVolume = (name: string) =>
    b.sources.volumes.find((v) => v.name === name)?.docker ?? `${meta.project}_${name}`;
  const live: Live = { t, sudo, redactor: s.redactor, project: meta.project, dockerVolume };
  let sources = was?.sources;
  if (!sources) {
    const proofs = await liveProofs(live, manifest);
    sources = differing(manifest, proofs);
    if (sources.length === 0) return { same: proofs, manifest, repository: repo.name, server: b.server.name };
  }
  const x: Identity = {
    server: b.server.name,
    run: manifest.run,
    id: was?.id ?? randomBytes(3).toString('hex'),
    repository: repo.name,
    sources,
  };
  const input: RestoreInput = {
    stack,
    server: b.server.name,
    sudo,
    id: x.id,
    repo,
    manifest,
    sources,
    release: meta,
    dockerVolume,
    proofs: [],
  };
  return { b, input, command: commandOf(stack, x), ...(resumed ? { resumes: resumed.id } : {}) };
}

/** Where the stack's data from before the restore is kept, one line per source. */
export function keptCopies(i: Pick<RestoreInput, 'stack' | 'manifest' | 'sources' | 'id'>): string[] {
  return i.sources.map((s) => {
    if (s.kind === 'mysql') return `mysql ${s.name}: dump ${mysqlFiles(i.stack, i.id, s.name).before}`;
    if (s.kind === 'postgres') {
      const e = i.manifest.postgres.find((x) => x.service === s.name)!;
      return `postgres ${s.name}: database ${beforeDb(e.db, i.id)}`;
    }
    if (s.kind === 'redis') return `redis ${s.name}: directory .ferry-before-${i.id} in its data directory`;
    if (s.kind === 'path') {
      const e = i.manifest.paths.find((x) => x.name === s.name)!;
      return `path ${s.name}: directory ${volumeBefore(e.path, i.id)}`;
    }
    return `volume ${s.name}: directory ferry-before-${i.id} beside the volume's _data`;
  });
}

const ageMin = (m: BackupManifest): number => Math.round((Date.now() - Date.parse(dataAt(m))) / 60_000);

async function confirmed(s: Session, flags: RestoreFlags, p: Prepared): Promise<void> {
  if (flags.yes) return;
  if (!(flags.interactive ?? process.stdin.isTTY))
    throw new UsageError(
      'restore replaces live data and needs a confirmation, but no one can answer here (stdin is not a terminal)',
      'Read the plan (--dry-run), then pass --yes.',
      '--yes',
    );
  const m = p.input.manifest;
  if (
    !(await confirm(
      `replace ${p.input.sources.map(sourceKey).join(', ')} of ${p.input.stack} with run ${m.run} (${ageMin(m)} min old)? what is live now is kept aside [y/N] `,
    ))
  )
    throw declined(`the restore of ${p.input.stack}`);
}

export interface RestoreReport {
  stack: string;
  server: string;
  run: string;
  repository: string;
  backed_up_at: string;
  /** Empty when the live data already matched the run. */
  restored: string[];
  kept: string[];
  proofs: Proof[];
  duration_ms: number;
  journal_run?: string;
}

/**
 * A restore of `stack` on its server (or on `on`), from preview to proof: the report, or
 * the proofs that the live data already matches (nothing restored). `--dry-run`: the plan
 * printed, undefined returned.
 */
export async function restoreIn(
  s: Session,
  stack: string,
  flags: RestoreFlags,
  journal: Journal,
  on?: string,
): Promise<RestoreReport | undefined> {
  const started = Date.now();
  const p = await prepare(s, stack, flags, journal, on);
  if ('same' in p)
    return {
      stack,
      server: p.server,
      run: p.manifest.run,
      repository: p.repository,
      backed_up_at: dataAt(p.manifest),
      restored: [],
      kept: [],
      proofs: p.same,
      duration_ms: Date.now() - started,
    };
  const plan = makePlan(restoreSteps(p.input, p.b.stack.def.deploy.healthTimeoutMs));
  const pv = await preview(plan, s.transports, s.redactor);
  if (!flags.json || flags.dryRun) s.io.out(flags.json ? `${JSON.stringify(pv, null, 2)}\n` : renderPlanTable(pv));
  if (flags.dryRun) return undefined;
  await confirmed(s, flags, p);
  const runId = await run(s, flags, journal, p, plan);
  const i = p.input;
  return {
    stack,
    server: i.server,
    run: i.manifest.run,
    repository: i.repo.name,
    backed_up_at: dataAt(i.manifest),
    restored: i.sources.map(sourceKey),
    kept: keptCopies(i),
    proofs: i.proofs,
    duration_ms: Date.now() - started,
    journal_run: runId,
  };
}

export function renderRestore(r: RestoreReport): string {
  if (r.restored.length === 0)
    return `${proofLines(r.proofs)}${r.stack} already holds the data of this run: nothing to restore\n`;
  const age = Math.round((Date.now() - Date.parse(r.backed_up_at)) / 60_000);
  return (
    `${proofLines(r.proofs)}restored ${r.restored.join(', ')} of ${r.stack} on ${r.server} from run ${r.run} ` +
    `(backed up ${r.backed_up_at.slice(0, 19)}Z, ${age} min ago): every row, key and file proven\n` +
    `what was live before is kept (remove it when no longer needed):\n${r.kept.map((k) => `  ${k}\n`).join('')}`
  );
}

export function restoreCommand(stack: string, flags: RestoreFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const journal = openJournal(stateDir(io.env), s.redactor);
    try {
      // Into the stack deployed on another server: that server reads the repository first.
      const b = flags.to ? backupTarget(s, stack, flags.to) : undefined;
      let asked = flags;
      if (b && b.server.name !== b.stack.def.server) {
        const ready = await serverReady(s, b, repositoryOf(b, flags.repository), flags, journal, false);
        if (!ready) return 0;
        const unfinished = journal.lastUnfinished((x) =>
          x.command.startsWith(`restore ${stack} server=${b.server.name} `),
        );
        asked = { ...flags, resume: flags.resume === true && unfinished !== undefined };
      }
      const r = await restoreIn(s, stack, asked, journal, flags.to);
      if (r) io.out(flags.json ? `${JSON.stringify(r, null, 2)}\n` : renderRestore(r));
      return 0;
    } finally {
      journal.close();
    }
  });
}

/** The restore's plan executed; its journal run, or the first failure's error. */
async function run(s: Session, flags: RestoreFlags, journal: Journal, p: Prepared, plan: Plan): Promise<string> {
  const summary = await execute(
    s,
    { plan, targets: [{ stack: p.b.stack, server: p.b.server }] },
    p.command,
    flags.json ? { json: true, noSummary: true } : {},
    journal,
    p.resumes ? { resume: p.resumes } : {},
  );
  const i = p.input;
  if (summary.failed > 0)
    throw runFailure(
      summary,
      'restore-failed',
      `host ${i.server}`,
      (why) =>
        `the restore of ${i.stack} from run ${i.manifest.run} failed: ${why ?? 'see the run'}; what it changed was undone`,
      `\`ferry runs show ${summary.runId}\` has the whole run.`,
    );
  return summary.runId;
}
