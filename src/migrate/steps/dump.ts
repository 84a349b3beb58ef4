/**
 * One database moved by dump: `pg_dump` in the source container, streamed through the
 * channel into `pg_restore` in the target container. `check` compares per-table row
 * counts and checksums on both sides, so a resumed migration does not restore twice.
 */
import type { Step, StepContext } from '../../engine/step.js';
import { StepError } from '../../engine/errors.js';
import { render } from '../../shell/command.js';
import { projectContainers } from '../../deploy/containers.js';
import type { Transport } from '../../transport/transport.js';
import { onTarget } from '../channel.js';
import type { Migration, Side } from '../context.js';
import { compareTables, describeDump, dumpRestoreCommand, restoreCommand, tableSums, type Database } from '../postgres.js';
import { readReport } from './verify.js';

export async function dbContainer(t: Transport, side: Side, project: string, service: string): Promise<string> {
  const c = (await projectContainers(t, project, side.sudo)).find((x) => x.service === service && x.status === 'running');
  if (!c) throw new StepError('database-not-running', `${side.name}: no running container of ${service} in project ${project}`, 'Start it (or run migrate again with --resume, which starts what it needs), then try again.');
  return c.name;
}

export function dumpStep(o: { id: string; m: Migration; d: Database; dependsOn: string[] }): Step {
  const { m, d } = o;
  const compare = async (ctx: StepContext) => {
    const src = await dbContainer(ctx.transport, m.source, m.sourceRelease.project, d.service);
    const tgt = await dbContainer(m.target.transport(), m.target, m.release.project, d.service);
    const [a, b] = await Promise.all([tableSums(ctx.transport, src, d, m.source.sudo), tableSums(m.target.transport(), tgt, d, m.target.sudo)]);
    return { src, tgt, tables: compareTables(a, b) };
  };
  return {
    id: o.id,
    host: m.source.name,
    phase: 'deploy',
    title: `move database ${d.db} (${d.service}) by dump`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Copy database ${d.db} of service ${d.service}, writers stopped: ${describeDump(d)}, directly from ${m.source.name} to ${m.target.name}.`,
      commands: [render(dumpRestoreCommand('SOURCE_CONTAINER', onTarget(m.ch, restoreCommand('TARGET_CONTAINER', d)), d))],
      verify: 'Every table has the same row count and the same checksum of its rows on both sides.',
      undo: 'Nothing on the source (it is only read); the target database is restored again by a new run.',
    }),
    async check(ctx) {
      if (await readReport(m)) return { needed: false };
      const { tables } = await compare(ctx);
      if (tables.length > 0 && tables.every((t) => t.checksum_match)) return { needed: false };
      const rows = tables.reduce((s, t) => s + Math.max(0, t.rows_source), 0);
      return { needed: true, change: { summary: `dump ${d.db}: ${tables.filter((t) => t.rows_source >= 0).length} tables, ${rows} rows, to ${m.target.name}` } };
    },
    async apply(ctx) {
      const src = await dbContainer(ctx.transport, m.source, m.sourceRelease.project, d.service);
      const tgt = await dbContainer(m.target.transport(), m.target, m.release.project, d.service);
      const r = await ctx.transport.exec(dumpRestoreCommand(src, onTarget(m.ch, restoreCommand(tgt, d)), d), { sudo: m.source.sudo, timeoutMs: 6 * 60 * 60_000 });
      if (r.code !== 0) {
        const tail = ctx.redactor.redact(r.stderr.trim().split('\n').slice(-3).join(' / '));
        throw new StepError(/No space left/i.test(r.stderr) ? 'no-space' : 'dump-failed', `${m.source.name} -> ${m.target.name}: moving database ${d.db} failed: ${tail}`, 'The source database was only read and is intact; fix the cause (disk, versions), then run migrate again with --resume.');
      }
    },
    async verify(ctx) {
      const { tables } = await compare(ctx);
      m.marks.tables = [...m.marks.tables.filter((t) => !tables.some((x) => x.name === t.name)), ...tables];
      const bad = tables.filter((t) => !t.checksum_match);
      return bad.length === 0 ? { ok: true } : { ok: false, message: `tables differ: ${bad.map((t) => `${t.name} (${t.rows_source} vs ${t.rows_target} rows)`).join(', ')}` };
    },
    async rollback() {},
  };
}
