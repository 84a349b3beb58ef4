/**
 * `ferry migrate --status STACK`: where a migration of the stack stands, and what it left.
 * Read from the servers (the markers on both sides, the locks, and everything a migration
 * may leave: keys, tunnels, hold rules, replication slots, publications, subscriptions,
 * proof files) and from the journal (its last run). Nothing is changed. What a finished
 * migration keeps on purpose (the `migrated-to` marker and the stopped stack on the
 * source, the report and the in-use marker on the target) is listed as kept, not as left.
 */
import { makePlan } from '../engine/plan.js';
import { preview } from '../plans/preview.js';
import { selectTargets } from '../plans/build.js';
import { openJournal, type RunRecord } from '../journal/journal.js';
import { stateDir } from '../state/dir.js';
import { cmd, quiet } from '../shell/command.js';
import { lockStatus } from '../lock/lock.js';
import { currentRelease } from '../deploy/release-meta.js';
import type { ServerDef } from '../model/fleet.js';
import { sideOf } from '../migrate/context.js';
import { movedParts } from '../migrate/plan.js';
import { leftoverSteps } from '../migrate/rollback-replica.js';
import { markerPath, movingPath } from '../migrate/steps/switch.js';
import { reportPath } from '../migrate/report.js';
import { livePath } from '../migrate/live.js';
import { table } from '../render/table.js';
import { endpoint } from './endpoint.js';
import { migrationOf } from './migration-of.js';
import type { CliIo } from './io.js';
import { withSession, type ApplyFlags } from './run-plan.js';
import type { Session } from './session.js';

export type Stage = 'none' | 'in progress or interrupted' | 'moved' | 'moved, clean-up unfinished';

export interface MigrationStatus {
  stack: string;
  source?: string;
  target?: string;
  stage: Stage;
  /** Files a migration writes, where they are now: kept on purpose, or part of a run. */
  markers: { host: string; path: string; text: string }[];
  locks: { host: string; run: string }[];
  /** What a migration leaves that nothing keeps on purpose. */
  left: { host: string; what: string }[];
  /** What could not be read (a stopped database), and why. */
  unknown: { host: string; what: string }[];
  lastRun?: Pick<RunRecord, 'id' | 'command' | 'status' | 'startedAt'>;
  next: string[];
}

