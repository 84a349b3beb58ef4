/**
 * `ferry migrate STACK --to SERVER`: moves a deployed stack with its data to another
 * server, as a plan (shown, approved) applied with the journal, both servers' locks and
 * resume. Ends with the report: downtime, bytes, duration, and what was verified.
 */
import { FerryError, UsageError } from '../core/errors.js';
import { makePlan } from '../engine/plan.js';
import { openJournal } from '../journal/journal.js';
import { selectTargets } from '../plans/build.js';
import { preview } from '../plans/preview.js';
import { countChanges, renderPlanTable, renderRunbook } from '../render/plan.js';
import { stateDir } from '../state/dir.js';
import { cmd, quiet } from '../shell/command.js';
import { currentRelease } from '../deploy/release-meta.js';
import { migratePlan } from '../migrate/plan.js';
import { serviceMovePlan } from '../migrate/plan-service.js';
import type { Plan } from '../engine/plan.js';
import type { RunSummary } from '../engine/events.js';
import type { RunRecord } from '../journal/journal.js';
import { isMigrationOf, pauseAcross, transfersAcross } from '../migrate/runs.js';
import type { Migration } from '../migrate/context.js';
import { report, type MigrationReport } from '../migrate/context.js';
import { markerPath } from '../migrate/steps/switch.js';
import { readReport } from '../migrate/report.js';
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
import type { CliIo } from './io.js';
import { confirm, declined, execute, planCheckFailed, withSession, type ApplyFlags } from './run-plan.js';
import type { Session } from './session.js';

export interface MigrateFlags extends ApplyFlags {
  to: string;
  service?: string;
  mode?: string;
  dryRun?: boolean;
  markdown?: boolean;
}

export function migrateCommand(stack: string, flags: MigrateFlags, io: CliIo): Promise<number> {
  const mode = flags.mode ?? 'dump';
  if (mode !== 'dump' && mode !== 'replicate')
    throw new UsageError(
      `--mode ${mode}: not a migration mode`,
      'Use --mode dump (the default: writers stop while databases move by pg_dump | pg_restore) or --mode replicate (databases replicate while the stack runs; the pause is only the cut-over).',
      '--mode',
    );
  if (flags.json && flags.markdown)
    throw new UsageError('--json and --markdown ask for two formats; give one', 'Leave out one of them.', '--markdown');
  return withSession(flags, io, async (s) => {
    const [t] = selectTargets(s.loaded, [stack]);
    const source = t!.server;
    const target = s.loaded.fleet.servers[flags.to];
    if (!target)
      throw new UsageError(
        `--to ${flags.to}: no such server in the fleet file`,
        `Servers: ${Object.keys(s.loaded.fleet.servers).join(', ')}.`,
        '--to',
      );
    if (target.name === source.name)
      throw new UsageError(`stack ${stack} already runs on ${target.name}`, 'Name another server with --to.', '--to');
    const st = s.transports(source.name);
    const sudo = source.sudo ?? false;
    const resumed = flags.resume ? unfinishedMigration(s.io, stack, target.name) : undefined;
    const moved = await st.exec(quiet(cmd('cat', markerPath(stack))), { sudo });
    // A run killed right after it marked the source is resumed to its end (the clean-up is left).
    if (moved.code === 0 && !(resumed && moved.stdout.trim() === target.name))
      throw new UsageError(
        `stack ${stack} was already moved from ${source.name} to ${moved.stdout.trim()}`,
        `Set \`server: ${moved.stdout.trim()}\` for the stack in ferry.yml, or \`ferry rollback ${stack}\` to bring it back.`,
        `host ${source.name}`,
      );
    const sourceRelease = (await currentRelease(st, stack, sudo)).meta;
    if (!sourceRelease)
      throw new UsageError(
        `stack ${stack} is not deployed by Ferry on ${source.name}`,
        `Deploy it there first (\`ferry apply ${stack}\`): migrate moves a running release.`,
        `host ${source.name}`,
      );
    const [sourceEndpoint, targetEndpoint] = [
      await endpoint(st, source),
      await endpoint(s.transports(target.name), target),
    ];
    if (flags.service !== undefined) {
      if (mode !== 'dump')
        throw new UsageError(
          `--service with --mode ${mode}: a service moved alone moves by dump only`,
          'Leave out --mode.',
          '--mode',
        );
      const already = sourceRelease.placed?.[flags.service];
      // A resumed move that got as far as the stack's new release goes on to its end.
      if (already && !(resumed && already === target.name))
        throw new UsageError(
          `${stack}/${flags.service} already runs on ${already}`,
          already === target.name
            ? 'Nothing to move.'
            : 'Moving a placed service on to a third server is not supported yet.',
          '--service',
        );
      const moving = await serviceMovePlan({
        stack: t!.stack,
        service: flags.service,
        fleet: s.loaded.fleet,
        source,
        target,
        sourceRelease,
        transports: s.transports,
        local: s.local,
        sourceEndpoint,
        targetEndpoint,
      });
      return runMigration(s, flags, {
        plan: makePlan(moving.steps),
        m: moving.m,
        servedBy: moving.servedBy,
        pauseBy: moving.pauseBy,
        resumed,
        stack,
        source,
        target,
        command: `migrate ${stack} --service ${flags.service} --to ${target.name}`,
        moved: `${stack}/${flags.service}`,
      });
    }
    const { steps, m, servedBy, pauseBy, dns } = await migratePlan({
      stack: t!.stack,
      source,
      target,
      sourceRelease,
      transports: s.transports,
      local: s.local,
      sourceEndpoint,
      targetEndpoint,
      ...(s.loaded.fleet.acme ? { acme: s.loaded.fleet.acme } : {}),
      mode,
      ...(s.loaded.fleet.dns ? { dns: s.loaded.fleet.dns } : {}),
      servers: s.loaded.fleet.servers,
      locate: s.loaded.fleet.locate,
    });
    const warnings = (dns?.findings ?? []).filter((f) => f.severity === 'warning');
    if (warnings.length > 0) s.io.err(renderFindings(warnings));
    return runMigration(s, flags, {
      plan: makePlan(steps),
      m,
      servedBy,
      pauseBy,
      resumed,
      stack,
      source,
      target,
      moved: stack,
      command: `migrate ${stack} --to ${target.name}${mode === 'replicate' ? ' --mode replicate' : ''}`,
      dns: dns ? () => dnsAfter(s, stack, [source, sourceEndpoint], [target, targetEndpoint]) : undefined,
    });
  });
}

