/**
 * One database moved by dump, in parallel streams straight from the source container
 * through the channel into the target container (parallel-dump.ts). `check` compares
 * both sides: every table's row count and checksum, and what the restore makes besides
 * rows (relations, constraints, indexes, triggers, functions, sequence values). So a
 * resumed migration skips a finished restore, and redoes a half-done one from a
 * database created anew.
 */
import type { Step } from '../../engine/step.js';
import { StepError } from '../../engine/errors.js';
import { render } from '../../shell/command.js';
import { projectContainers } from '../../deploy/containers.js';
import type { Transport } from '../../transport/transport.js';
import { onTarget } from '../channel.js';
import type { Migration, Side } from '../context.js';
import {
  compareSchema, DEFAULT_JOBS, describeParts, load, postData, preData, recreateDatabase, restDump, schemaDump, schemaFile, SCHEMA_SQL, stream, tableDump, writeFile,
} from '../dump-commands.js';
import { parallelDump } from '../parallel-dump.js';
import { compareTables, query, tableSums, type Database } from '../postgres.js';
import { readReport } from './verify.js';

export async function dbContainer(t: Transport, side: Side, project: string, service: string): Promise<string> {
  const c = (await projectContainers(t, project, side.sudo)).find((x) => x.service === service && x.status === 'running');
  if (!c) throw new StepError('database-not-running', `${side.name}: no running container of ${service} in project ${project}`, 'Start it (or run migrate again with --resume, which starts what it needs), then try again.');
  return c.name;
}

/** Both sides of one database: containers, tables compared, and schema lines only on one side. */
async function compare(m: Migration, d: Database, source: Transport) {
  const target = m.target.transport();
  const src = await dbContainer(source, m.source, m.sourceRelease.project, d.service);
  const tgt = await dbContainer(target, m.target, m.release.project, d.service);
  const [a, b, sa, sb] = await Promise.all([
    tableSums(source, src, d, m.source.sudo), tableSums(target, tgt, d, m.target.sudo),
    query(source, src, d, SCHEMA_SQL, m.source.sudo), query(target, tgt, d, SCHEMA_SQL, m.target.sudo),
  ]);
  const tables = compareTables(a, b);
  const schema = compareSchema(sa, sb);
  return { src, tgt, tables, schema, equal: tables.every((t) => t.checksum_match) && schema.missing.length + schema.extra.length === 0 };
}

export function dumpStep(o: { id: string; m: Migration; d: Database; dependsOn: string[]; jobs?: number }): Step {
  const { m, d } = o;
  const jobs = o.jobs ?? DEFAULT_JOBS;
  const via = (remote: Parameters<typeof onTarget>[1]) => onTarget(m.ch, remote);
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
          `${render(stream(tableDump(src, d, snap, { pattern: 'TABLE', bytes: 0 }), via(load(tgt, d))))}  (per table, up to ${jobs} at once)`,
          render(stream(restDump(src, d, snap, [{ pattern: 'TABLE', bytes: 0 }]), via(load(tgt, d)))),
          `(on ${m.target.name}) ${render(postData(tgt, d, file, jobs))}`,
        ],
        verify: 'Every table has the same row count and the same checksum of its rows on both sides; relations, constraints, indexes, triggers, functions and sequence values are the same.',
        undo: 'Nothing on the source (it is only read); a new run creates the target database anew and restores it again.',
      };
    },
    async check(ctx) {
      if (await readReport(m)) return { needed: false };
      const { tables, equal } = await compare(m, d, ctx.transport);
      if (equal) return { needed: false };
      const copy = tables.filter((t) => t.rows_source >= 0);
      const rows = copy.reduce((s, t) => s + t.rows_source, 0);
      return { needed: true, change: { summary: `dump ${d.db}: ${copy.length} tables, ${rows} rows, to ${m.target.name} in up to ${jobs} streams` } };
    },
    async apply(ctx) {
      const src = await dbContainer(ctx.transport, m.source, m.sourceRelease.project, d.service);
      const target = m.target.transport();
      const tgt = await dbContainer(target, m.target, m.release.project, d.service);
      await parallelDump({
        d, jobs, through: via, where: `${m.source.name} -> ${m.target.name}`, redact: (s) => ctx.redactor.redact(s),
        source: { transport: ctx.transport, sudo: m.source.sudo, container: src },
        target: { transport: target, sudo: m.target.sudo, container: tgt },
      });
    },
    async verify(ctx) {
      const { tables, schema, equal } = await compare(m, d, ctx.transport);
      m.marks.tables = [...m.marks.tables.filter((t) => !tables.some((x) => x.name === t.name)), ...tables];
      if (equal) return { ok: true };
      const bad = tables.filter((t) => !t.checksum_match).map((t) => `${t.name} (${t.rows_source} vs ${t.rows_target} rows)`);
      const objects = [...schema.missing.map((l) => `missing on the target: ${l}`), ...schema.extra.map((l) => `only on the target: ${l}`)];
      return { ok: false, message: [bad.length ? `tables differ: ${bad.join(', ')}` : '', objects.slice(0, 5).join('; ') + (objects.length > 5 ? `; and ${objects.length - 5} more` : '')].filter(Boolean).join('; ') };
    },
    async rollback() {},
  };
}
