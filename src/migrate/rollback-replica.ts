/**
 * What an unfinished migration may have left, removed when it is rolled back: on the
 * target, the hold rule, the replication tunnels and any subscription; on the source,
 * the publications, the replication slots (behind which WAL would pile up on its disk)
 * and the identities set to FULL; and the two temporary SSH channels. Every step finds
 * what is there and removes only that, so it does nothing after a finished migration.
 */
import { cmd, render, script, type Command } from '../shell/command.js';
import { StepError } from '../engine/errors.js';
import type { Step, StepContext } from '../engine/step.js';
import { channelFor, channelSteps, type Endpoint } from './channel.js';
import type { Side } from './context.js';
import { psql, type Database } from './postgres.js';
import * as q from './replica-sql.js';
import { endReplication, replicationLeft } from './steps/replicate.js';
import { dbContainer } from './steps/dump.js';

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

async function run(ctx: StepContext, side: Side, c: Command): Promise<string> {
  const r = await ctx.transport.exec(c, { sudo: side.sudo, timeoutMs: 120_000 });
  if (r.code !== 0)
    throw new StepError(
      'rollback-failed',
      `${side.name}: ${ctx.redactor.redact(render(c))} failed: ${ctx.redactor.redact(r.stderr.trim().split('\n').pop() ?? '')}`,
      'Read the error, fix it, and run rollback again.',
    );
  return r.stdout.trim();
}

export function leftoverSteps(i: LeftoversInput): Step[] {
  const id = (s: string) => `${i.stack}/unmigrate/${s}`;
  const targetDbs = async (ctx: StepContext) => {
    const out: { d: Database; container: string }[] = [];
    for (const d of i.databases) {
      const container = i.targetProject
        ? await dbContainer(ctx.transport, i.target, i.targetProject, d.service).catch(() => undefined)
        : undefined;
      if (container) out.push({ d, container });
    }
    return out;
  };
  const onTarget = async (ctx: StepContext) => {
    const [holds, tunnels] = await Promise.all([
      run(ctx, i.target, holdRulesCommand(i.stack)),
      ctx.transport.exec(tunnelsCommand(i.stack), { sudo: i.target.sudo }),
    ]);
    const subs: string[] = [];
    for (const { d, container } of await targetDbs(ctx))
      if ((await run(ctx, i.target, psql(container, d, q.subscriptionExistsSql(d)))) === '1')
        subs.push(q.replicaName(d));
    return [
      ...(holds ? ['the hold rule'] : []),
      ...(tunnels.code === 0 ? ['replication tunnels'] : []),
      ...subs.map((s) => `subscription ${s}`),
    ];
  };
  const target: Step = {
    id: id('replica-target'),
    host: i.target.name,
    phase: 'deploy',
    title: `remove what replication left on ${i.target.name}`,
    dependsOn: [],
    doc: () => ({
      purpose: `Remove the hold rule, the replication tunnels and any subscription a migration left on ${i.target.name}.`,
      commands: [
        render(dropHoldRulesCommand(i.stack)),
        render(stopTunnelsCommand(i.stack)),
        ...i.databases.map((d) => q.detachSubscriptionSql(d)),
      ],
      verify: 'None of them is left.',
      undo: 'Nothing: migrate again to replicate again.',
    }),
    async check(ctx) {
      const left = await onTarget(ctx);
      return left.length === 0 ? { needed: false } : { needed: true, change: { summary: `remove ${left.join(', ')}` } };
    },
    async apply(ctx) {
      await run(ctx, i.target, dropHoldRulesCommand(i.stack));
      for (const { d, container } of await targetDbs(ctx)) {
        if ((await run(ctx, i.target, psql(container, d, q.subscriptionExistsSql(d)))) === '1')
          await run(ctx, i.target, psql(container, d, q.detachSubscriptionSql(d)));
      }
      await run(ctx, i.target, stopTunnelsCommand(i.stack));
    },
    async verify(ctx) {
      const left = await onTarget(ctx);
      return left.length === 0 ? { ok: true } : { ok: false, message: `left: ${left.join(', ')}` };
    },
    async rollback() {},
  };
  const sourceDbs = (ctx: StepContext) =>
    Promise.all(
      i.databases.map(async (d) => ({
        side: i.source,
        stack: i.stack,
        d,
        container: await dbContainer(ctx.transport, i.source, i.sourceProject, d.service),
      })),
    );
  const onSource = async (ctx: StepContext) => (await Promise.all((await sourceDbs(ctx)).map(replicationLeft))).flat();
  const source: Step = {
    id: id('replica-source'),
    host: i.source.name,
    phase: 'deploy',
    title: `remove what replication left on ${i.source.name}`,
    dependsOn: [...i.dependsOn, target.id],
    doc: () => ({
      purpose: `Drop the publications and replication slots a migration left on ${i.source.name} (WAL piles up behind a slot), and put back the identities of tables without a key.`,
      commands: i.databases.flatMap((d) => [q.dropPublicationSql(d), q.dropSlotSql(d)]),
      verify: 'None of them is left.',
      undo: 'Nothing.',
    }),
    async check(ctx) {
      const left = await onSource(ctx);
      return left.length === 0 ? { needed: false } : { needed: true, change: { summary: `remove ${left.join(', ')}` } };
    },
    async apply(ctx) {
      for (const db of await sourceDbs(ctx)) await endReplication({ ...db, redact: (x) => ctx.redactor.redact(x) });
    },
    async verify(ctx) {
      const left = await onSource(ctx);
      return left.length === 0 ? { ok: true } : { ok: false, message: `left: ${left.join(', ')}` };
    },
    async rollback() {},
  };
  const channels = [
    channelFor(i.stack, i.sourceEndpoint, i.targetEndpoint),
    channelFor(`${i.stack}-replica`, i.targetEndpoint, i.sourceEndpoint),
  ].map((ch, k) => {
    const [from, to] = k === 0 ? [i.source, i.target] : [i.target, i.source];
    const { close } = channelSteps({ ch, source: from.transport, target: to.transport, dependsOn: [] });
    close.id = id(k === 0 ? 'channel' : 'replica-channel');
    close.dependsOn = [target.id];
    return close;
  });
  return [target, ...(i.databases.length > 0 ? [source] : []), ...channels];
}