async function readFile(s: Session, server: ServerDef, path: string): Promise<string | undefined> {
  const r = await s.transports(server.name).exec(quiet(cmd('cat', path)), { sudo: server.sudo ?? false });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

async function markersOf(s: Session, stack: string, source: ServerDef, target: ServerDef) {
  const want: [ServerDef, string][] = [
    [source, markerPath(stack)],
    [source, movingPath(stack)],
    [target, livePath(stack)],
    [target, reportPath(stack)],
  ];
  const out: MigrationStatus['markers'] = [];
  for (const [server, path] of want) {
    const text = await readFile(s, server, path);
    if (text !== undefined)
      out.push({ host: server.name, path, text: path === reportPath(stack) ? reportSummary(text) : text });
  }
  return out;
}

const reportSummary = (text: string): string => {
  try {
    const r = JSON.parse(text) as { from?: string; at?: string; tables?: unknown[] | null };
    return `proven at ${r.at ?? '?'} (from ${r.from ?? '?'}, ${r.tables ? `${r.tables.length} tables` : 'tables proven later'})`;
  } catch {
    return '(unreadable)';
  }
};

/** The leftover steps of a rollback, checked only: what each would remove. */
async function leftovers(s: Session, stack: string, source: ServerDef, target: ServerDef) {
  const loaded = s.loaded.stacks.find((x) => x.def.name === stack)!;
  const parts = loaded.project ? movedParts(loaded.project) : { databases: [] };
  const projectOn = async (server: ServerDef) =>
    (await currentRelease(s.transports(server.name), stack, server.sudo ?? false)).meta?.project;
  const [sourceProject, targetProject] = [await projectOn(source), await projectOn(target)];
  const steps = leftoverSteps({
    stack,
    source: sideOf(source, s.transports),
    target: sideOf(target, s.transports),
    sourceProject: sourceProject ?? loaded.project?.name ?? stack,
    ...(targetProject ? { targetProject } : {}),
    databases: parts.databases,
    sourceEndpoint: await endpoint(s.transports(source.name), source),
    targetEndpoint: await endpoint(s.transports(target.name), target),
    dependsOn: [],
  });
  const p = await preview(makePlan(steps), s.transports, s.redactor);
  return {
    left: p.steps.flatMap((x) =>
      x.status === 'change' ? [{ host: x.host, what: (x.change?.summary ?? '').replace(/^remove /, '') }] : [],
    ),
    unknown: p.steps.flatMap((x) =>
      x.status === 'error' ? [{ host: x.host, what: `${x.title}: ${x.error?.code}: ${x.error?.message}` }] : [],
    ),
  };
}

function stageOf(markers: MigrationStatus['markers'], stack: string): Stage {
  const has = (path: string) => markers.some((m) => m.path === path);
  if (has(markerPath(stack))) return has(movingPath(stack)) ? 'moved, clean-up unfinished' : 'moved';
  if (has(movingPath(stack)) || has(livePath(stack))) return 'in progress or interrupted';
  return 'none';
}

function nextSteps(st: MigrationStatus): string[] {
  const { stack, target } = st;
  const interrupted = st.lastRun?.status === 'running' || st.lastRun?.status === 'interrupted';
  if (st.stage === 'none') return st.left.length > 0 ? [`ferry rollback ${stack} removes what is left`] : [];
  if (st.stage === 'moved')
    return [
      `set \`server: ${target}\` for ${stack} in ferry.yml`,
      `ferry rollback ${stack} serves from ${st.source} again (the target's writes carried back first)`,
      `ferry retire ${stack} --from ${st.source} deletes what is kept there, once sure`,
    ];
  return [
    ...(interrupted ? [`ferry migrate ${stack} --to ${target} --resume finishes run ${st.lastRun!.id}`] : []),
    `ferry rollback ${stack} serves from ${st.source} again (the target's writes carried back first)`,
  ];
}

export async function migrationStatus(s: Session, stack: string, io: CliIo): Promise<MigrationStatus> {
  const [t] = selectTargets(s.loaded, [stack]);
  const server = t!.server;
  const mig = await migrationOf(s, stack, server);
  const journal = openJournal(stateDir(io.env), s.redactor);
  const last = journal.runs(200).find((r) => r.command.startsWith(`migrate ${stack} `));
  journal.close();
  const lastRun = last
    ? { id: last.id, command: last.command, status: last.status, startedAt: last.startedAt }
    : undefined;
  if (!mig) {
    const st: MigrationStatus = { stack, stage: 'none', markers: [], locks: [], left: [], unknown: [], next: [] };
    return { ...st, ...(lastRun ? { lastRun } : {}), next: nextSteps(st) };
  }
  const { source, target } = mig;
  const markers = await markersOf(s, stack, source, target);
  const locks: MigrationStatus['locks'] = [];
  for (const x of [source, target]) {
    const held = await lockStatus(s.transports(x.name), stack, x.sudo ?? false);
    if (held !== undefined) locks.push({ host: x.name, run: held === 'unowned' ? '(no owner file)' : held.run });
  }
  const rest = await leftovers(s, stack, source, target);
  const st: MigrationStatus = {
    stack,
    source: source.name,
    target: target.name,
    stage: stageOf(markers, stack),
    markers,
    locks,
    ...rest,
    ...(lastRun ? { lastRun } : {}),
    next: [],
  };
  return { ...st, next: nextSteps(st) };
}

export function renderStatus(st: MigrationStatus): string {
  const lines = [
    `${st.stack}: ${st.stage === 'none' ? 'no migration found on its server' : `${st.stage}, ${st.source} -> ${st.target}`}`,
  ];
  if (st.lastRun) lines.push(`last run: ${st.lastRun.id} (${st.lastRun.command}), ${st.lastRun.status}`);
  if (st.markers.length > 0)
    lines.push(
      '',
      table(
        ['HOST', 'MARKER', 'HOLDS'],
        st.markers.map((m) => [m.host, m.path, m.text]),
      ),
    );
  for (const l of st.locks) lines.push(`lock held on ${l.host} by run ${l.run}`);
  lines.push('', st.left.length > 0 ? 'left behind:' : 'left behind: nothing');
  for (const l of st.left) lines.push(`  ${l.host}: ${l.what}`);
  for (const u of st.unknown) lines.push(`  ${u.host}: could not check ${u.what}`);
  if (st.next.length > 0) lines.push('', 'next:', ...st.next.map((n) => `  ${n}`));
  return `${lines.join('\n')}\n`;
}

export function migrateStatusCommand(stack: string, flags: ApplyFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const st = await migrationStatus(s, stack, io);
    s.io.out(flags.json ? `${JSON.stringify(st)}\n` : renderStatus(st));
    return 0;
  });
}