/** What the plan says of the write pause: where it begins and ends, and how long any wait in it may last. */
const pauseLine = (o: { m: Migration; pauseBy: string; servedBy: string }): string =>
  `write pause: from ${o.pauseBy} until ${o.servedBy} is verified; every wait in it at most ${Math.round(o.m.maxPauseMs / 1000)} s (migrate.max_pause), past it the move is rolled back\n`;

/** Shows the plan (table, runbook), asks, runs it with both servers locked, and prints the report. */
async function runMigration(
  s: Session,
  flags: MigrateFlags,
  o: {
    plan: Plan;
    m: Migration;
    /** The step whose verification is the moment the stack serves (and takes writes) again. */
    servedBy: string;
    /** The step whose apply begins the write pause. */
    pauseBy: string;
    /** The interrupted run of this migration that `--resume` goes on with. */
    resumed: RunRecord | undefined;
    stack: string;
    source: ServerDef;
    target: ServerDef;
    command: string;
    moved: string;
    dns?: (() => Promise<DnsAfter>) | undefined;
  },
): Promise<number> {
  const { plan, m, stack, source, target } = o;
  const loaded = s.loaded.stacks.find((x) => x.def.name === stack)!;
  const p = await preview(plan, s.transports, s.redactor);
  if (flags.markdown) {
    s.io.out(
      renderRunbook(p, {
        fleetFile: s.loaded.fleet.display ?? s.fleetFile,
        createdAt: new Date().toISOString(),
        stacks: [stack],
        releases: { [stack]: m.release.id },
      }),
    );
    return countChanges(p).error > 0 ? 1 : 0;
  }
  if (flags.json && flags.dryRun)
    s.io.out(`${JSON.stringify({ max_pause_ms: m.maxPauseMs, steps: p.steps }, null, 2)}\n`);
  else if (!flags.json) s.io.out(`${renderPlanTable(p)}${pauseLine(o)}`);
  if (countChanges(p).error > 0) {
    if (flags.json && !flags.dryRun) s.io.err(renderPlanTable(p));
    throw planCheckFailed(`nothing was changed on ${source.name} or ${target.name}`, 'run migrate again');
  }
  if (flags.dryRun) return 0;
  if (!flags.yes) {
    if (!(flags.interactive ?? process.stdin.isTTY))
      throw new UsageError(
        'migrate changes two servers and needs a confirmation, but no one can answer here (stdin is not a terminal)',
        'Read the plan (--dry-run or --markdown), then pass --yes.',
        '--yes',
      );
    if (!(await confirm(`move ${o.moved} from ${source.name} to ${target.name}? [y/N] `)))
      throw declined(`the move of ${o.moved}`);
  }
  const journal = openJournal(stateDir(s.io.env), s.redactor);
  try {
    const { resumed } = o;
    if (resumed && !flags.json)
      s.io.err(`resuming the interrupted run ${resumed.id} (${resumed.command}): taking over its locks\n`);
    const summary = await execute(
      s,
      {
        plan,
        targets: [
          { stack: loaded, server: source },
          { stack: loaded, server: target },
        ],
      },
      `${o.command}${resumed ? ` --resume ${resumed.id}` : ''}`,
      { json: flags.json === true, noSummary: true },
      journal,
      resumed ? { resume: resumed.id } : {},
    );
    if (summary.failed > 0) {
      s.io.err(failureNote(summary, o));
      return 1;
    }
    const runs = journal.chain(summary.runId).map((r) => journal.run(r.id)?.events ?? []);
    // What was proven is the report recorded on the target (a resumed run may not prove again).
    const saved = await readReport(s.transports(target.name), m);
    if (saved) {
      m.marks.tables = saved.tables ?? m.marks.tables;
      m.marks.volumes = saved.volumes;
    }
    const r = report(m, Date.now(), pauseAcross(runs, o.pauseBy, o.servedBy), transfersAcross(runs));
    const dns = o.dns ? await o.dns() : undefined;
    if (flags.json) s.io.out(`${JSON.stringify({ ...r, ...(dns ? { dns: dns.json } : {}), run: summary.runId })}\n`);
    else s.io.out(renderReport(r, o.moved, target, dns?.lines ?? [], flags.service));
    return 0;
  } finally {
    journal.close();
  }
}

