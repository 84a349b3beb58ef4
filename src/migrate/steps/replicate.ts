/**
 * One database moved by logical replication (`--mode replicate`):
 *
 *   publish    on the source: wal_level=logical (a restart of the database when it is not),
 *              tables without a primary key replicated by whole row (REPLICA IDENTITY FULL),
 *              or refused when a column cannot be compared; a publication of every table
 *   schema     the source's schema restored on the target (pg_dump --schema-only, no rows)
 *   subscribe  on the target: truncate what an earlier attempt left, subscribe through the
 *              tunnel; verified once every table is copied and streaming
 *   cut-over   writers stopped: the target confirmed the source's last position, the
 *              sequences set to the source's values, the subscription dropped (and with it
 *              the source's replication slot)
 *   clean      on the source: the publication dropped, identities put back
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cmd, quiet, render } from '../../shell/command.js';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { Secret } from '../../core/secret.js';
import { stackDir } from '../../deploy/layout.js';
import type { Transport } from '../../transport/transport.js';
import { onTarget } from '../channel.js';
import type { Migration, Side } from '../context.js';
import { awaitAccepting, psql, TABLES_SQL, type Database } from '../postgres.js';
import * as q from '../replica-sql.js';
import { dbContainer, targetDbContainer } from './dump.js';

async function sql(t: Transport, side: Side, container: string, d: Database, text: string): Promise<string> {
  const r = await t.exec(psql(container, d, text), { sudo: side.sudo, timeoutMs: 10 * 60_000 });
  if (r.code !== 0)
    throw new StepError(
      'replication-failed',
      `${side.name}: psql in ${container} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`,
      'Read the error; fix the database, then run migrate again with --resume.',
    );
  return r.stdout.trim();
}

/** SQL on stdin: for statements holding a secret, and for many at once. */
async function sqlIn(
  t: Transport,
  side: Side,
  container: string,
  d: Database,
  text: string | Secret,
  redact: (s: string) => string,
): Promise<void> {
  const r = await t.exec(q.psqlStdin(container, d), { sudo: side.sudo, stdin: text, timeoutMs: 10 * 60_000 });
  if (r.code !== 0)
    throw new StepError(
      'replication-failed',
      `${side.name}: psql in ${container} failed: ${redact(r.stderr.trim().split('\n').slice(-2).join(' / '))}`,
      'Read the error; fix the database, then run migrate again with --resume.',
    );
}

const lines = (s: string): string[] =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** Where the source keeps the tables whose identity the migration set to FULL, to put them back. */
export const identityPath = (stack: string, d: Database): string => `${stackDir(stack)}/replica-identity-${d.service}`;

interface Ends {
  src: string;
  tgt: string;
}

/** The database's containers on both sides; `fresh` for steps that may meet the target's on its first start. */
function ends(m: Migration, d: Database, fresh = false) {
  return {
    source: () => dbContainer(m.source.transport(), m.source, m.sourceRelease.project, d.service),
    target: () =>
      fresh ? targetDbContainer(m, d) : dbContainer(m.target.transport(), m.target, m.release.project, d.service),
    async both(): Promise<Ends> {
      return { src: await this.source(), tgt: await this.target() };
    },
  };
}

/** What keeps a database from logical replication: tables without a key that cannot be compared, large objects. */
async function obstacles(
  m: Migration,
  d: Database,
  src: string,
): Promise<{ noKey: q.NoKeyTable[]; problems: string[] }> {
  const t = m.source.transport();
  const noKey = q.parseNoKey(await sql(t, m.source, src, d, q.NO_KEY_SQL));
  const problems: string[] = [];
  if (noKey.length > 0) {
    for (const l of lines(await sql(t, m.source, src, d, q.noEqualitySql(noKey.map((x) => x.name))))) {
      const [table, column, type] = l.split('|');
      problems.push(
        `table ${table} has no primary key and its column ${column} is of type ${type}, which cannot be compared`,
      );
    }
  }
  if (Number(await sql(t, m.source, src, d, q.LARGE_OBJECTS_SQL)) > 0)
    problems.push('the database holds large objects (pg_largeobject), which logical replication does not carry');
  return { noKey, problems };
}

