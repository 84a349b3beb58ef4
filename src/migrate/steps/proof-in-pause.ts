/**
 * The proof, taken while both sides are still: writers stopped on the source, the stack
 * not yet started on the target (only its databases, just filled). Every table of every
 * database with equal row counts and checksums on both sides, every volume with equal
 * manifests (files, bytes, content hash). Only then does the target start (and its
 * health checks must pass). The report is written on the target
 * (`/srv/ferry/STACK/migration.json`), so that a resumed run does not prove twice.
 */
import { cmd } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext, StepPlace } from '../../engine/step.js';
import type { Migration } from '../context.js';
import { compareTables, tableSums, type Database, type TableReport } from '../postgres.js';
import { verifyVolumes, type VolumeCopy, type VolumeReport } from '../volumes.js';
import { sourceAt, targetAt } from '../db-container.js';
import { readReport, reportPath, SNAPSHOT_WAIT_MS, type SavedReport } from '../report.js';

export interface VerifyOptions extends StepPlace {
  m: Migration;
  /** The volumes' copies, found from the step's context (it reaches the source). */
  copies: (ctx: StepContext) => Promise<VolumeCopy[]>;
  /**
   * Replicate mode: the tables are proven later, from a snapshot the target's database
   * takes here (before the stack starts there), so that reading every row is not part
   * of the pause. `start(ctx)` begins those proofs and resolves once their snapshots hold.
   */
  snapshot?: { start: (ctx: StepContext) => Promise<void> };
}

/** What the proof's check saw: the report it proved (or found recorded), to write on the target. */
export interface VerifyObserved {
  /** Recorded already by an earlier run: nothing to do. */
  recorded: boolean;
  report: SavedReport;
}

/** The mismatches, one phrase each. */
function mismatches(tables: TableReport[], volumes: VolumeReport[]): string[] {
  return [
    ...tables
      .filter((t) => !t.checksum_match)
      .map(
        (t) =>
          `table ${t.name}: ${t.rows_source} rows on the source, ${t.rows_target} on the target, checksums ${t.rows_source === t.rows_target ? 'differ' : 'not compared'}`,
      ),
    ...volumes.filter((v) => !v.manifest_match).map((v) => `volume ${v.name}: manifests differ`),
  ];
}

/** Every table of `d` on both sides: the step acts on the target and reaches the source. */
async function proveTables(ctx: StepContext, m: Migration, d: Database): Promise<TableReport[]> {
  const redact = (x: string) => ctx.redactor.redact(x);
  const source = ctx.on(m.source.name);
  const src = await sourceAt(source, m, d);
  const tgt = await targetAt(ctx.transport, m, d);
  const [a, b] = await Promise.all([
    tableSums(source, src, d, m.source.sudo, redact),
    tableSums(ctx.transport, tgt, d, m.target.sudo, redact),
  ]);
  return compareTables(a, b);
}

/**
 * Acts on the target (the report written there) and reaches the source (read only).
 * Writes the migration's report in `m.marks` (tables, volumes) for the final report.
 */
export function verifyStep(o: VerifyOptions): Step<VerifyObserved> {
  const { m } = o;
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'deploy',
    title: `prove ${m.target.name} holds ${m.stack}'s data as on ${m.source.name}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Prove the move before the target starts: per-table row counts and checksums equal on both sides (${m.databases.map((d) => d.db).join(', ') || 'no database'}), and manifests of every volume equal (${m.volumes.join(', ') || 'no volume'}). Then record the report on ${m.target.name}.`,
      commands: [
        'psql: SELECT count(*), md5(string_agg(md5(row::text) ORDER BY …)) per table, on both sides',
        'find -print0 | sort -z | sha256sum per volume, on both sides',
        ...(o.snapshot
          ? [
              `the tables' snapshot: a REPEATABLE READ transaction per database on ${m.target.name}, held within ${SNAPSHOT_WAIT_MS / 1000} s (else verify-failed)`,
            ]
          : []),
      ],
      verify: `${reportPath(m.stack)} holds the report.`,
      undo: 'The report removed: it only records what was proven.',
    }),
    async check(ctx) {
      const saved = await readReport(ctx.transport, m);
      if (saved) {
        m.marks.tables = saved.tables ?? [];
        m.marks.volumes = saved.volumes;
        return { needed: false, observed: { recorded: true, report: saved } };
      }
      // Both sides, every database and the volumes at once: this runs inside the pause.
      const [perDb, volumes] = await Promise.all([
        Promise.all(o.snapshot ? [] : m.databases.map((d) => proveTables(ctx, m, d))),
        o
          .copies(ctx)
          .then((copies) => verifyVolumes({ ch: m.ch, copies, source: ctx.on(m.source.name), target: ctx.transport })),
      ]);
      const tables = perDb.flat();
      m.marks.tables = tables;
      m.marks.volumes = volumes;
      const problems = mismatches(tables, volumes);
      if (problems.length > 0)
        throw new StepError(
          'verify-failed',
          `${m.stack}: the target does not match the source: ${problems.join('; ')}`,
          `The source keeps its data. Run \`ferry rollback ${m.stack}\` to serve from ${m.source.name} again, or fix the cause and run migrate again with --resume.`,
        );
      const report: SavedReport = {
        from: m.source.name,
        to: m.target.name,
        release: m.release.id,
        at: new Date().toISOString(),
        tables: o.snapshot ? null : tables,
        volumes,
      };
      const what = o.snapshot
        ? `${volumes.length} volumes equal on both sides; the tables proven from a snapshot taken now, once the target serves`
        : `${tables.length} tables and ${volumes.length} volumes equal on both sides`;
      return { needed: true, change: { summary: `${what}; record the report` }, observed: { recorded: false, report } };
    },
    async apply(ctx, observed) {
      await o.snapshot?.start(ctx);
      await ctx.transport.upload(reportPath(m.stack), `${JSON.stringify(observed.report, null, 2)}\n`, {
        mode: 0o600,
        sudo: m.target.sudo,
      });
    },
    async verify(ctx) {
      return (await readReport(ctx.transport, m))
        ? { ok: true }
        : { ok: false, message: `${reportPath(m.stack)} was not written` };
    },
    // Only a step that applied is rolled back: its check found no report, so any there now is its own.
    async rollback(ctx) {
      await ctx.transport.exec(cmd('rm', '-f', reportPath(m.stack)), { sudo: m.target.sudo });
    },
  };
}
