/**
 * `ferry rollback STACK`: back to the release before the current one (or `--to ID`),
 * kept on the server by every deploy. Runs like an apply: lock, journal, health waits,
 * zero-downtime swaps behind the proxy, and a rollback of the rollback if it fails.
 */
import { UsageError } from '../core/errors.js';
import { makePlan } from '../engine/plan.js';
import type { Step } from '../engine/step.js';
import { openJournal } from '../journal/journal.js';
import { selectTargets } from '../plans/build.js';
import { preview } from '../plans/preview.js';
import { renderPlanTable } from '../render/plan.js';
import { stateDir } from '../state/dir.js';
import { cmd, quiet } from '../shell/command.js';
import { historyFile } from '../deploy/layout.js';
import { currentRelease, readReleaseMeta } from '../deploy/release-meta.js';
import { proxyLink } from '../deploy/proxy-link.js';
import { upStep } from '../deploy/steps/up.js';
import { releaseHistory } from '../deploy/steps/prune.js';
import type { Transport } from '../transport/transport.js';
import type { CliIo } from './io.js';
import { confirm, declined, execute, withSession, type ApplyFlags } from './run-plan.js';
import type { Session } from './session.js';
import type { ServerDef, StackDef } from '../model/fleet.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { migrationRollbackSteps } from '../migrate/rollback-plan.js';
import { servicesStateStep } from '../migrate/steps/services.js';
import { sideOf } from '../migrate/context.js';
import { databases } from '../migrate/postgres.js';
import { endpoint } from './endpoint.js';
import { markerPath, movingPath } from '../migrate/steps/switch.js';
import { reportPath } from '../migrate/report.js';

export interface RollbackFlags extends ApplyFlags {
  to?: string;
}

async function target(
  t: Transport,
  stack: string,
  sudo: boolean,
  to: string | undefined,
): Promise<{ current?: string; meta: ReleaseMeta }> {
  const { id: current } = await currentRelease(t, stack, sudo);
  const hist = await t.exec(quiet(cmd('cat', historyFile(stack))), { sudo });
  const ids = releaseHistory(hist.code === 0 ? hist.stdout : '').filter((id) => id !== current);
  const candidates = to ? [to] : ids;
  for (const id of candidates) {
    const meta = await readReleaseMeta(t, stack, id, sudo);
    if (meta) return { ...(current ? { current } : {}), meta };
    if (to)
      throw new UsageError(
        `release ${to} of stack ${stack} is not on ${t.name} (or its .ferry-release.json is unreadable)`,
        `Releases kept, newest first: ${ids.join(', ') || 'none'}.`,
        '--to',
      );
  }
  throw new UsageError(
    `stack ${stack} has no earlier release on ${t.name} to roll back to`,
    current ? `Only the current release ${current} is there.` : 'It was never deployed: run `ferry apply` first.',
    `host ${t.name}`,
  );
}

/** Where a migration of the stack went, seen from its fleet server (the source or, once ferry.yml names it, the target). */
async function migrationOf(
  s: Session,
  stack: string,
  server: ServerDef,
): Promise<{ source: ServerDef; target: ServerDef } | undefined> {
  const t = s.transports(server.name);
  const sudo = server.sudo ?? false;
  const read = async (path: string) => {
    const r = await t.exec(quiet(cmd('cat', path)), { sudo });
    return r.code === 0 ? r.stdout : undefined;
  };
  const known = (name: string | undefined, what: string): ServerDef => {
    const def = name ? s.loaded.fleet.servers[name] : undefined;
    if (!def)
      throw new UsageError(
        `stack ${stack} was moved ${what} server "${name}", which the fleet file does not define`,
        'Add the server back to ferry.yml to roll the migration back.',
        'the fleet file',
      );
    return def;
  };
  const to = (await read(markerPath(stack)))?.trim() || (await read(movingPath(stack)))?.trim();
  if (to) return { source: server, target: known(to, 'to') };
  const saved = await read(reportPath(stack));
  if (saved) {
    try {
      const from = (JSON.parse(saved) as { from?: string }).from;
      if (from && from !== server.name) return { source: known(from, 'from'), target: server };
    } catch {
      /* not a report: no migration */
    }
  }
  return undefined;
}