export function publishStep(o: { id: string; m: Migration; d: Database; dependsOn: string[] }): Step {
  const { m, d } = o;
  const e = ends(m, d);
  const t = () => m.source.transport();
  const state = async (src: string) => {
    const [wal, pub, obs] = await Promise.all([
      sql(t(), m.source, src, d, q.WAL_LEVEL_SQL),
      sql(t(), m.source, src, d, q.publicationExistsSql(d)),
      obstacles(m, d, src),
    ]);
    return { logical: wal === 'logical', published: pub === '1', ...obs };
  };
  return {
    id: o.id,
    host: m.source.name,
    phase: 'transfer',
    title: `publish database ${d.db} (${d.service}) on ${m.source.name} for replication`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Prepare ${d.db} on ${m.source.name} for logical replication: wal_level=logical (set with ALTER SYSTEM and a restart of ${d.service} when it is not: a few seconds without the database), REPLICA IDENTITY FULL for tables without a primary key, and a publication of every table.`,
      commands: [
        q.SET_WAL_LEVEL_SQL,
        `docker restart ${d.service.toUpperCase()}_CONTAINER (only when wal_level was not logical)`,
        q.replicaIdentitySql(['TABLE_WITHOUT_KEY'], true),
        q.createPublicationSql(d),
      ],
      verify: `${q.WAL_LEVEL_SQL} is logical; the publication ${q.replicaName(d)} exists.`,
      undo: `${q.dropPublicationSql(d)}; identities put back to DEFAULT. wal_level stays logical (harmless; revert it with ALTER SYSTEM RESET wal_level and a restart).`,
    }),
    async check() {
      const s = await state(await e.source());
      if (s.problems.length > 0) {
        throw new StepError(
          'replicate-unsupported',
          `${m.source.name}: database ${d.db} cannot be moved by replication: ${s.problems.join('; ')}`,
          'Give those tables a primary key (or a column that can be compared), or move the stack with --mode dump (its writers stop for the time of a dump and restore).',
        );
      }
      const todo = [
        ...(s.logical ? [] : [`restart ${d.service} with wal_level=logical`]),
        ...s.noKey.filter((x) => !x.full).map((x) => `${x.name} (no primary key) replicated by whole row`),
        ...(s.published ? [] : [`publication ${q.replicaName(d)}`]),
      ];
      return todo.length === 0 ? { needed: false } : { needed: true, change: { summary: todo.join('; ') } };
    },
    async apply(ctx) {
      let src = await e.source();
      const s = await state(src);
      if (!s.logical) {
        await sql(ctx.transport, m.source, src, d, q.SET_WAL_LEVEL_SQL);
        const r = await ctx.transport.exec(cmd('docker', 'restart', src), {
          sudo: m.source.sudo,
          timeoutMs: 5 * 60_000,
        });
        if (r.code !== 0)
          throw new StepError(
            'replication-failed',
            `${m.source.name}: docker restart ${src} failed: ${r.stderr.trim()}`,
            'Check the container (docker logs), then run migrate again.',
          );
        await awaitAccepting(ctx.transport, src, m.source.sudo, 2 * 60_000);
        src = await e.source();
      }
      const setFull = s.noKey.filter((x) => !x.full).map((x) => x.name);
      if (setFull.length > 0) {
        // Recorded first, so that a resumed run or the clean-up puts them back.
        await ctx.transport.upload(identityPath(m.stack, d), `${setFull.join('\n')}\n`, {
          mode: 0o600,
          sudo: m.source.sudo,
        });
        await sqlIn(ctx.transport, m.source, src, d, q.replicaIdentitySql(setFull, true), (x) =>
          ctx.redactor.redact(x),
        );
      }
      if (!s.published) await sql(ctx.transport, m.source, src, d, q.createPublicationSql(d));
    },
    async verify() {
      const s = await state(await e.source());
      return s.logical && s.published && s.noKey.every((x) => x.full)
        ? { ok: true }
        : {
            ok: false,
            message: `wal_level ${s.logical ? 'logical' : 'not logical'}, publication ${s.published ? 'present' : 'missing'}`,
          };
    },
    async rollback(ctx) {
      await endReplication({
        side: m.source,
        stack: m.stack,
        container: await e.source(),
        d,
        redact: (x) => ctx.redactor.redact(x),
      });
    },
  };
}

/** One database of the source, where a migration of `stack` replicates from. */
export interface SourceDb {
  side: Side;
  stack: string;
  container: string;
  d: Database;
}

/** What replication left on the source: a publication, a slot, identities to put back. */
export async function replicationLeft(o: SourceDb): Promise<string[]> {
  const t = o.side.transport();
  const [pub, slot, ids] = await Promise.all([
    sql(t, o.side, o.container, o.d, q.publicationExistsSql(o.d)),
    sql(t, o.side, o.container, o.d, q.slotSql(o.d)),
    t.exec(quiet(cmd('test', '-e', identityPath(o.stack, o.d))), { sudo: o.side.sudo }),
  ]);
  return [
    ...(pub === '1' ? [`publication ${q.replicaName(o.d)}`] : []),
    ...(slot ? [`replication slot ${q.replicaName(o.d)}`] : []),
    ...(ids.code === 0 ? [`identities of ${o.d.db} to put back`] : []),
  ];
}

/** Drops the publication and the slot (once its sender has exited), and puts back the identities set to FULL: on the source, and on `target` when given. */
export async function endReplication(
  o: SourceDb & { redact: (s: string) => string; target?: { side: Side; container: string } },
): Promise<void> {
  const t = o.side.transport();
  await sql(t, o.side, o.container, o.d, q.dropPublicationSql(o.d));
  await dropSlot(o);
  const recorded = await t.exec(quiet(cmd('cat', identityPath(o.stack, o.d))), { sudo: o.side.sudo });
  const tables = recorded.code === 0 ? lines(recorded.stdout) : [];
  if (tables.length > 0) {
    await sqlIn(t, o.side, o.container, o.d, q.replicaIdentitySql(tables, false), o.redact);
    if (o.target)
      await sqlIn(
        o.target.side.transport(),
        o.target.side,
        o.target.container,
        o.d,
        q.replicaIdentitySql(tables, false),
        o.redact,
      );
  }
  await t.exec(cmd('rm', '-f', identityPath(o.stack, o.d)), { sudo: o.side.sudo });
}

export function cleanSourceStep(o: { id: string; m: Migration; d: Database; dependsOn: string[] }): Step {
  const { m, d } = o;
  const left = async (t: Transport): Promise<string[]> => {
    const src = await dbContainer(t, m.source, m.sourceRelease.project, d.service).catch(() => undefined);
    return src ? replicationLeft({ side: m.source, stack: m.stack, container: src, d }) : [];
  };
  return {
    id: o.id,
    host: m.source.name,
    phase: 'deploy',
    title: `end replication of ${d.db} on ${m.source.name}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Drop the publication (and any replication slot left, behind which WAL would pile up) and put back the identities of tables without a key, on ${m.source.name} and ${m.target.name}.`,
      commands: [q.dropPublicationSql(d), q.dropSlotSql(d), q.replicaIdentitySql(['TABLE_WITHOUT_KEY'], false)],
      verify: 'No publication or slot of the migration is left.',
      undo: 'Nothing: a new migration publishes again.',
    }),
    async check(ctx) {
      const l = await left(ctx.transport);
      return l.length === 0 ? { needed: false } : { needed: true, change: { summary: `remove ${l.join(', ')}` } };
    },
    async apply(ctx) {
      const [src, tgt] = await Promise.all([
        dbContainer(ctx.transport, m.source, m.sourceRelease.project, d.service),
        dbContainer(m.target.transport(), m.target, m.release.project, d.service),
      ]);
      await endReplication({
        side: m.source,
        stack: m.stack,
        container: src,
        d,
        redact: (x) => ctx.redactor.redact(x),
        target: { side: m.target, container: tgt },
      });
    },
    async verify(ctx) {
      const l = await left(ctx.transport);
      return l.length === 0 ? { ok: true } : { ok: false, message: `left: ${l.join(', ')}` };
    },
    async rollback() {},
  };
}

export function schemaStep(o: { id: string; m: Migration; d: Database; dependsOn: string[] }): Step {
  const { m, d } = o;
  const e = ends(m, d, true);
  const tables = async ({ src, tgt }: Ends) => {
    const [a, b] = await Promise.all([
      sql(m.source.transport(), m.source, src, d, TABLES_SQL),
      sql(m.target.transport(), m.target, tgt, d, TABLES_SQL),
    ]);
    return { source: lines(a), target: lines(b) };
  };
  return {
    id: o.id,
    host: m.source.name,
    phase: 'transfer',
    title: `copy the schema of ${d.db} to ${m.target.name}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Create ${d.db}'s tables, sequences, indexes and constraints on ${m.target.name} (no rows: replication copies them).`,
      commands: [
        render(
          q.schemaCopyCommand('SOURCE_CONTAINER', onTarget(m.ch, q.schemaRestoreCommand('TARGET_CONTAINER', d)), d),
        ),
      ],
      verify: 'The target has the same tables as the source.',
      undo: 'Nothing on the source; the target database is new.',
    }),
    async check() {
      const x = await tables(await e.both());
      if (x.source.join() === x.target.join()) return { needed: false };
      if (x.target.length > 0)
        throw new StepError(
          'target-not-empty',
          `${m.target.name}: database ${d.db} already has tables that differ from the source's (${x.target.slice(0, 5).join(', ')})`,
          `Remove the stack from ${m.target.name} (\`ferry retire ${m.stack} --from ${m.target.name}\` once nothing there is needed) and migrate again.`,
        );
      return { needed: true, change: { summary: `${x.source.length} tables, no rows` } };
    },
    async apply(ctx) {
      const { src, tgt } = await e.both();
      const r = await ctx.transport.exec(q.schemaCopyCommand(src, onTarget(m.ch, q.schemaRestoreCommand(tgt, d)), d), {
        sudo: m.source.sudo,
        timeoutMs: 30 * 60_000,
      });
      if (r.code !== 0)
        throw new StepError(
          'schema-copy-failed',
          `${m.source.name} -> ${m.target.name}: copying the schema of ${d.db} failed: ${ctx.redactor.redact(r.stderr.trim().split('\n').slice(-2).join(' / '))}`,
          'The source was only read. Fix the cause (versions, extensions), then run migrate again.',
        );
    },
    async verify() {
      const x = await tables(await e.both());
      return x.source.join() === x.target.join()
        ? { ok: true }
        : { ok: false, message: `tables differ: source ${x.source.length}, target ${x.target.length}` };
    },
    async rollback() {},
  };
}

