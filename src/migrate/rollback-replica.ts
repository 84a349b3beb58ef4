/**
 * What an unfinished migration may have left, removed when it is rolled back: on the
 * target, the hold rule, the replication tunnels and any subscription; on the source,
 * the publications, the replication slots (behind which WAL would pile up on its disk)
 * and the identities set to FULL; and the two temporary SSH channels. Every step finds
 * what is there and removes only that, so it does nothing after a finished migration.
 */
import { cmd, render, script, type Command } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import { withPlace, type Step, type StepContext } from '../engine/step.js';
import { channelFor, channelSteps, type Endpoint } from './channel.js';
import type { Side } from './context.js';
import { psql, runPg, type Database, type Instead } from './postgres.js';
import * as q from './replica-sql.js';
import { endReplication, replicationLeft } from './steps/replicate.js';
import { dbContainer } from './db-container.js';
import { stackDir } from '../deploy/layout.js';

/** Lists the hold rules of the stack (iptables -S lines). */
export const holdRulesCommand = (stack: string): Command =>
  script(
    `for t in iptables ip6tables; do $t -w -S INPUT 2>/dev/null | grep -e "--comment ferry-hold-$1 " | sed "s/^/$t /"; done; true`,
    stack,
  );
/** Deletes them. */
export const dropHoldRulesCommand = (stack: string): Command =>
  script(
    `for t in iptables ip6tables; do $t -w -S INPUT 2>/dev/null | grep -e "--comment ferry-hold-$1 " | sed 's/^-A /-D /' | while read -r rule; do $t -w $rule; done; done; true`,
    stack,
  );
/** Lists the files of the tables' snapshot proof (replicate mode) left on the target. */
export const proofFilesCommand = (stack: string): Command =>
  script('ls -1d "$1"/proof-*.sql "$1"/proof-*.out "$1"/proof-*.partial 2>/dev/null; true', stackDir(stack));
export const removeProofFilesCommand = (stack: string): Command =>
  script('rm -f "$1"/proof-*.sql "$1"/proof-*.out "$1"/proof-*.partial', stackDir(stack));
export const tunnelsCommand = (stack: string): Command =>
  cmd('pgrep', '-f', `[f]erry-migrate-${stack}-replica .*SetEnv=FERRY_TUNNEL=`);
export const stopTunnelsCommand = (stack: string): Command =>
  script('pkill -f "$1"; true', `[f]erry-migrate-${stack}-replica .*SetEnv=FERRY_TUNNEL=`);

export interface LeftoversInput {
  stack: string;
  source: Side;
  target: Side;
  sourceProject: string;
  targetProject?: string;
  databases: Database[];
  sourceEndpoint: Endpoint;
  targetEndpoint: Endpoint;
  /** After these: the source's databases run again. */
  dependsOn: string[];
}

/** What a leftover step's check found: one phrase per thing left (`the hold rule`, `subscription …`). */
export interface LeftoverObserved {
  left: string[];
}

const FAILED: Instead = { code: 'rollback-failed', hint: 'Read the error, fix it, and run rollback again.' };
const TIMEOUT_MS = 120_000;

/** The hold and tunnel scripts end in `true`: they fail only when the shell (or sudo) cannot run them. */
async function runScript(ctx: StepContext, side: Side, c: Command): Promise<string> {
  const r = await ctx.transport.exec(c, { sudo: side.sudo, timeoutMs: TIMEOUT_MS });
  if (r.code !== 0)
    throw new StepError(
      'rollback-failed',
      `${side.name}: ${ctx.redactor.redact(render(c))} failed: ${ctx.redactor.redact(r.stderr.trim().split('\n').pop() ?? '')}`,
      FAILED.hint,
    );
  return r.stdout.trim();
}

async function sqlOn(ctx: StepContext, side: Side, container: string, d: Database, text: string): Promise<string> {
  const out = await runPg(ctx.transport, psql(container, d, text), {
    sudo: side.sudo,
    what: `psql in ${container}`,
    redact: (x) => ctx.redactor.redact(x),
    timeoutMs: TIMEOUT_MS,
    instead: FAILED,
  });
  return out.trim();
}

const leftResult = (left: string[]) =>
  left.length === 0
    ? { needed: false, observed: { left } }
    : { needed: true, change: { summary: `remove ${left.join(', ')}` }, observed: { left } };

