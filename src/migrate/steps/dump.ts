/**
 * One database moved by dump, in parallel streams straight from the source container
 * through the channel into the target container (parallel-dump.ts). `check` compares
 * both sides: what the restore makes besides rows (relations, constraints, indexes,
 * triggers, functions, sequence values; cheap, so first), then every table's row count
 * and checksum. So a resumed migration skips a finished restore, and redoes a half-done
 * one from a database created anew.
 */
import type { Step, StepContext, StepPlace } from '../../engine/step.js';
import { render, type Command } from '../../shell/command.js';
import { onTarget } from '../channel.js';
import type { Migration } from '../context.js';
import { formatSize } from '../../core/size.js';
import {
  compareSchema,
  DEFAULT_JOBS,
  describeParts,
  DUMP_TABLES_SQL,
  load,
  parseDumpTables,
  postData,
  preData,
  recreateDatabase,
  restDump,
  schemaDump,
  schemaFile,
  SCHEMA_SQL,
  stream,
  streamCount,
  tableDump,
  writeFile,
} from '../dump-commands.js';
import { parallelDump, type DbSide } from '../parallel-dump.js';
import { compareTables, query, tableSums, type Database, type TableReport } from '../postgres.js';
import { readReport, refuseStaleProof } from '../report.js';
import { sourceAt, targetDbReady } from '../db-container.js';

interface Sides {
  source: DbSide;
  target: DbSide;
}

/** Both ends of the move: the step acts on the target and reaches the source. */
async function sides(ctx: StepContext, m: Migration, d: Database): Promise<Sides> {
  const source = ctx.on(m.source.name);
  return {
    source: {
      transport: source,
      sudo: m.source.sudo,
      container: await sourceAt(source, m, d),
    },
    target: {
      transport: ctx.transport,
      sudo: m.target.sudo,
      container: await targetDbReady(ctx.transport, m, d, m.maxPauseMs),
    },
  };
}

/** Schema lines on one side only: cheap, and enough to know that a restore is not complete. */
async function schemaDiff(s: Sides, d: Database, redact: Redact) {
  const [a, b] = await Promise.all(
    [s.source, s.target].map((x) => query(x.transport, x.container, d, SCHEMA_SQL, x.sudo, redact)),
  );
  return compareSchema(a!, b!);
}

/** Every table's rows and checksum on both sides; with `countsOnly`, the rows. */
async function tablesDiff(s: Sides, d: Database, redact: Redact, countsOnly = false) {
  const [a, b] = await Promise.all(
    [s.source, s.target].map((x) => tableSums(x.transport, x.container, d, x.sudo, redact, countsOnly)),
  );
  return compareTables(a!, b!);
}

type Redact = (s: string) => string;

/** What the dump's check saw. */
export interface DumpObserved {
  /**
   * `proven`: the proof is recorded on the target and the source has not changed since;
   * `restored`: both sides already have the same objects and rows; `move`: to be moved.
   */
  state: 'proven' | 'restored' | 'move';
  /** Tables with rows on the source and their bytes (when `move`; else 0). */
  tables: number;
  bytes: number;
}

export interface DumpOptions extends StepPlace {
  m: Migration;
  d: Database;
  jobs?: number;
}

/** The mismatches the restore left, at most five named. */
function restoreProblems(schema: { missing: string[]; extra: string[] }, tables: TableReport[]): string | undefined {
  const problems = [
    ...tables
      .filter((t) => t.rows_source !== t.rows_target)
      .map((t) => `table ${t.name}: ${t.rows_source} rows on the source, ${t.rows_target} on the target`),
    ...schema.missing.map((l) => `missing on the target: ${l}`),
    ...schema.extra.map((l) => `only on the target: ${l}`),
  ];
  if (problems.length === 0) return undefined;
  return problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
}

/**
 * Acts on the target (its database created anew and filled) and reaches the source, where
 * the streams run (only reading it). Rollback leaves both as they are: a new run creates
 * the target's database anew.
 */