/**
 * The interrupted run of this migration (`migrate STACK ... --to TARGET`), which `--resume`
 * goes on with: refused when there is none, so that a resume never starts a fresh migration
 * unawares.
 */
function unfinishedMigration(io: CliIo, stack: string, target: string): RunRecord {
  const journal = openJournal(stateDir(io.env));
  try {
    const found = journal.lastUnfinished((r) => isMigrationOf(r.command, stack, target));
    if (found) return found;
    const other = journal.lastUnfinished((r) => r.command.startsWith(`migrate ${stack} `));
    throw new FerryError(
      'nothing-to-resume',
      `no interrupted migration of ${stack} to ${target} in the journal`,
      journal.file,
      other
        ? `The interrupted run of ${stack} is ${other.id} (${other.command}): resume that one, or roll it back with \`ferry rollback ${stack}\`.`
        : `Its last run finished (see \`ferry runs\`): leave out --resume to migrate afresh, or run \`ferry migrate --status ${stack}\` to see where it stands.`,
    );
  } finally {
    journal.close();
  }
}

/** After a failed run: where the stack serves now, and what to do next. */
function failureNote(summary: RunSummary, o: { stack: string; source: ServerDef; target: ServerDef }): string {
  const back = `ferry rollback ${o.stack}`;
  const resume = `ferry migrate ${o.stack} --to ${o.target.name} --resume`;
  if (summary.rollbackStoppedAt)
    return `error rollback-stopped: ${summary.rollbackStoppedAt} could not be undone, so nothing before it was: ${o.target.name}'s writes are not on ${o.source.name} yet, and ${o.source.name} was not started on the data it had\n  hint: fix what the rollback error names, then run \`${back}\` (it carries the writes back first), or finish the move with \`${resume}\`\n`;
  if (summary.rollbackFailed.length > 0)
    return `error rollback-incomplete: the undo of ${summary.rollbackFailed.join(', ')} failed; look at both servers\n  hint: \`ferry migrate --status ${o.stack}\` lists what the migration left; \`${back}\` serves from ${o.source.name} again\n`;
  return `the migration was undone: ${o.stack} serves from ${o.source.name} as before; fix the cause above, then migrate again\n`;
}

interface DnsAfter {
  lines: string[];
  /** Per domain, the record changes still to make by hand (none once the hook moved them, or they already point at the target). */
  json: { domain: string; pending: { type: string; from: string[]; to: string[]; ttl: number }[] }[];
}

/** The records as they are now, after the migration: what was changed, or what to change by hand. */
async function dnsAfter(
  s: Session,
  stack: string,
  [source, se]: [ServerDef, Endpoint],
  [target, te]: [ServerDef, Endpoint],
): Promise<DnsAfter> {
  const sides = {
    stack,
    ...(s.loaded.fleet.dns ? { dns: s.loaded.fleet.dns } : {}),
    source: { name: source.name, addresses: await serverAddresses(se.address) },
    target: { name: target.name, addresses: await serverAddresses(te.address) },
  };
  const judged = (await dnsPreflight({ ...sides, domains: s.loaded.fleet.stacks[stack]?.proxy?.domains ?? [] }))
    .domains;
  return {
    lines: dnsReportLines(judged, sides),
    json: judged.map((j) => ({
      domain: j.domain,
      pending: j.changes.map((c) => ({ type: c.type, from: c.from, to: c.to, ttl: c.ttl })),
    })),
  };
}

