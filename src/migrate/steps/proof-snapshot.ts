/**
 * The tables' proof of a replicated migration, outside the pause. Inside it, before the
 * stack starts on the target, each target database begins a REPEATABLE READ transaction
 * in a process of its own on the target (detached: it outlives Ferry), whose snapshot is
 * the data as the source left it. Reading every row's checksum in that transaction takes
 * what it takes while the target serves; the source, stopped, is read at the same time.
 * Then both are compared and the report completed. A run resumed after a kill picks the
 * proof's output up from the target.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cmd, quiet, render, script, type Command } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext, StepPlace } from '../../engine/step.js';
import { sqlLiteral } from '../../shell/sql.js';
import type { Transport } from '../../transport/transport.js';
import { stackDir } from '../../deploy/layout.js';
import type { Migration } from '../context.js';
import { checksumSql, compareTables, parseSums, query, TABLES_SQL, tableSums, type Database } from '../postgres.js';
import { dbContainer } from '../db-container.js';
import { readReport, reportPath, SNAPSHOT_WAIT_MS } from '../report.js';

const base = (m: Migration, d: Database): string => `${stackDir(m.stack)}/proof-${d.service}`;
export const DONE = 'ferry-proof-done';
const appName = (d: Database): string => `ferry-proof-${d.service}`;

/** The proof's SQL: one transaction, its snapshot taken by the first query. */
export const proofSql = (tables: string[]): string =>
  `BEGIN ISOLATION LEVEL REPEATABLE READ;\nSELECT 'snapshot';\n${checksumSql(tables)}\nCOMMIT;\n`;

/** Detached on the target: psql reading the SQL file, its output to `.out` once complete (with the done line). */
export function proofCommand(container: string, d: Database, path: string): Command {
  const run = render(
    cmd(
      'docker',
      'exec',
      '-i',
      '-e',
      `PGAPPNAME=${appName(d)}`,
      container,
      'psql',
      '-U',
      d.user,
      '-d',
      d.db,
      '-v',
      'ON_ERROR_STOP=1',
      '-q',
      '-At',
      '-F',
      '|',
      '-f',
      '-',
    ),
  );
  const line = `${run} <"$1.sql" >"$1.partial" 2>&1 && echo "$2" >>"$1.partial"; mv "$1.partial" "$1.out"`;
  return script('setsid sh -c "$1" sh "$2" "$3" </dev/null >/dev/null 2>&1 &', line, path, DONE);
}

/** Whether the proof's transaction holds its snapshot. */
const holdsSql = (d: Database): string =>
  `SELECT count(*) FROM pg_stat_activity WHERE application_name = ${sqlLiteral(appName(d))} AND backend_xmin IS NOT NULL`;

/**
 * Whether a proof holds its snapshot, from the count of its session with a snapshot and
 * its output once it ended: a small database may be read to the end before its session
 * is ever seen; the target has not started yet, so that is as good.
 */
export function snapshotState(holds: string, output: string | undefined): 'taken' | 'waiting' | 'failed' {
  if (holds.trim() === '1') return 'taken';
  if (output === undefined) return 'waiting';
  return output.trim().split('\n').pop() === DONE ? 'taken' : 'failed';
}

/** The proof's output file, when it is there (the proof ended). */
async function readOutput(t: Transport, m: Migration, path: string): Promise<string | undefined> {
  const r = await t.exec(quiet(cmd('cat', `${path}.out`)), { sudo: m.target.sudo });
  return r.code === 0 ? r.stdout : undefined;
}

/**
 * Starts every database's proof on the target (`ctx` acts on it); resolves once each holds
 * its snapshot, polled every 50 ms for at most `waitMs` (`SNAPSHOT_WAIT_MS`: this runs in the pause).
 */
export async function startProofs(ctx: StepContext, m: Migration, waitMs = SNAPSHOT_WAIT_MS): Promise<void> {
  const t = ctx.transport;
  const redact = (x: string) => ctx.redactor.redact(x);
  for (const d of m.databases) {
    const tgt = await dbContainer(t, m.target, m.release.project, d.service);
    const tables = (await query(t, tgt, d, TABLES_SQL, m.target.sudo, redact))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const path = base(m, d);
    await t.exec(cmd('rm', '-f', `${path}.out`, `${path}.partial`), { sudo: m.target.sudo });
    await t.upload(`${path}.sql`, proofSql(tables), { mode: 0o600, sudo: m.target.sudo });
    await t.exec(proofCommand(tgt, d, path), { sudo: m.target.sudo });
    const deadline = Date.now() + waitMs;
    for (;;) {
      const holds = await query(t, tgt, d, holdsSql(d), m.target.sudo, redact);
      const ended = await readOutput(t, m, path);
      const state = snapshotState(holds, ended);
      if (state === 'taken') break;
      if (state === 'failed' || Date.now() > deadline)
        throw new StepError(
          'verify-failed',
          `${m.target.name}: the proof of ${d.db} did not take its snapshot: ${redact(ended?.trim().split('\n').pop() || `no answer within ${waitMs / 1000} s`)}`,
          'The target has not started: run migrate again with --resume, or roll back.',
        );
      await sleep(50);
    }
  }
}

