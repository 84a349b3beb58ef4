/**
 * `ferry backup drill STACK`: the latest run of a repository restored on the stack's
 * server into scratch containers and a scratch directory, and proven against the run's
 * manifest (every table's rows and checksum, MySQL's too, every key count, every volume's files, bytes
 * and hash). The repository's data is read whole first (`restic check --read-data`), so a
 * damaged pack fails the drill with `backup-corrupt`. Everything it made is removed, also
 * when it fails.
 */
import { randomBytes } from 'node:crypto';
import { StepError } from '../engine/errors.js';
import { volumeManifest } from '../migrate/manifest.js';
import { awaitAccepting, tableSums, type Database } from '../migrate/postgres.js';
import { toolFailure, type Tool } from '../tools/classify.js';
import type { Transport } from '../transport/transport.js';
import type { Redactor } from '../core/redact.js';
import type { Command } from '../shell/command.js';
import {
  checkRdb,
  cleanupDrill,
  drillDir,
  drillLabel,
  drillLeftovers,
  makeDrillDir,
  restorePostgres,
  restoreRdb,
  restoreFiles,
  filesDrillDir,
  scratchName,
  scratchPostgres,
} from './drill-commands.js';
import {
  dataAt,
  filesEntries,
  parseManifest,
  provePostgres,
  proveMysql,
  proveRedis,
  tablesOf,
  proveVolume,
  type BackupManifest,
  type Proof,
} from './manifest.js';
import { checkData, dumpFile, type RepoAccess } from './restic.js';
import { proveMysql as restoreMysql, scratchMysql } from './mysql.js';
import { requireReachable, stackSnapshots, tagOf } from './run.js';

export interface DrillReport {
  stack: string;
  repository: string;
  run: string;
  /** When the backup run began. */
  backed_up_at: string;
  /** How old the data was when the drill ended (ms): the loss window had the server died then. */
  data_age_ms: number;
  duration_ms: number;
  proofs: Proof[];
  ok: boolean;
  /** What the drill could not remove (empty when clean). */
  left: string[];
}

export interface Drill {
  t: Transport;
  stack: string;
  repo: RepoAccess;
  sudo: boolean;
  redactor: Redactor;
}

const LONG = 6 * 60 * 60_000;

async function must(d: Drill, tool: Tool, c: Command, what: string): Promise<string> {
  const r = await d.t.exec(c, { sudo: d.sudo, timeoutMs: LONG });
  const e = toolFailure(tool, r, { host: d.t.name, what, redact: (s) => d.redactor.redact(s) });
  if (e) throw e;
  return r.stdout;
}

/**
 * The manifest of backup run `run` in the repository, or of its latest run with a manifest;
 * `backup-none` when there is none, `backup-run-unknown` when `run` is not a complete run.
 */
export async function manifestOf(d: Drill, run?: string): Promise<BackupManifest> {
  const snaps = (await stackSnapshots(d.t, d.repo, d.sudo, (s) => d.redactor.redact(s))).filter((s) =>
    s.tags?.includes('kind=manifest'),
  );
  const last = run === undefined ? snaps.pop() : snaps.find((s) => tagOf(s, 'run') === run);
  if (!last && run !== undefined)
    throw new StepError(
      'backup-run-unknown',
      `${d.t.name}: repository ${d.repo.name} holds no complete backup run ${run} of ${d.stack}`,
      `Its complete runs, newest last: ${snaps.map((s) => tagOf(s, 'run')).join(', ') || 'none'} (\`ferry backup list ${d.stack}\`).`,
      `host ${d.t.name}`,
    );
  if (!last)
    throw new StepError(
      'backup-none',
      `${d.t.name}: repository ${d.repo.name} (${d.repo.url}) holds no backup of ${d.stack}`,
      `Run \`ferry backup run ${d.stack}\` first.`,
      `host ${d.t.name}`,
    );
  const text = await must(
    d,
    'restic',
    dumpFile(d.repo, last.id, '/manifest.json'),
    `reading the manifest of run ${tagOf(last, 'run') ?? last.id}`,
  );
  return parseManifest(text);
}

export async function drill(d: Drill): Promise<DrillReport> {
  const started = Date.now();
  // restic would retry an endpoint that refuses connections for minutes.
  await requireReachable(d.t, d.repo, d.sudo, (s) => d.redactor.redact(s));
  await must(d, 'restic', checkData(d.repo), `reading every pack of ${d.repo.name} (restic check --read-data)`);
  const m = await manifestOf(d);
  const proofs: Proof[] = [];
  try {
    await must(d, 'docker', cleanupDrill(d.stack), 'removing what an earlier drill left');
    await must(d, 'docker', makeDrillDir(d.stack), `creating ${drillDir(d.stack)}`);
    for (const e of m.postgres) {
      const db: Database = { service: e.service, user: e.user, db: e.db, volumes: [] };
      const name = scratchName(d.stack, e.service);
      const password = randomBytes(18).toString('base64url');
      d.redactor.add(password);
      await must(d, 'docker', scratchPostgres(d.stack, db, e.image, password), `starting scratch Postgres ${name}`);
      await awaitAccepting(d.t, name, d.sudo);
      await must(d, 'psql', restorePostgres(d.repo, e.snapshot, name, db), `restoring ${e.service} into ${name}`);
      proofs.push(...provePostgres(e, await tableSums(d.t, name, db, d.sudo, (s) => d.redactor.redact(s))));
    }
    for (const e of m.mysql) {
      const name = scratchName(d.stack, e.service);
      const password = randomBytes(18).toString('base64url');
      d.redactor.add(password);
      await must(
        d,
        'docker',
        scratchMysql(name, drillLabel(d.stack), e.image, password),
        `starting scratch MySQL ${name}`,
      );
      const out = await must(
        d,
        'mysql',
        restoreMysql(d.repo, e.snapshot, name, e.service, e.databases),
        `restoring ${e.service} into ${name}`,
      );
      proofs.push(...proveMysql(e, tablesOf(out)));
    }
    for (const e of m.redis) {
      await must(d, 'restic', restoreRdb(d.repo, d.stack, e.snapshot, e.service), `restoring the RDB of ${e.service}`);
      const out = await must(d, 'docker', checkRdb(d.stack, e.service, e.image), `checking the RDB of ${e.service}`);
      const keys = /\[info\] (\d+) keys read/.exec(out);
      proofs.push(proveRedis(e, keys ? Number(keys[1]) : undefined));
    }
    for (const [k, { kind, e }] of filesEntries(m).entries()) {
      const sub = `${kind}-${k}`;
      await must(d, 'restic', restoreFiles(d.repo, d.stack, e.snapshot, sub), `restoring ${kind} ${e.name}`);
      const found = await volumeManifest(d.t, `${filesDrillDir(d.stack, sub)}${e.path}`, d.sudo);
      proofs.push(proveVolume(e, found, kind));
    }
  } finally {
    await d.t.exec(cleanupDrill(d.stack), { sudo: d.sudo, timeoutMs: 120_000 });
  }
  const left = (await d.t.exec(drillLeftovers(d.stack), { sudo: d.sudo })).stdout.split('\n').filter(Boolean);
  const ended = Date.now();
  return {
    stack: d.stack,
    repository: d.repo.name,
    run: m.run,
    backed_up_at: dataAt(m),
    data_age_ms: ended - Date.parse(dataAt(m)),
    duration_ms: ended - started,
    proofs,
    ok: proofs.every((p) => p.ok) && left.length === 0,
    left,
  };
}