/** ` (volumes 64.1 MB, databases 1.2 MB)`: the kinds that moved anything. */
function transferredParts(r: MigrationReport): string {
  const parts = Object.entries(r.transferred)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${formatSize(n)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function renderReport(
  r: MigrationReport,
  moved: string,
  target: ServerDef,
  dnsLines: string[],
  service?: string,
): string {
  const stack = moved.split('/')[0]!;
  const lines = [
    `${moved} moved to ${target.name}: verified`,
    `  write downtime: ${r.downtime_ms === null ? 'none (the pause never began)' : `${r.downtime_ms} ms`}`,
    `  transferred:    ${formatSize(r.bytes_transferred)}${transferredParts(r)}`,
    `  duration:       ${r.duration_ms} ms`,
    '',
  ];
  if (r.verified.tables.length > 0)
    lines.push(
      table(
        ['table', 'rows (source)', 'rows (target)', 'checksum'],
        r.verified.tables.map((t) => [
          t.name,
          String(t.rows_source),
          String(t.rows_target),
          t.checksum_match ? 'equal' : 'DIFFERENT',
        ]),
      ),
      '',
    );
  if (r.verified.volumes.length > 0)
    lines.push(
      table(
        ['volume', 'files', 'bytes', 'manifest'],
        r.verified.volumes.map((v) => [
          v.name,
          String(v.files),
          String(v.bytes),
          v.manifest_match ? 'equal' : 'DIFFERENT',
        ]),
      ),
      '',
    );
  lines.push(...dnsLines);
  lines.push(
    service
      ? `Next: add \`services: { ${service}: { server: ${target.name} } }\` to ${stack} in ferry.yml (apply refuses to deploy it without). The source keeps ${service}'s volume, with its data as it was at the move.`
      : `Next: set \`server: ${target.name}\` for ${stack} in ferry.yml. The source keeps the stack stopped, with its data: \`ferry rollback ${stack}\` serves from it again.`,
    `Watch it on its new server: \`ferry watch ${stack} --for 72h\` (alerts go to monitoring.receivers; with \`--install\` the watch runs on the servers, without this machine).`,
  );
  return `${lines.join('\n')}\n`;
}

export interface RetireFlags extends ApplyFlags {
  from: string;
}

/** `ferry retire STACK --from SERVER`: exit 0 when removed (or nothing left), 1 when refused or failed. */
export function retireCommand(stack: string, flags: RetireFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const [t] = selectTargets(s.loaded, [stack]);
    const from = s.loaded.fleet.servers[flags.from];
    if (!from)
      throw new UsageError(
        `--from ${flags.from}: no such server in the fleet file`,
        `Servers: ${Object.keys(s.loaded.fleet.servers).join(', ')}.`,
      );
    const tr = s.transports(from.name);
    const sudo = from.sudo ?? false;
    const to = (await tr.exec(quiet(cmd('cat', markerPath(stack))), { sudo })).stdout.trim();
    const release = (await currentRelease(tr, stack, sudo)).meta;
    const plan = makePlan(
      retireSteps({ stack, host: from.name, sudo, to: to || t!.server.name, ...(release ? { release } : {}) }),
    );
    const p = await preview(plan, s.transports, s.redactor);
    if (!flags.json) s.io.out(renderPlanTable(p));
    if (countChanges(p).error > 0) throw planCheckFailed(`nothing was deleted on ${from.name}`, 'run retire again');
    if (countChanges(p).change > 0 && !flags.yes) {
      if (!(flags.interactive ?? process.stdin.isTTY))
        throw new UsageError(
          'retire deletes data and needs a confirmation, but no one can answer here (stdin is not a terminal)',
          'Pass --yes once sure the stack serves well from its new server.',
          '--yes',
        );
      if (!(await confirm(`delete ${stack} and its data from ${from.name}? [y/N] `)))
        throw declined(`the deletion of ${stack} from ${from.name}`);
    }
    const journal = openJournal(stateDir(io.env), s.redactor);
    try {
      const summary = await execute(
        s,
        { plan, targets: [{ stack: t!.stack, server: from }] },
        `retire ${stack} --from ${from.name}`,
        flags,
        journal,
      );
      return summary.failed > 0 ? 1 : 0;
    } finally {
      journal.close();
    }
  });
}