/** The proof's output once it is complete (polled every 500 ms, for `timeoutMs`); `proof-lost` when its process is gone without one. */
async function proofOutput(
  ctx: StepContext,
  m: Migration,
  d: Database,
  path: string,
  timeoutMs: number,
): Promise<string> {
  const t = ctx.transport;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await readOutput(t, m, path);
    if (out !== undefined) return out;
    const running =
      (await t.exec(quiet(cmd('pgrep', '-f', `[P]GAPPNAME=${appName(d)} `)), { sudo: m.target.sudo })).code === 0;
    if (!running) {
      const last = await readOutput(t, m, path);
      if (last !== undefined) return last;
    }
    if (!running || Date.now() > deadline)
      throw new StepError(
        'proof-lost',
        `${m.target.name}: the proof of ${d.db} ${running ? `did not end within ${Math.round(timeoutMs / 1000)} s` : 'stopped without a result'}`,
        `The snapshot of the cut-over is gone, so the tables cannot be proven any more. Compare by hand, or \`ferry rollback ${m.stack}\` and migrate again.`,
      );
    await sleep(500);
  }
}

/** How long the proof may read the target's snapshot unless told: it runs while the target serves. */
export const PROOF_TIMEOUT_MS = 6 * 60 * 60_000;

export interface ProofOptions extends StepPlace {
  m: Migration;
  timeoutMs?: number;
}

/** What the proof's check saw: whether the report on the target already holds the tables' proof. */
export interface ProofObserved {
  proven: boolean;
  /** The databases whose proofs the step reads (when not proven). */
  databases: string[];
}

/** The tables of `d`: the source's read now, the target's from its proof's output. */
async function compareDatabase(ctx: StepContext, m: Migration, d: Database, timeoutMs: number) {
  const source = ctx.on(m.source.name);
  const src = await dbContainer(source, m.source, m.sourceRelease.project, d.service);
  const [out, sums] = await Promise.all([
    proofOutput(ctx, m, d, base(m, d), timeoutMs),
    tableSums(source, src, d, m.source.sudo, (x) => ctx.redactor.redact(x)),
  ]);
  const lines = out.trim().split('\n');
  if (lines.pop() !== DONE)
    throw new StepError(
      'verify-failed',
      `${m.target.name}: the proof of ${d.db} failed: ${ctx.redactor.redact(lines.slice(-2).join(' / '))}`,
      `Read the error; \`ferry rollback ${m.stack}\` serves from the source again.`,
    );
  return compareTables(sums, parseSums(lines.filter((l) => l !== 'snapshot').join('\n')));
}

/**
 * Acts on the target (its report completed, the proof's files removed) and reaches the
 * source (read only). Writes the tables' reports in `m.marks.tables` for the final report.
 */
export function proofStep(o: ProofOptions): Step<ProofObserved> {
  const { m } = o;
  const timeoutMs = o.timeoutMs ?? PROOF_TIMEOUT_MS;
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'verify',
    title: `prove ${m.target.name}'s tables equal ${m.source.name}'s, from the snapshot of the cut-over`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Compare every table's row count and checksum read on ${m.source.name} (stopped) with those read on ${m.target.name} in the snapshot its database took before the stack started there; complete the report. The proof's output is awaited for at most ${Math.round(timeoutMs / 60_000)} min (proof-lost after that, or at once when its process is gone without one).`,
      commands: [
        render(
          proofCommand(
            'TARGET_DB',
            m.databases[0] ?? { service: 'db', user: 'USER', db: 'DB', volumes: [] },
            `${stackDir(m.stack)}/proof-SERVICE`,
          ),
        ),
      ],
      verify: `${reportPath(m.stack)} holds every table, equal.`,
      undo: 'Nothing: reading changes nothing. When tables differ, `ferry rollback` serves from the source again.',
    }),
    async check(ctx) {
      const saved = await readReport(ctx.transport, m);
      if (saved && saved.tables !== null) {
        m.marks.tables = saved.tables;
        return { needed: false, observed: { proven: true, databases: [] } };
      }
      return {
        needed: true,
        change: {
          summary: `compare ${m.databases.map((d) => d.db).join(', ')}: the source now, the target as at the cut-over`,
        },
        observed: { proven: false, databases: m.databases.map((d) => d.service) },
      };
    },
    async apply(ctx) {
      const saved = await readReport(ctx.transport, m);
      if (!saved)
        throw new StepError(
          'verify-failed',
          `${m.target.name}: ${reportPath(m.stack)} is missing`,
          'Run migrate again with --resume.',
        );
      const tables = [];
      for (const d of m.databases) tables.push(...(await compareDatabase(ctx, m, d, timeoutMs)));
      m.marks.tables = tables;
      const bad = tables.filter((t) => !t.checksum_match);
      if (bad.length > 0)
        throw new StepError(
          'verify-failed',
          `${m.stack}: tables differ between ${m.source.name} and ${m.target.name} as at the cut-over: ${bad.map((t) => `${t.name} (${t.rows_source} vs ${t.rows_target} rows)`).join(', ')}`,
          `The source keeps its data, stopped: \`ferry rollback ${m.stack}\` serves from it again (writes made on the target since are not carried back).`,
        );
      await ctx.transport.upload(reportPath(m.stack), `${JSON.stringify({ ...saved, tables }, null, 2)}\n`, {
        mode: 0o600,
        sudo: m.target.sudo,
      });
      await ctx.transport.exec(
        cmd('rm', '-f', ...m.databases.flatMap((d) => [`${base(m, d)}.sql`, `${base(m, d)}.out`])),
        { sudo: m.target.sudo },
      );
    },
    // Apply writes the tables only when every one matched.
    async verify(ctx) {
      const saved = await readReport(ctx.transport, m);
      return saved?.tables && saved.tables.every((t) => t.checksum_match)
        ? { ok: true }
        : { ok: false, message: 'the report holds no proof of the tables' };
    },
    async rollback() {},
  };
}