/** On the target: the hold rule, the replication tunnels, the subscriptions of the databases running there. */
function targetLeftoverStep(i: LeftoversInput, id: string): Step<LeftoverObserved> {
  const { target } = i;
  const running = async (ctx: StepContext) => {
    const out: { d: Database; container: string }[] = [];
    for (const d of i.databases) {
      const container = i.targetProject
        ? await dbContainer(ctx.transport, target, i.targetProject, d.service).catch(() => undefined)
        : undefined;
      if (container) out.push({ d, container });
    }
    return out;
  };
  const subscribed = async (ctx: StepContext) => {
    const out: { d: Database; container: string }[] = [];
    for (const db of await running(ctx))
      if ((await sqlOn(ctx, target, db.container, db.d, q.subscriptionExistsSql(db.d))) === '1') out.push(db);
    return out;
  };
  const left = async (ctx: StepContext) => {
    const [holds, tunnels, proofs] = await Promise.all([
      runScript(ctx, target, holdRulesCommand(i.stack)),
      ctx.transport.exec(tunnelsCommand(i.stack), { sudo: target.sudo }),
      runScript(ctx, target, proofFilesCommand(i.stack)),
    ]);
    return [
      ...(holds ? ['the hold rule'] : []),
      ...(tunnels.code === 0 ? ['replication tunnels'] : []),
      ...(proofs ? ["the tables' proof files"] : []),
      ...(await subscribed(ctx)).map(({ d }) => `subscription ${q.replicaName(d)}`),
    ];
  };
  return {
    id,
    host: target.name,
    phase: 'deploy',
    title: `remove what replication left on ${target.name}`,
    dependsOn: [],
    doc: () => ({
      purpose: `Remove the hold rule, the replication tunnels, any subscription and the tables' proof files a migration left on ${target.name}.`,
      commands: [
        render(dropHoldRulesCommand(i.stack)),
        render(stopTunnelsCommand(i.stack)),
        render(removeProofFilesCommand(i.stack)),
        ...i.databases.map((d) => q.detachSubscriptionSql(d)),
      ],
      verify: 'None of them is left.',
      undo: 'Nothing: migrate again to replicate again.',
    }),
    check: async (ctx) => leftResult(await left(ctx)),
    // From what is there now, not from the check: a rollback run again after a partial one finds less.
    async apply(ctx) {
      await runScript(ctx, target, dropHoldRulesCommand(i.stack));
      for (const { d, container } of await running(ctx))
        if ((await sqlOn(ctx, target, container, d, q.subscriptionExistsSql(d))) === '1')
          await sqlOn(ctx, target, container, d, q.detachSubscriptionSql(d));
      await runScript(ctx, target, stopTunnelsCommand(i.stack));
      await runScript(ctx, target, removeProofFilesCommand(i.stack));
    },
    async verify(ctx) {
      const rest = await left(ctx);
      return rest.length === 0 ? { ok: true } : { ok: false, message: `left: ${rest.join(', ')}` };
    },
    async rollback() {},
  };
}

/** On the source: the publications, the replication slots, the identities set to FULL. */
function sourceLeftoverStep(i: LeftoversInput, id: string, dependsOn: string[]): Step<LeftoverObserved> {
  const { source } = i;
  const sourceDbs = (ctx: StepContext) =>
    Promise.all(
      i.databases.map(async (d) => ({
        side: source,
        transport: ctx.transport,
        stack: i.stack,
        d,
        container: await dbContainer(ctx.transport, source, i.sourceProject, d.service),
        redact: (x: string) => ctx.redactor.redact(x),
      })),
    );
  const left = async (ctx: StepContext) => (await Promise.all((await sourceDbs(ctx)).map(replicationLeft))).flat();
  return {
    id,
    host: source.name,
    phase: 'deploy',
    title: `remove what replication left on ${source.name}`,
    dependsOn,
    doc: () => ({
      purpose: `Drop the publications and replication slots a migration left on ${source.name} (WAL piles up behind a slot), and put back the identities of tables without a key.`,
      commands: i.databases.flatMap((d) => [q.dropPublicationSql(d), q.dropSlotSql(d)]),
      verify: 'None of them is left.',
      undo: 'Nothing.',
    }),
    check: async (ctx) => leftResult(await left(ctx)),
    async apply(ctx) {
      for (const db of await sourceDbs(ctx)) await endReplication(db);
    },
    async verify(ctx) {
      const rest = await left(ctx);
      return rest.length === 0 ? { ok: true } : { ok: false, message: `left: ${rest.join(', ')}` };
    },
    async rollback() {},
  };
}

export function leftoverSteps(i: LeftoversInput): Step[] {
  const id = (s: string) => `${i.stack}/unmigrate/${s}`;
  const target = targetLeftoverStep(i, id('replica-target'));
  const channels = [
    { ch: channelFor(i.stack, i.sourceEndpoint, i.targetEndpoint), name: 'channel' },
    { ch: channelFor(`${i.stack}-replica`, i.targetEndpoint, i.sourceEndpoint), name: 'replica-channel' },
    { ch: channelFor(`${i.stack}-back`, i.targetEndpoint, i.sourceEndpoint), name: 'back-channel' },
  ].map(({ ch, name }) => {
    const { close } = channelSteps({ ch, closeId: id(name), dependsOn: [] });
    // After the target's leftovers and the source started again (a write-back before it uses the
    // back channel), not after an open this plan has not.
    return withPlace(close, { dependsOn: [target.id, ...i.dependsOn] });
  });
  return [
    target,
    ...(i.databases.length > 0 ? [sourceLeftoverStep(i, id('replica-source'), [...i.dependsOn, target.id])] : []),
    ...channels,
  ];
}
