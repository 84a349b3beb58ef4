/**
 * `ferry rollback STACK`: back to the release before the current one (or `--to ID`),
 * kept on the server by every deploy. Runs like an apply: lock, journal, health waits,
 * zero-downtime swaps behind the proxy, and a rollback of the rollback if it fails.
 */
import { UsageError } from '../core/errors.js';
import { makePlan } from '../engine/plan.js';
import type { Step } from '../engine/step.js';
import { openJournal } from '../journal/journal.js';
import { generatedStacks } from './generated-stacks.js';
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
import { confirm, declined, execute, withSession } from './run-plan.js';
import type { Session } from './session.js';
import type { ServerDef } from '../model/fleet.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { servicesStateStep } from '../migrate/steps/services.js';
import { sideOf, type Migration } from '../migrate/context.js';
import { newMigration } from '../migrate/plan.js';
import { databases } from '../migrate/postgres.js';
import { writeBackStep } from '../migrate/steps/write-back.js';
import { removeStep } from '../migrate/steps/remove.js';
import { reportPath } from '../migrate/report.js';
import { endpoint } from './endpoint.js';
import type { LoadedStack } from '../model/loaded.js';
import { migrationOf } from './migration-of.js';
import { cutShortRollback, rollbackMigration, type RollbackFlags } from './rollback-migration.js';
import { cutShortReleaseRollback, releaseRollbackCommand, releaseRollbackOf } from './rollback-release.js';

export type { RollbackFlags } from './rollback-migration.js';

/** The release to go back to: `to`, else the newest kept one that is not `current`. */
async function target(
  t: Transport,
  stack: string,
  sudo: boolean,
  current: string | undefined,
  to: string | undefined,
): Promise<ReleaseMeta> {
  const hist = await t.exec(quiet(cmd('cat', historyFile(stack))), { sudo });
  const ids = releaseHistory(hist.code === 0 ? hist.stdout : '').filter((id) => id !== current);
  const candidates = to ? [to] : ids;
  for (const id of candidates) {
    const meta = await readReleaseMeta(t, stack, id, sudo);
    if (meta) return meta;
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

async function currentMeta(s: Session, stack: string, server: ServerDef): Promise<ReleaseMeta | undefined> {
  return (await currentRelease(s.transports(server.name), stack, server.sudo ?? false)).meta;
}

export function rollbackCommand(stack: string, flags: RollbackFlags, io: CliIo): Promise<number> {
  return withSession(flags, io, async (s) => {
    const generated = generatedStacks(s, [stack]);
    generated.done();
    const [t] = selectTargets(s.loaded, [stack], generated.stacks);
    if (!flags.to) {
      const mig = (await migrationOf(s, stack, t!.server)) ?? cutShortRollback(s, stack, t!.server);
      if (mig) return rollbackMigration(s, stack, t!.stack.def, mig, flags);
    }
    const sudo = t!.server.sudo ?? false;
    const host = t!.server.name;
    const live = (await currentRelease(s.transports(host), stack, sudo)).id;
    const cut = flags.to ? undefined : cutShortReleaseRollback(s, stack, live);
    const meta = await target(s.transports(host), stack, sudo, live, flags.to ?? cut?.to);
    // Finishing a rollback cut short: from the release it began at, as its plan had it.
    const current = cut?.from ?? live;
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
    // Back to a release that runs a placed service on this server again: what it took since the
    // move is carried back first, and it stops where it was placed.
    const now = current ? await readReleaseMeta(s.transports(host), stack, current, sudo) : undefined;
    const back = await unplacedSteps(s, {
      loaded: t!.stack,
      host: t!.server,
      now,
      meta,
      live,
      discard: flags.discardTargetWrites === true,
    });
    const { unplaced, elsewhere } = back;
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
        dependsOn: back.writtenBack,
        title: `roll back ${current ?? '(none)'} -> ${meta.id}`,
        ...(proxy ? { switchUpstream: proxy.switchUpstream, refreshUpstreams: proxy.refreshUpstreams } : {}),
      }),
      ...(proxy ? proxy.steps : []),
      ...back.steps,
    ];
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
        .map(([svc, server]) =>
          flags.discardTargetWrites
            ? ` (DROPPING what ${svc} took on ${server} since it moved)`
            : ` (what ${svc} took on ${server} since it moved is carried back first)`,
        )
        .join('');
      if (!(await confirm(`roll ${stack} back to ${meta.id}${lost}? [y/N] `)))
        throw declined(`the rollback of ${stack}`);
    }
    const journal = openJournal(stateDir(s.io.env), s.redactor);
    try {
      const command = releaseRollbackCommand(stack, meta.id, current);
      // The same rollback, stopped before its end (killed), holds the locks: this one takes them over.
      const takeOver = journal.lastUnfinished((r) => releaseRollbackOf(r.command, stack)?.to === meta.id)?.id;
      if (takeOver && !flags.json)
        s.io.err(`finishing the unfinished rollback ${takeOver} (${command}): taking over its locks\n`);
      const summary = await execute(
        s,
        { plan, targets: [t!, ...elsewhere.map((server) => ({ stack: t!.stack, server }))] },
        command,
        flags,
        journal,
        takeOver ? { takeOver } : {},
      );
      return summary.failed > 0 ? 1 : 0;
    } finally {
      journal.close();
    }
  });
}