/** The subscription's tables and states; ready when every source table is copied and streaming. */
async function copyState(
  m: Migration,
  d: Database,
  { src, tgt }: Ends,
): Promise<{ ready: boolean; copying: string[] }> {
  const [want, have] = await Promise.all([
    sql(m.source.transport(), m.source, src, d, TABLES_SQL),
    sql(m.target.transport(), m.target, tgt, d, q.subscriptionTablesSql(d)),
  ]);
  const states = new Map(lines(have).map((l) => [l.slice(0, l.lastIndexOf('|')), l.slice(l.lastIndexOf('|') + 1)]));
  const copying = lines(want).filter((t) => states.get(t) !== 'r');
  return { ready: copying.length === 0, copying };
}

const passwordOf = (m: Migration, d: Database): string => m.passwords?.[d.service]?.reveal() ?? '';

export function subscribeStep(o: {
  id: string;
  m: Migration;
  d: Database;
  dependsOn: string[];
  copyTimeoutMs?: number;
}): Step {
  const { m, d } = o;
  const e = ends(m, d, true);
  const exists = async (tgt: string) =>
    (await sql(m.target.transport(), m.target, tgt, d, q.subscriptionExistsSql(d))) === '1';
  return {
    id: o.id,
    host: m.target.name,
    phase: 'transfer',
    title: `subscribe ${m.target.name}'s ${d.db} to ${m.source.name}'s, copy and stream`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Subscribe the target's ${d.db} to the source's publication through the tunnel: it copies every table while the stack keeps running and serving, then applies every change as it happens. The password goes in on stdin.`,
      commands: [q.createSubscriptionInput(d, 'PASSWORD').trim()],
      verify: 'Every table of the source is copied and streaming (state r in pg_subscription_rel).',
      undo: q.dropSubscriptionSql(d),
    }),
    async check() {
      if (await exists(await e.target())) return { needed: false };
      return {
        needed: true,
        change: { summary: `subscription ${q.replicaName(d)}: copy every table, then stream changes` },
      };
    },
    async apply(ctx) {
      const tgt = await e.target();
      // Rows an earlier attempt copied would collide with the copy: the target serves nothing yet.
      const left = lines(await sql(ctx.transport, m.target, tgt, d, TABLES_SQL));
      if (left.length > 0) await sql(ctx.transport, m.target, tgt, d, `TRUNCATE ${left.join(', ')}`);
      await sqlIn(ctx.transport, m.target, tgt, d, new Secret(q.createSubscriptionInput(d, passwordOf(m, d))), (x) =>
        ctx.redactor.redact(x),
      );
    },
    async verify() {
      const deadline = Date.now() + (o.copyTimeoutMs ?? 6 * 60 * 60_000);
      for (;;) {
        const s = await copyState(m, d, await e.both());
        if (s.ready) return { ok: true };
        if (Date.now() > deadline) return { ok: false, message: `still copying: ${s.copying.join(', ')}` };
        await sleep(500);
      }
    },
    async rollback(ctx) {
      await dropSubscription(ctx, m, d, await e.target());
    },
  };
}

/** Drops the subscription (and its slot on the source, through the tunnel); without the tunnel, lets go of it and drops the slot on the source. */
async function dropSubscription(ctx: StepContext, m: Migration, d: Database, tgt: string): Promise<void> {
  const r = await ctx.transport.exec(psql(tgt, d, q.dropSubscriptionSql(d)), {
    sudo: m.target.sudo,
    timeoutMs: 60_000,
  });
  if (r.code === 0) return;
  await sql(ctx.transport, m.target, tgt, d, q.detachSubscriptionSql(d));
  await dropSlot({
    side: m.source,
    stack: m.stack,
    container: await dbContainer(m.source.transport(), m.source, m.sourceRelease.project, d.service),
    d,
  });
}

/** Drops the source's slot once its sender has exited (a slot left behind keeps WAL on the source's disk). */
async function dropSlot(o: SourceDb): Promise<void> {
  const t = o.side.transport();
  for (let i = 0; i < 60; i++) {
    await sql(t, o.side, o.container, o.d, q.dropSlotSql(o.d));
    if (!(await sql(t, o.side, o.container, o.d, q.slotSql(o.d)))) return;
    await sleep(500);
  }
  throw new StepError(
    'replication-failed',
    `${o.side.name}: the replication slot ${q.replicaName(o.d)} is still in use after 30 s`,
    `Drop it once the target no longer uses it: ${q.dropSlotSql(o.d)} (WAL piles up behind it).`,
  );
}

export function cutoverStep(o: {
  id: string;
  m: Migration;
  d: Database;
  dependsOn: string[];
  catchUpTimeoutMs?: number;
}): Step {
  const { m, d } = o;
  const e = ends(m, d);
  // Found once: the step runs inside the pause, where every round trip counts.
  let found: Ends | undefined;
  const both = async () => (found ??= await e.both());
  const onTarget = (x: Ends, text: string) => sql(m.target.transport(), m.target, x.tgt, d, text);
  const onSource = (x: Ends, text: string) => sql(m.source.transport(), m.source, x.src, d, text);
  const state = async (x: Ends) => {
    const [subscribed, a, b] = await Promise.all([
      onTarget(x, q.subscriptionExistsSql(d)),
      onSource(x, q.SEQUENCES_SQL),
      onTarget(x, q.SEQUENCES_SQL),
    ]);
    return { subscribed: subscribed === '1', sequences: q.sequencesDiffer(a, b) };
  };
  return {
    id: o.id,
    host: m.target.name,
    phase: 'deploy',
    title: `${m.target.name}'s ${d.db} catches up with ${m.source.name}'s; sequences set; replication ends`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `Writers stopped: wait until the target has confirmed the source's last position, set every sequence to the source's value, then drop the subscription here (the source's slot is dropped by the clean-up, once the target serves).`,
      commands: [q.CUT_OVER_SQL, q.confirmedSql(d, 'LSN'), q.detachSubscriptionSql(d)],
      verify: 'The sequences are equal on both sides and no subscription is left.',
      undo: 'Nothing: the source was only read.',
    }),
    async check() {
      const s = await state(await both());
      if (!s.subscribed && s.sequences.length === 0) return { needed: false };
      return {
        needed: true,
        change: { summary: `catch up, ${s.sequences.length} sequences to set, end the subscription` },
      };
    },
    async apply(ctx) {
      const x = await both();
      const deadline = Date.now() + (o.catchUpTimeoutMs ?? 10 * 60_000);
      const [exists, copied] = await Promise.all([onTarget(x, q.subscriptionExistsSql(d)), copyState(m, d, x)]);
      const subscribed = exists === '1';
      if (subscribed) {
        for (let c = copied; !c.ready; c = await copyState(m, d, x)) {
          if (Date.now() > deadline)
            throw new StepError(
              'replication-behind',
              `${m.target.name}: ${d.db} is still copying tables`,
              'Run migrate again with --resume (the writers stay stopped until it ends), or roll back.',
            );
          await sleep(200);
        }
      }
      // The source's last position and its sequences, read at once: its writers are stopped.
      const { lsn, setvals } = q.parseCutOver(await onSource(x, q.CUT_OVER_SQL));
      if (lsn === undefined)
        throw new StepError(
          'replication-failed',
          `${m.source.name}: ${d.db} gave no WAL position for the cut-over`,
          'Check the source database (docker logs), then run migrate again with --resume, or roll back.',
        );
      if (subscribed) {
        while ((await onSource(x, q.confirmedSql(d, lsn))) !== 't') {
          if (Date.now() > deadline)
            throw new StepError(
              'replication-behind',
              `${m.target.name}: ${d.db} has not confirmed the source's position ${lsn}`,
              'Check the tunnel and the target database (docker logs), then run migrate again with --resume, or roll back.',
            );
          await sleep(50);
        }
      }
      // The sequences set and the subscription let go of in one call. The source's slot is
      // dropped by the clean-up once the target serves: dropping it waits for its sender to exit.
      const script = [...setvals, ...(subscribed ? [`${q.detachSubscriptionSql(d)};`] : [])];
      if (script.length > 0)
        await sqlIn(ctx.transport, m.target, x.tgt, d, `${script.join('\n')}\n`, (t) => ctx.redactor.redact(t));
    },
    async verify() {
      const s = await state(await both());
      return !s.subscribed && s.sequences.length === 0
        ? { ok: true }
        : {
            ok: false,
            message: s.subscribed ? 'the subscription is still there' : `sequences differ: ${s.sequences.join(', ')}`,
          };
    },
    async rollback() {},
  };
}
