/**
 * `ferry migrate STACK --to SERVER`: moves a deployed stack with its data to another
 * server, as a plan (shown, approved) applied with the journal, both servers' locks and
 * resume. Ends with the report: downtime, bytes, duration, and what was verified.
 */
import { UsageError } from '../core/errors.js';
import { makePlan } from '../engine/plan.js';
import { openJournal } from '../journal/journal.js';
import { selectTargets } from '../apply/build.js';
import { preview } from '../apply/preview.js';
import { countChanges, renderPlanTable, renderRunbook } from '../render/plan.js';
import { stateDir } from '../state/dir.js';
import { cmd, quiet } from '../shell/command.js';
import { currentRelease } from '../deploy/release-meta.js';
import { migratePlan } from '../migrate/plan.js';
import { report, type MigrationReport } from '../migrate/context.js';
import { markerPath } from '../migrate/steps/switch.js';
import { retireSteps } from '../migrate/retire.js';
import type { Endpoint } from '../migrate/channel.js';
import { endpoint } from './endpoint.js';
import { table } from '../render/table.js';
import { renderFindings } from '../render/findings.js';
import { dnsReportLines } from '../migrate/dns-judge.js';
import { dnsPreflight } from '../migrate/dns-preflight.js';
import { serverAddresses } from '../migrate/dns.js';
import { formatSize } from '../core/size.js';
import type { ServerDef } from '../model/fleet.js';
import type { Io } from './io.js';
import { confirm, execute, withSession, type ApplyFlags } from './apply.js';
import type { Session } from './session.js';

export interface MigrateFlags extends ApplyFlags {
  to: string;
  mode?: string;
  dryRun?: boolean;
  markdown?: boolean;
}


export function migrateCommand(stack: string, flags: MigrateFlags, rawIo: Io): Promise<number> {
  const mode = flags.mode ?? 'dump';
  if (mode !== 'dump' && mode !== 'replicate') throw new UsageError(`--mode ${mode}: not a migration mode`, 'Use --mode dump (the default: writers stop while databases move by pg_dump | pg_restore) or --mode replicate (databases replicate while the stack runs; the pause is only the cut-over).');
  return withSession(flags, rawIo, async (s) => {
    const [t] = selectTargets(s.loaded, [stack]);
    const source = t!.server;
    const target = s.loaded.fleet.servers[flags.to];
    if (!target) throw new UsageError(`--to ${flags.to}: no such server in the fleet file`, `Servers: ${Object.keys(s.loaded.fleet.servers).join(', ')}.`);
    if (target.name === source.name) throw new UsageError(`stack ${stack} already runs on ${target.name}`, 'Name another server with --to.');
    const st = s.transports(source.name);
    const sudo = source.sudo ?? false;
    const moved = await st.exec(quiet(cmd('cat', markerPath(stack))), { sudo });
    if (moved.code === 0) throw new UsageError(`stack ${stack} was already moved from ${source.name} to ${moved.stdout.trim()}`, `Set \`server: ${moved.stdout.trim()}\` for the stack in ferry.yml, or \`ferry rollback ${stack}\` to bring it back.`);
    const sourceRelease = (await currentRelease(st, stack, sudo)).meta;
    if (!sourceRelease) throw new UsageError(`stack ${stack} is not deployed by Ferry on ${source.name}`, `Deploy it there first (\`ferry apply ${stack}\`): migrate moves a running release.`);
    const [sourceEndpoint, targetEndpoint] = [await endpoint(st, source), await endpoint(s.transports(target.name), target)];
    const { steps, m, dns } = await migratePlan({
      stack: t!.stack, source, target, sourceRelease, transports: s.transports, local: s.local,
      sourceEndpoint, targetEndpoint,
      ...(s.loaded.fleet.acme ? { acme: s.loaded.fleet.acme } : {}),
      mode,
      ...(s.loaded.fleet.dns ? { dns: s.loaded.fleet.dns } : {}),
    });
    const plan = makePlan(steps);
    const p = await preview(plan, s.transports, s.redactor);
    if (flags.markdown) {
      s.io.out(renderRunbook(p, { fleetFile: s.loaded.fleet.display ?? s.fleetFile, createdAt: new Date().toISOString(), stacks: [stack], releases: { [stack]: m.release.id } }));
      return countChanges(p).error > 0 ? 1 : 0;
    }
    if (!flags.json || flags.dryRun) s.io.out(renderPlanTable(p));
    const warnings = (dns?.findings ?? []).filter((f) => f.severity === 'warning');
    if (warnings.length > 0) s.io.err(renderFindings(warnings));
    if (countChanges(p).error > 0) {
      if (flags.json && !flags.dryRun) s.io.err(renderPlanTable(p));
      s.io.err(`error plan-check-failed: some steps could not be checked (see the table); nothing was changed on ${source.name} or ${target.name}\n  hint: fix what the errors name, then run migrate again\n`);
      return 1;
    }
    if (flags.dryRun) return 0;
    if (!flags.yes) {
      if (!(flags.interactive ?? process.stdin.isTTY)) throw new UsageError('migrate changes two servers and needs a confirmation, but no one can answer here (stdin is not a terminal)', 'Read the plan (--dry-run or --markdown), then pass --yes.');
      if (!(await confirm(`move ${stack} from ${source.name} to ${target.name}? [y/N] `))) return 1;
    }
    const journal = openJournal(stateDir(rawIo.env), s.redactor);
    try {
      const resumed = flags.resume ? journal.lastUnfinished() : undefined;
      const summary = await execute(s, { plan, targets: [{ stack: t!.stack, server: source }, { stack: t!.stack, server: target }] }, `migrate ${stack} --to ${target.name}${mode === 'replicate' ? ' --mode replicate' : ''}${resumed ? ` --resume ${resumed.id}` : ''}`, { json: flags.json === true, noSummary: true }, journal, resumed?.id);
      if (summary.failed > 0) return 1;
      const r = report(m, Date.now());
      if (flags.json) s.io.out(`${JSON.stringify({ ...r, run: summary.runId })}\n`);
      else s.io.out(renderReport(r, stack, target, dns ? await dnsAfter(s, stack, [source, sourceEndpoint], [target, targetEndpoint]) : []));
      return 0;
    } finally {
      journal.close();
    }
  });
}