/**
 * The steps that bring a placed service back to the stack's server: on the stack's server,
 * the writers of the current release stopped and the service's old container started; the
 * database's tables taken since the move carried back from the placed server and proven
 * (unless discarded); the service stopped where it was placed (its data kept).
 */
async function unplacedSteps(
  s: Session,
  o: {
    loaded: LoadedStack;
    host: ServerDef;
    now: ReleaseMeta | undefined;
    meta: ReleaseMeta;
    /** The release current on the stack's server now (`now` is where the rollback began). */
    live: string | undefined;
    discard: boolean;
  },
) {
  const stack = o.loaded.def.name;
  const unplaced = Object.entries(o.now?.placed ?? {}).filter(
    ([svc, server]) => o.meta.placed?.[svc] !== server && o.meta.services.some((x) => x.name === svc),
  );
  const steps: Step[] = [];
  const writtenBack: string[] = [];
  const elsewhere: ServerDef[] = [];
  for (const [svc, server] of unplaced) {
    const there = s.loaded.fleet.servers[server];
    const part = there ? await currentMeta(s, stack, there) : undefined;
    if (!there || !part) continue;
    elsewhere.push(there);
    const d = o.loaded.project ? databases(o.loaded.project.services).find((x) => x.service === svc) : undefined;
    // Once the stack's server runs the release rolled back to (a rollback cut short after its
    // switch), its database has served since: what the placed one held was carried back
    // before the switch, and carrying it again would overwrite the writes taken since.
    if (d && o.now && !o.discard && o.live !== o.meta.id) {
      const m = newMigration(
        {
          stack: o.loaded,
          source: o.host,
          target: there,
          sourceEndpoint: await endpoint(s.transports(o.host.name), o.host),
          targetEndpoint: await endpoint(s.transports(there.name), there),
          sourceRelease: o.meta,
          transports: s.transports,
          local: s.local,
        },
        { release: part, databases: [d], volumes: [], redis: [], mode: 'dump' },
      );
      const host = o.host;
      const before = o.now.id;
      const servedThere = async (): Promise<boolean> =>
        (await currentRelease(s.transports(host.name), stack, host.sudo ?? false)).id === before;
      steps.push(...writeBackOfPlaced(stack, svc, m, o.now, servedThere));
      writtenBack.push(`${stack}/${svc}/write-back`);
    }
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
        title: `stop ${svc} on ${there.name} (its data kept): it runs on ${o.host.name} again`,
      }),
      // The move's proof no longer holds: a later move must prove again.
      removeStep({
        id: `${stack}/${svc}/report`,
        host: there.name,
        path: reportPath(stack),
        sudo: there.sudo ?? false,
        dependsOn: [`${stack}/rollback`],
      }),
    );
  }
  return { steps, writtenBack, unplaced, elsewhere };
}

/** The current release's writers stopped, the service's old container started, its tables carried back. */
function writeBackOfPlaced(
  stack: string,
  svc: string,
  m: Migration,
  now: ReleaseMeta,
  servedThere: () => Promise<boolean>,
): Step[] {
  const writers = now.services.filter((x) => x.replicas > 0 && now.placed?.[x.name] === undefined).map((x) => x.name);
  const id = (x: string) => `${stack}/${svc}/${x}`;
  return [
    servicesStateStep({
      id: id('freeze'),
      stack,
      side: m.source,
      release: now,
      services: writers,
      want: 'stopped',
      phase: 'deploy',
      dependsOn: [],
      title: `stop the writers on ${m.source.name} (${writers.join(', ')}): ${svc}'s data comes back`,
    }),
    servicesStateStep({
      id: id('source-db'),
      stack,
      side: m.source,
      release: m.sourceRelease,
      services: [svc],
      want: 'running',
      phase: 'deploy',
      dependsOn: [id('freeze')],
      title: `start ${svc} on ${m.source.name} on the data it kept`,
    }),
    writeBackStep({
      id: id('write-back'),
      m,
      copies: async () => [],
      dependsOn: [id('freeze'), id('source-db')],
      // The service's data there is in use as long as the stack's server runs the release
      // that places it there; once it runs another, its own database has served since.
      inUse: async () => ((await servedThere()) ? 'the move' : undefined),
    }),
  ];
}