async function currentMeta(s: Session, stack: string, server: ServerDef): Promise<ReleaseMeta | undefined> {
  return (await currentRelease(s.transports(server.name), stack, server.sudo ?? false)).meta;
}

/** Whether a run's command moved `stack` (or one of its services) to `target`. */
function isMigrationOf(command: string, stack: string, target: string): boolean {
  const w = command.split(' ');
  const to = w.indexOf('--to');
  return w[0] === 'migrate' && w[1] === stack && to > 1 && w[to + 1] === target;
}

async function rollbackMigration(
  s: Session,
  stack: string,
  def: StackDef,
  mig: { source: ServerDef; target: ServerDef },
  flags: RollbackFlags,
): Promise<number> {
  const sourceRelease = await currentMeta(s, stack, mig.source);
  if (!sourceRelease)
    throw new UsageError(
      `stack ${stack} has no release left on ${mig.source.name} to serve from`,
      'It was retired; nothing to roll back to.',
      `host ${mig.source.name}`,
    );
  const placedThere = Object.entries(sourceRelease.placed ?? {}).find(([, server]) => server === mig.target.name);
  if (placedThere) {
    throw new UsageError(
      `the move of ${stack}/${placedThere[0]} to ${mig.target.name} stopped just after ${mig.source.name} switched to its new release`,
      `Finish it with \`ferry migrate ${stack} --service ${placedThere[0]} --to ${mig.target.name} --resume\`, then roll back with \`ferry rollback ${stack}\`.`,
      `host ${mig.source.name}`,
    );
  }
  const targetRelease = await currentMeta(s, stack, mig.target);
  const project = s.loaded.stacks.find((x) => x.def.name === stack)?.project;
  const leftovers = {
    databases: project ? databases(project.services) : [],
    sourceEndpoint: await endpoint(s.transports(mig.source.name), mig.source),
    targetEndpoint: await endpoint(s.transports(mig.target.name), mig.target),
  };
  const plan = makePlan(
    migrationRollbackSteps({
      stack: def,
      source: mig.source,
      target: mig.target,
      sourceRelease,
      ...(targetRelease ? { targetRelease } : {}),
      transports: s.transports,
      leftovers,
    }),
  );
  const p = await preview(plan, s.transports, s.redactor);
  if (!flags.json) s.io.out(renderPlanTable(p));
  if (!flags.yes) {
    if (!(flags.interactive ?? process.stdin.isTTY))
      throw new UsageError(
        'rollback changes servers and needs a confirmation, but no one can answer here (stdin is not a terminal)',
        'Pass --yes.',
        '--yes',
      );
    if (
      !(await confirm(
        `serve ${stack} from ${mig.source.name} again (writes made on ${mig.target.name} since the move stay there)? [y/N] `,
      ))
    )
      throw declined(`the rollback of ${stack}`);
  }
  const journal = openJournal(stateDir(s.io.env), s.redactor);
  try {
    const stackOf = s.loaded.stacks.find((x) => x.def.name === stack)!;
    // A migration of this stack that stopped before its end holds both locks: its rollback takes them over.
    const unfinished = journal.lastUnfinished();
    const takeOver =
      unfinished && isMigrationOf(unfinished.command, stack, mig.target.name) ? unfinished.id : undefined;
    if (takeOver && !flags.json)
      s.io.err(`rolling back the unfinished run ${takeOver} (${unfinished!.command}): taking over its locks\n`);
    const summary = await execute(
      s,
      {
        plan,
        targets: [
          { stack: stackOf, server: mig.source },
          { stack: stackOf, server: mig.target },
        ],
      },
      `rollback ${stack} (migration to ${mig.target.name})`,
      flags,
      journal,
      takeOver ? { takeOver } : {},
    );
    if (summary.failed === 0 && !flags.json)
      s.io.out(
        `${stack} serves from ${mig.source.name} again${def.server !== mig.source.name ? `: set \`server: ${mig.source.name}\` for it in ferry.yml` : ''}.\n`,
      );
    return summary.failed > 0 ? 1 : 0;
  } finally {
    journal.close();
  }
}

export function rollbackCommand(stack: string, flags: RollbackFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const [t] = selectTargets(s.loaded, [stack]);
    if (!flags.to) {
      const mig = await migrationOf(s, stack, t!.server);
      if (mig) return rollbackMigration(s, stack, t!.stack.def, mig, flags);
    }
    const sudo = t!.server.sudo ?? false;
    const host = t!.server.name;
    const { current, meta } = await target(s.transports(host), stack, sudo, flags.to);
    const def = t!.stack.def;
    const proxy = def.proxy
      ? proxyLink({
          stack: def,
          project: meta.project,
          host,
          sudo,
          ...(s.loaded.fleet.acme ? { acme: s.loaded.fleet.acme } : {}),
          dependsOn: [`${stack}/rollback`],
        })
      : undefined;
    const steps: Step[] = [
      upStep({
        id: `${stack}/rollback`,
        host,
        stack,
        project: meta.project,
        release: meta,
        services: meta.services,
        healthTimeoutMs: def.deploy.healthTimeoutMs,
        httpChecks: def.deploy.httpChecks,
        sudo,
        dependsOn: [],
        title: `roll back ${current ?? '(none)'} -> ${meta.id}`,
        ...(proxy ? { switchUpstream: proxy.switchUpstream, refreshUpstreams: proxy.refreshUpstreams } : {}),
      }),
      ...(proxy ? proxy.steps : []),
    ];
    // Back to a release that runs a placed service on this server again: the service stops where it was placed.
    const now = current ? await readReleaseMeta(s.transports(host), stack, current, sudo) : undefined;
    const unplaced = Object.entries(now?.placed ?? {}).filter(
      ([svc, server]) => meta.placed?.[svc] !== server && meta.services.some((x) => x.name === svc),
    );
    const elsewhere: ServerDef[] = [];
    for (const [svc, server] of unplaced) {
      const there = s.loaded.fleet.servers[server];
      const part = there ? await currentMeta(s, stack, there) : undefined;
      if (!there || !part) continue;
      elsewhere.push(there);
      steps.push(
        servicesStateStep({
          id: `${stack}/${svc}/stop`,
          stack,
          side: sideOf(there, s.transports),
          release: part,
          services: [svc],
          want: 'stopped',
          phase: 'verify',
          dependsOn: [`${stack}/rollback`],
          title: `stop ${svc} on ${there.name} (its data kept): it runs on ${host} again`,
        }),
      );
    }
    const plan = makePlan(steps);
    const p = await preview(plan, s.transports, s.redactor);
    if (!flags.json) s.io.out(renderPlanTable(p));
    if (!flags.yes) {
      if (!(flags.interactive ?? process.stdin.isTTY))
        throw new UsageError(
          'rollback changes a server and needs a confirmation, but no one can answer here (stdin is not a terminal)',
          'Pass --yes.',
          '--yes',
        );
      const lost = unplaced
        .map(([svc, server]) => ` (writes made to ${svc} on ${server} since it moved stay there)`)
        .join('');
      if (!(await confirm(`roll ${stack} back to ${meta.id}${lost}? [y/N] `)))
        throw declined(`the rollback of ${stack}`);
    }
    const journal = openJournal(stateDir(s.io.env), s.redactor);
    try {
      const summary = await execute(
        s,
        { plan, targets: [t!, ...elsewhere.map((server) => ({ stack: t!.stack, server }))] },
        `rollback ${stack} ${meta.id}`,
        flags,
        journal,
      );
      return summary.failed > 0 ? 1 : 0;
    } finally {
      journal.close();
    }
  });
}
