/**
 * `ferry recover STACK --to SERVER`: the stack brought back on another server when its own
 * is gone, from an off-site repository. The old server is never contacted. Two runs, and a
 * third with dns.hook, each journaled and resumable (`--resume`):
 *
 *   1. deploy   the stack's current files deployed on SERVER as `ferry apply` would (Docker
 *               installed when missing, the server hardened when ferry.yml says so, the
 *               proxy and TLS), plus restic, the password file and an SSH key to the
 *               repository's server
 *   2. restore  the latest run (or --run) of the repository put into the fresh stack and
 *               proven, as `ferry restore` does
 *   3. dns      with dns.hook, the records of the stack's domains moved to SERVER (read and
 *               judged before run 1: a record the hook cannot move stops the recovery first)
 *
 * The report says how long the recovery took, how old the data is (the data lost), and
 * which DNS records are still to point at the new server.
 */
import { FerryError } from '../core/errors.js';
import { openJournal } from '../journal/journal.js';
import { stateDir } from '../state/dir.js';
import type { RepoAccess } from '../backup/restic.js';
import type { CliIo } from './io.js';
import { backupTarget, repositoryOf, type BackupTarget } from './backup-input.js';
import { serverReady } from './server-ready.js';
import { withSession } from './run-plan.js';
import { renderRestore, restoreIn, type RestoreFlags, type RestoreReport } from './restore.js';
import { dnsLeft, moveDns, recoveryDns, requireMovableDns } from './recover-dns.js';

export interface RecoverFlags extends RestoreFlags {
  to: string;
}

/** A repository's server: its own, or the stack's (undefined in ferry.yml); undefined for a REST server or a bucket, which are none of the fleet. */
function serverOfRepo(b: BackupTarget, name: string): string | undefined {
  const r = b.def.repositories.find((x) => x.name === name);
  return r?.rest || r?.s3 ? undefined : (r?.server ?? b.stack.def.server!);
}

/**
 * The repository to recover from: the one named, or the first on another server than the
 * stack's (which is gone), a REST server's or a bucket included; `recover-no-offsite` when every
 * repository was on it.
 */
export function recoveryRepository(b: BackupTarget, name: string | undefined): RepoAccess {
  const old = b.stack.def.server!;
  if (name) return repositoryOf(b, name);
  const offsite = b.repos.find((r) => serverOfRepo(b, r.name) !== old);
  if (offsite) return offsite;
  if (b.server.name === old && b.repos[0]) return b.repos[0];
  throw new FerryError(
    'recover-no-offsite',
    `every repository of ${b.stack.def.name} is on ${old}, the server being recovered from: none can be read without it`,
    `${b.place}/repositories`,
    'Add a repository on another server (`server: NAME`) and back up into it; or, if that server still answers, name its repository with --repository.',
    2,
  );
}

export interface RecoverReport {
  stack: string;
  from: string;
  to: string;
  /** The whole recovery, from the command's start to the last proof. */
  recovery_ms: number;
  /** How old the restored data was when the recovery ended: what was lost. */
  data_age_ms: number;
  deploy: { changed: number; ok: number; journal_run: string };
  restore: RestoreReport;
  /** The records dns.hook changed (absent without a hook or domains). */
  dns_moved?: { changed: number; journal_run: string };
  /** Per domain, read after the recovery: the record changes still to make by hand. */
  dns: { domain: string; pending: { type: string; from: string[]; to: string[]; ttl: number }[] }[];
}

export function renderRecover(r: RecoverReport, dnsLines: string[]): string {
  const lines = dnsLines.map((l) => `${l}\n`);
  const min = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
  return (
    `${renderRestore(r.restore)}` +
    `recovered ${r.stack} on ${r.to} in ${min(r.recovery_ms)}; the data is ${min(r.data_age_ms)} old (backed up ${r.restore.backed_up_at.slice(0, 19)}Z): writes after that are lost\n` +
    lines.join('') +
    `next: set \`server: ${r.to}\` for ${r.stack} in ferry.yml (until then plan and apply aim at ${r.from}), then \`ferry backup run ${r.stack}\` to back it up from there\n`
  );
}

export function recoverCommand(stack: string, flags: RecoverFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const started = Date.now();
    const b = backupTarget(s, stack, flags.to);
    const repo = recoveryRepository(b, flags.repository);
    const lost = s.loaded.fleet.servers[b.stack.def.server!]!;
    const dnsIn = await recoveryDns(s, stack, lost, b.server);
    await requireMovableDns(dnsIn);
    const journal = openJournal(stateDir(io.env), s.redactor);
    try {
      const deployed = await serverReady(s, b, repo, flags, journal, true);
      if (!deployed) return 0;
      // A restore of an earlier recovery that a kill stopped is resumed; otherwise a new one.
      const unfinished = journal.lastUnfinished((r) =>
        r.command.startsWith(`restore ${stack} server=${b.server.name} `),
      );
      const restore = await restoreIn(
        s,
        stack,
        { ...flags, yes: true, repository: repo.name, resume: flags.resume === true && unfinished !== undefined },
        journal,
        b.server.name,
      );
      const moved = await moveDns(s, dnsIn, journal, flags);
      const left = await dnsLeft(dnsIn);
      const report: RecoverReport = {
        stack,
        from: b.stack.def.server!,
        to: b.server.name,
        recovery_ms: Date.now() - started,
        data_age_ms: Date.now() - Date.parse(restore!.backed_up_at),
        deploy: deployed,
        restore: restore!,
        ...(moved ? { dns_moved: moved } : {}),
        dns: left.map(({ domain, pending }) => ({ domain, pending })),
      };
      io.out(
        flags.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : renderRecover(
              report,
              left.flatMap((d) => d.lines),
            ),
      );
      return 0;
    } finally {
      journal.close();
    }
  });
}
