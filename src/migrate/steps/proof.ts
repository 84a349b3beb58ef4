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
import type { Step, StepContext } from '../../engine/step.js';
import { stackDir } from '../../deploy/layout.js';
import type { Migration } from '../context.js';
import { checksumSql, compareTables, parseSums, psql, TABLES_SQL, tableSums, type Database } from '../postgres.js';
import { dbContainer } from './dump.js';
import { readReport, reportPath } from './verify.js';

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
  `SELECT count(*) FROM pg_stat_activity WHERE application_name = '${appName(d)}' AND backend_xmin IS NOT NULL`;

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

/** Starts every database's proof on the target; resolves once each holds its snapshot. */
export async function startProofs(ctx: StepContext, m: Migration): Promise<void> {
  for (const d of m.databases) {
    const tgt = await dbContainer(ctx.transport, m.target, m.release.project, d.service);
    const tables = (await ctx.transport.exec(psql(tgt, d, TABLES_SQL), { sudo: m.target.sudo })).stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const path = base(m, d);
    await ctx.transport.exec(cmd('rm', '-f', `${path}.out`, `${path}.partial`), { sudo: m.target.sudo });
    await ctx.transport.upload(`${path}.sql`, proofSql(tables), { mode: 0o600, sudo: m.target.sudo });
    await ctx.transport.exec(proofCommand(tgt, d, path), { sudo: m.target.sudo });
    const deadline = Date.now() + 60_000;
    for (;;) {
      const holds = (await ctx.transport.exec(psql(tgt, d, holdsSql(d)), { sudo: m.target.sudo })).stdout;
      const ended = await ctx.transport.exec(quiet(cmd('cat', `${path}.out`)), { sudo: m.target.sudo });
      const state = snapshotState(holds, ended.code === 0 ? ended.stdout : undefined);
      if (state === 'taken') break;
      if (state === 'failed' || Date.now() > deadline)
        throw new StepError(
          'verify-failed',
          `${m.target.name}: the proof of ${d.db} did not take its snapshot: ${ctx.redactor.redact(ended.stdout.trim().split('\n').pop() || 'no answer within 60 s')}`,
          'The target has not started: run migrate again with --resume, or roll back.',
        );
      await sleep(50);
    }
  }
}

/** The proof's output once it is complete; `proof-lost` when its process is gone without one. */
async function proofOutput(
  ctx: StepContext,
  m: Migration,
  d: Database,
  path: string,
  timeoutMs: number,
): Promise<string> {
  const read = async () => {
    const r = await ctx.transport.exec(quiet(cmd('cat', `${path}.out`)), { sudo: m.target.sudo });
    return r.code === 0 ? r.stdout : undefined;
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await read();
    if (out !== undefined) return out;
    const running =
      (await ctx.transport.exec(quiet(cmd('pgrep', '-f', `[P]GAPPNAME=${appName(d)} `)), { sudo: m.target.sudo }))
        .code === 0;
    if (!running) {
      const last = await read();
      if (last !== undefined) return last;
    }
    if (!running || Date.now() > deadline)
      throw new StepError(
        'proof-lost',
        `${m.target.name}: the proof of ${d.db} ${running ? 'did not end in time' : 'stopped without a result'}`,
        `The snapshot of the cut-over is gone, so the tables cannot be proven any more. Compare by hand, or \`ferry rollback ${m.stack}\` and migrate again.`,
      );
    await sleep(500);
  }
}

export function proofStep(o: { id: string; m: Migration; dependsOn: string[]; timeoutMs?: number }): Step {
  const { m } = o;
  let proven = false;
  return {
    id: o.id,
    host: m.target.name,
    phase: 'verify',
    title: `prove ${m.target.name}'s tables equal ${m.source.name}'s, from the snapshot of the cut-over`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Compare every table's row count and checksum read on ${m.source.name} (stopped) with those read on ${m.target.name} in the snapshot its database took before the stack started there; complete the report.`,
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
    async check() {
      const saved = await readReport(m);
      if (saved && saved.tables !== null) {
        m.marks.tables = saved.tables;
        return { needed: false };
      }
      return {
        needed: true,
        change: {
          summary: `compare ${m.databases.map((d) => d.db).join(', ')}: the source now, the target as at the cut-over`,
        },
      };
    },
    async apply(ctx) {
      const saved = await readReport(m);
      if (!saved)
        throw new StepError(
          'verify-failed',
          `${m.target.name}: ${reportPath(m.stack)} is missing`,
          'Run migrate again with --resume.',
        );
      const tables = [];
      for (const d of m.databases) {
        const path = base(m, d);
        const src = await dbContainer(m.source.transport(), m.source, m.sourceRelease.project, d.service);
        const [out, source] = await Promise.all([
          proofOutput(ctx, m, d, path, o.timeoutMs ?? 6 * 60 * 60_000),
          tableSums(m.source.transport(), src, d, m.source.sudo),
        ]);
        const lines = out.trim().split('\n');
        if (lines.pop() !== DONE)
          throw new StepError(
            'verify-failed',
            `${m.target.name}: the proof of ${d.db} failed: ${ctx.redactor.redact(lines.slice(-2).join(' / '))}`,
            `Read the error; \`ferry rollback ${m.stack}\` serves from the source again.`,
          );
        tables.push(...compareTables(source, parseSums(lines.filter((l) => l !== 'snapshot').join('\n'))));
      }
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
      proven = true;
    },
    async verify() {
      const saved = await readReport(m);
      return saved?.tables && (proven || saved.tables.every((t) => t.checksum_match))
        ? { ok: true }
        : { ok: false, message: 'the report holds no proof of the tables' };
    },
    async rollback() {},
  };
}