/** The records as they are now, after the migration: what was changed, or what to change by hand. */
async function dnsAfter(s: Session, stack: string, [source, se]: [ServerDef, Endpoint], [target, te]: [ServerDef, Endpoint]): Promise<string[]> {
  const sides = {
    stack, ...(s.loaded.fleet.dns ? { dns: s.loaded.fleet.dns } : {}),
    source: { name: source.name, addresses: await serverAddresses(se.address) },
    target: { name: target.name, addresses: await serverAddresses(te.address) },
  };
  return dnsReportLines((await dnsPreflight({ ...sides, domains: s.loaded.fleet.stacks[stack]?.proxy?.domains ?? [] })).domains, sides);
}

function renderReport(r: MigrationReport, stack: string, target: ServerDef, dnsLines: string[]): string {
  const lines = [
    `${stack} moved to ${target.name}: verified`,
    `  write downtime: ${r.downtime_ms === null ? 'not measured (resumed run)' : `${r.downtime_ms} ms`}`,
    `  transferred:    ${formatSize(r.bytes_transferred)} of volume data (databases streamed besides)`,
    `  duration:       ${r.duration_ms} ms`,
    '',
  ];
  if (r.verified.tables.length > 0) lines.push(table(['table', 'rows (source)', 'rows (target)', 'checksum'], r.verified.tables.map((t) => [t.name, String(t.rows_source), String(t.rows_target), t.checksum_match ? 'equal' : 'DIFFERENT'])), '');
  if (r.verified.volumes.length > 0) lines.push(table(['volume', 'files', 'bytes', 'manifest'], r.verified.volumes.map((v) => [v.name, String(v.files), String(v.bytes), v.manifest_match ? 'equal' : 'DIFFERENT'])), '');
  lines.push(...dnsLines);
  lines.push(`Next: set \`server: ${target.name}\` for ${stack} in ferry.yml. The source keeps the stack stopped, with its data: \`ferry rollback ${stack}\` serves from it again.`);
  return `${lines.join('\n')}\n`;
}

export interface RetireFlags extends ApplyFlags {
  from: string;
}

/** `ferry retire STACK --from SERVER`: exit 0 when removed (or nothing left), 1 when refused or failed. */
export function retireCommand(stack: string, flags: RetireFlags, rawIo: Io): Promise<number> {
  return withSession(flags, rawIo, async (s) => {
    const [t] = selectTargets(s.loaded, [stack]);
    const from = s.loaded.fleet.servers[flags.from];
    if (!from) throw new UsageError(`--from ${flags.from}: no such server in the fleet file`, `Servers: ${Object.keys(s.loaded.fleet.servers).join(', ')}.`);
    const tr = s.transports(from.name);
    const sudo = from.sudo ?? false;
    const to = (await tr.exec(quiet(cmd('cat', markerPath(stack))), { sudo })).stdout.trim();
    const release = (await currentRelease(tr, stack, sudo)).meta;
    const plan = makePlan(retireSteps({ stack, host: from.name, sudo, to: to || t!.server.name, ...(release ? { release } : {}) }));
    const p = await preview(plan, s.transports, s.redactor);
    if (!flags.json) s.io.out(renderPlanTable(p));
    if (countChanges(p).error > 0) return 1;
    if (countChanges(p).change > 0 && !flags.yes) {
      if (!(flags.interactive ?? process.stdin.isTTY)) throw new UsageError('retire deletes data and needs a confirmation, but no one can answer here (stdin is not a terminal)', 'Pass --yes once sure the stack serves well from its new server.');
      if (!(await confirm(`delete ${stack} and its data from ${from.name}? [y/N] `))) return 1;
    }
    const journal = openJournal(stateDir(rawIo.env), s.redactor);
    try {
      const summary = await execute(s, { plan, targets: [{ stack: t!.stack, server: from }] }, `retire ${stack} --from ${from.name}`, flags, journal);
      return summary.failed > 0 ? 1 : 0;
    } finally {
      journal.close();
    }
  });
}