export function dumpStep(o: DumpOptions): Step<DumpObserved> {
  const { m, d } = o;
  const jobs = o.jobs ?? DEFAULT_JOBS;
  const via = (remote: Command) => onTarget(m.ch, remote);
  return {
    id: o.id,
    host: m.target.name,
    reaches: [m.source.name],
    phase: 'deploy',
    title: `move database ${d.db} (${d.service}) by dump`,
    dependsOn: o.dependsOn,
    doc: () => {
      const [src, tgt, snap, file] = ['SOURCE_CONTAINER', 'TARGET_CONTAINER', 'SNAPSHOT', schemaFile(d)];
      return {
        purpose: `Copy database ${d.db} of service ${d.service}, writers stopped, directly from ${m.source.name} to ${m.target.name}: ${describeParts(d, jobs)}. The target's Postgres must accept connections within ${m.maxPauseMs / 1000} s (migrate.max_pause).`,
        commands: [
          `(on ${m.target.name}) ${render(recreateDatabase(tgt, d))}`,
          render(stream(schemaDump(src, d, snap), via(writeFile(tgt, file)))),
          `(on ${m.target.name}) ${render(preData(tgt, d, file))}`,
          `${render(stream(tableDump(src, d, snap, [{ pattern: 'TABLE', bytes: 0 }]), via(load(tgt, d))))}  (up to ${jobs} at once, the tables shared among them)`,
          render(stream(restDump(src, d, snap, [{ pattern: 'TABLE', bytes: 0 }]), via(load(tgt, d)))),
          `(on ${m.target.name}) ${render(postData(tgt, d, file, jobs))}`,
        ],
        verify:
          'Relations, constraints, indexes, triggers, functions and sequence values are the same on both sides, and every table has the same row count (migrate/verify then compares every row).',
        undo: 'Nothing on the source (it is only read); a new run creates the target database anew and restores it again.',
      };
    },
    async check(ctx) {
      const redact: Redact = (x) => ctx.redactor.redact(x);
      const saved = await readReport(ctx.transport, m);
      if (saved) {
        await refuseStaleProof(ctx.on(m.source.name), m, saved, redact);
        return { needed: false, observed: { state: 'proven', tables: 0, bytes: 0 } };
      }
      const s = await sides(ctx, m, d);
      const schema = await schemaDiff(s, d, redact);
      if (
        schema.missing.length + schema.extra.length === 0 &&
        (await tablesDiff(s, d, redact)).every((t) => t.checksum_match)
      )
        return { needed: false, observed: { state: 'restored', tables: 0, bytes: 0 } };
      const tables = parseDumpTables(
        await query(s.source.transport, s.source.container, d, DUMP_TABLES_SQL, s.source.sudo, redact),
      );
      const bytes = tables.reduce((n, t) => n + t.bytes, 0);
      return {
        needed: true,
        change: {
          summary: `dump ${d.db}: ${tables.length} tables, ${formatSize(bytes)}, to ${m.target.name} in up to ${streamCount(jobs, tables.length)} streams`,
        },
        observed: { state: 'move', tables: tables.length, bytes },
      };
    },
    async apply(ctx) {
      const s = await sides(ctx, m, d);
      const moved = await parallelDump({
        ...s,
        d,
        jobs,
        through: via,
        where: `${m.source.name} -> ${m.target.name}`,
        redact: (x) => ctx.redactor.redact(x),
      });
      ctx.transferred('databases', moved.bytes);
    },
    // The restore is complete when both sides have the same objects and rows; the proof
    // step (migrate/verify) that follows compares every row's content, and reports it.
    async verify(ctx) {
      const redact: Redact = (x) => ctx.redactor.redact(x);
      const s = await sides(ctx, m, d);
      const [schema, tables] = await Promise.all([schemaDiff(s, d, redact), tablesDiff(s, d, redact, true)]);
      const problems = restoreProblems(schema, tables);
      return problems === undefined ? { ok: true } : { ok: false, message: problems };
    },
    async rollback() {},
  };
}
