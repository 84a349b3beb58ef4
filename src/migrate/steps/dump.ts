/**
 * One database moved by dump, in parallel streams straight from the source container
 * through the channel into the target container (parallel-dump.ts). `check` compares
 * both sides: what the restore makes besides rows (relations, constraints, indexes,
 * triggers, functions, sequence values; cheap, so first), then every table's row count
 * and checksum. So a resumed migration skips a finished restore, and redoes a half-done
 * one from a database created anew.
 */
import type { Step } from '../../engine/step.js';
import { StepError } from '../../engine/errors.js';
import { render, type Command } from '../../shell/command.js';
import { projectContainers } from '../../deploy/containers.js';
import type { Transport } from '../../transport/transport.js';
import { onTarget } from '../channel.js';
import type { Migration, Side } from '../context.js';
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
import { awaitAccepting, compareTables, query, tableSums, type Database } from '../postgres.js';
import { readReport, refuseStaleProof } from './verify.js';

export async function dbContainer(t: Transport, side: Side, project: string, service: string): Promise<string> {
  const c = (await projectContainers(t, project, side.sudo)).find(
    (x) => x.service === service && x.status === 'running',
  );
  if (!c)
    throw new StepError(
      'database-not-running',
      `${side.name}: no running container of ${service} in project ${project}`,
      'Start it (or run migrate again with --resume, which starts what it needs), then try again.',
    );
  return c.name;
}

/** The target's database container, once its Postgres accepts connections: it may have just started for the first time. */
export async function targetDbContainer(m: Migration, d: Database): Promise<string> {
  const t = m.target.transport();
  const c = await dbContainer(t, m.target, m.release.project, d.service);
  await awaitAccepting(t, c, m.target.sudo);
  return c;
}

interface Sides {
  source: DbSide;
  target: DbSide;
}

async function sides(m: Migration, d: Database, source: Transport): Promise<Sides> {
  const target = m.target.transport();
  return {
    source: {
      transport: source,
      sudo: m.source.sudo,
      container: await dbContainer(source, m.source, m.sourceRelease.project, d.service),
    },
    target: { transport: target, sudo: m.target.sudo, container: await targetDbContainer(m, d) },
  };
}

/** Schema lines on one side only: cheap, and enough to know that a restore is not complete. */
async function schemaDiff(s: Sides, d: Database) {
  const [a, b] = await Promise.all(
    [s.source, s.target].map((x) => query(x.transport, x.container, d, SCHEMA_SQL, x.sudo)),
  );
  return compareSchema(a!, b!);
}

/** Every table's rows and checksum on both sides; with `countsOnly`, the rows. */
async function tablesDiff(s: Sides, d: Database, countsOnly = false) {
  const [a, b] = await Promise.all(
    [s.source, s.target].map((x) => tableSums(x.transport, x.container, d, x.sudo, countsOnly)),
  );
  return compareTables(a!, b!);
}

export function dumpStep(o: { id: string; m: Migration; d: Database; dependsOn: string[]; jobs?: number }): Step {
  const { m, d } = o;
  const jobs = o.jobs ?? DEFAULT_JOBS;
  const via = (remote: Command) => onTarget(m.ch, remote);
  return {
    id: o.id,
    host: m.source.name,
    phase: 'deploy',
    title: `move database ${d.db} (${d.service}) by dump`,
    dependsOn: o.dependsOn,
    doc: () => {
      const [src, tgt, snap, file] = ['SOURCE_CONTAINER', 'TARGET_CONTAINER', 'SNAPSHOT', schemaFile(d)];
      return {
        purpose: `Copy database ${d.db} of service ${d.service}, writers stopped, directly from ${m.source.name} to ${m.target.name}: ${describeParts(d, jobs)}.`,
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
      const saved = await readReport(m);
      if (saved) {
        await refuseStaleProof(m, saved);
        return { needed: false };
      }
      const s = await sides(m, d, ctx.transport);
      const schema = await schemaDiff(s, d);
      if (schema.missing.length + schema.extra.length === 0 && (await tablesDiff(s, d)).every((t) => t.checksum_match))
        return { needed: false };
      const tables = parseDumpTables(
        await query(s.source.transport, s.source.container, d, DUMP_TABLES_SQL, s.source.sudo),
      );
      const bytes = tables.reduce((n, t) => n + t.bytes, 0);
      return {
        needed: true,
        change: {
          summary: `dump ${d.db}: ${tables.length} tables, ${formatSize(bytes)}, to ${m.target.name} in up to ${streamCount(jobs, tables.length)} streams`,
        },
      };
    },
    async apply(ctx) {
      const s = await sides(m, d, ctx.transport);
      await parallelDump({
        ...s,
        d,
        jobs,
        through: via,
        where: `${m.source.name} -> ${m.target.name}`,
        redact: (x) => ctx.redactor.redact(x),
      });
    },
    // The restore is complete when both sides have the same objects and rows; the proof
    // step (migrate/verify) that follows compares every row's content, and reports it.
    async verify(ctx) {
      const s = await sides(m, d, ctx.transport);
      const [schema, tables] = await Promise.all([schemaDiff(s, d), tablesDiff(s, d, true)]);
      const problems = [
        ...tables
          .filter((t) => t.rows_source !== t.rows_target)
          .map((t) => `table ${t.name}: ${t.rows_source} rows on the source, ${t.rows_target} on the target`),
        ...schema.missing.map((l) => `missing on the target: ${l}`),
        ...schema.extra.map((l) => `only on the target: ${l}`),
      ];
      if (problems.length === 0) return { ok: true };
      return {
        ok: false,
        message: problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : ''),
      };
    },
    async rollback() {},
  };
}
