/**
 * The steps of `ferry restore STACK`, all on the stack's server:
 *
 *   stage    each source that differs from the backup run is restored beside the live
 *            data (a staging database, RDB file or directory) and proven there against
 *            the run's manifest, while the stack runs: a backup that does not restore is
 *            found before anything is stopped
 *   stop     the stack's services stopped, but its Postgres (the swap renames databases in
 *            it) and the Redis services not restored; a restored Redis is saved first
 *   swap     the live data renamed aside (kept: `DB_before_ID`, `.ferry-before-ID`,
 *            `ferry-before-ID`), the staged data renamed into its place
 *   prove    the restored Redis services started alone, and the data proven against the
 *            manifest where the stack will read it, before anything that writes runs
 *   start    the rest of the stack started again and waited for
 *
 * Nothing is overwritten: what the stack held before is kept under the restore's id, and a
 * failure undoes the swap (the restored data, which may have served, is kept too).
 */
import type { Step, StepContext } from '../engine/step.js';
import { StepError } from '../engine/errors.js';
import { projectContainers } from '../deploy/containers.js';
import type { ReleaseMeta } from '../deploy/release-meta.js';
import { servicesStateStep } from '../migrate/steps/services.js';
import { volumeManifest } from '../migrate/manifest.js';
import { tableSums, type Database } from '../migrate/postgres.js';
import { cmd, render, type Command } from '../shell/command.js';
import { toolFailure, type Tool } from '../tools/classify.js';
import {
  provePostgres,
  proveMysql,
  proveRedis,
  proveVolume,
  tablesOf,
  type BackupManifest,
  type MysqlEntry,
  type Proof,
} from './manifest.js';
import {
  checkRdbFile,
  createStaging,
  databaseSize,
  databasesPresent,
  dropStaging,
  loadStaging,
  pathsPresent,
  redisBefore,
  removeStaged,
  stageRdb,
  stageVolume,
  stagedRdb,
  stagedVolume,
  stagingDb,
  beforeDb,
  swapDatabases,
  swapRedis,
  swapVolume,
  unswapDatabases,
  unswapRedis,
  unswapVolume,
  volumeBefore,
  volumeStage,
  type RedisFiles,
} from './restore-commands.js';
import { requireSpace, type SpaceNeed } from './restore-space.js';
import {
  hostPathOf,
  liveProofs,
  redisFiles,
  runningContainer,
  filesDir,
  filesOf,
  sourceKey,
  type FilesRef,
  type Live,
  type SourceRef,
} from './restore-live.js';
import type { RepoAccess } from './restic.js';
import { randomBytes } from 'node:crypto';
import { scratchMysql } from './mysql.js';
import {
  databasesSize,
  markStaged,
  mysqlFiles,
  proveStaged,
  restoreDir,
  swapMysql,
  takeOutDump,
  unstageMysql,
  unswapMysql,
} from './mysql-restore.js';
import { cleanupDrill, drillLabel, scratchName } from './drill-commands.js';

export interface RestoreInput {
  stack: string;
  server: string;
  sudo: boolean;
  /** The restore's id: in the name of everything it stages and keeps. */
  id: string;
  repo: RepoAccess;
  manifest: BackupManifest;
  /** The sources restored: those whose live data differs from the manifest. */
  sources: SourceRef[];
  /** The release running on the server: its services are stopped and started. */
  release: ReleaseMeta;
  /** A volume's name in the manifest -> its name in Docker. */
  dockerVolume: (name: string) => string;
  /** Filled by the prove step's verify: what the live data showed after the restore. */
  proofs: Proof[];
}

const LONG = 6 * 60 * 60_000;

/** Where the stage step records how the stack's Redis keeps its files (the swap reads it with Redis stopped). */
export const recordFile = (stack: string): string => `/var/lib/ferry/restore/${stack}.json`;

interface Record {
  id: string;
  redis: { [service: string]: RedisFiles };
}

const chosen = <T>(i: RestoreInput, kind: SourceRef['kind'], list: T[], name: (x: T) => string): T[] =>
  list.filter((x) => i.sources.some((s) => s.kind === kind && s.name === name(x)));
const pgOf = (i: RestoreInput) => chosen(i, 'postgres', i.manifest.postgres, (e) => e.service);
const mysqlOf = (i: RestoreInput) => chosen(i, 'mysql', i.manifest.mysql, (e) => e.service);
const mysqlEntry = (i: RestoreInput, service: string): MysqlEntry =>
  i.manifest.mysql.find((x) => x.service === service)!;
const filesOfMysql = (i: RestoreInput, service: string) => mysqlFiles(i.stack, i.id, service);
const redisOf = (i: RestoreInput) => chosen(i, 'redis', i.manifest.redis, (e) => e.service);
/** The volumes and paths restored. */
const filesChosen = (i: RestoreInput): FilesRef[] =>
  filesOf(i.manifest).filter((f) => i.sources.some((s) => s.kind === f.kind && s.name === f.e.name));
const filesKey = (f: FilesRef): string => `${f.kind} ${f.e.name}`;
const filesRefOf = (i: RestoreInput, kind: SourceRef['kind'], name: string): FilesRef =>
  filesOf(i.manifest).find((f) => f.kind === kind && f.e.name === name)!;
const dbOf = (e: { service: string; user: string; db: string }): Database => ({ ...e, volumes: [] });

/** A command of the restore; `shell`: file moves, whose failure is `restore-failed` with its last words. */
async function run(ctx: StepContext, i: RestoreInput, tool: Tool | 'shell', c: Command, what: string): Promise<string> {
  const r = await ctx.transport.exec(c, { sudo: i.sudo, timeoutMs: LONG });
  if (tool === 'shell') {
    if (r.code === 0) return r.stdout;
    const words = ctx.redactor.redact(r.stderr.trim().split('\n').slice(-4).join('\n'));
    throw new StepError(
      'restore-failed',
      `${i.server}: ${what} failed (exit ${r.code}): ${words}`,
      'Run `ferry restore STACK --resume` once the cause is fixed; the live data before the restore is kept.',
      `host ${i.server}`,
    );
  }
  const e = toolFailure(tool, r, { host: i.server, what, redact: (s) => ctx.redactor.redact(s) });
  if (e) throw e;
  return r.stdout;
}

const liveOf = (ctx: StepContext, i: RestoreInput): Live => ({
  t: ctx.transport,
  sudo: i.sudo,
  redactor: ctx.redactor,
  project: i.release.project,
  dockerVolume: i.dockerVolume,
});

async function containerOf(ctx: StepContext, i: RestoreInput, service: string): Promise<string> {
  return runningContainer(await projectContainers(ctx.transport, i.release.project, i.sudo), service, liveOf(ctx, i))
    .name;
}

async function readRecord(ctx: StepContext, i: RestoreInput): Promise<Record | undefined> {
  const r = await ctx.transport.exec(cmd('cat', recordFile(i.stack)), { sudo: i.sudo });
  if (r.code !== 0) return undefined;
  const rec = JSON.parse(r.stdout) as Record;
  return rec.id === i.id ? rec : undefined;
}

/** `staged`, `swapped` (kept copy there, nothing staged) or `none`, per source. */
type State = 'staged' | 'swapped' | 'none';

async function stateOf(ctx: StepContext, i: RestoreInput, s: SourceRef, rec: Record | undefined): Promise<State> {
  const fromLines = (out: string, staged: string, before: string): State => {
    const l = out.split('\n');
    return l.includes(staged) ? 'staged' : l.includes(before) ? 'swapped' : 'none';
  };
  if (s.kind === 'postgres') {
    const e = i.manifest.postgres.find((x) => x.service === s.name)!;
    const c = await containerOf(ctx, i, s.name);
    const out = await run(ctx, i, 'psql', databasesPresent(c, dbOf(e), i.id), `listing the databases of ${s.name}`);
    return fromLines(out, stagingDb(e.db), beforeDb(e.db, i.id));
  }
  if (s.kind === 'mysql') {
    const f = filesOfMysql(i, s.name);
    return fromLines(await run(ctx, i, 'shell', pathsPresent(f.staged, f.before), 'reading files'), 'staged', 'before');
  }
  if (s.kind === 'redis') {
    const f = rec?.redis[s.name];
    if (!f) return 'none';
    const out = await run(ctx, i, 'shell', pathsPresent(stagedRdb(f, i.id), redisBefore(f, i.id)), 'reading files');
    return fromLines(out, 'staged', 'before');
  }
  const f = filesRefOf(i, s.kind, s.name);
  const m = await filesDir(liveOf(ctx, i), f);
  const out = await run(
    ctx,
    i,
    'shell',
    pathsPresent(stagedVolume(m, i.id, f.e.path), volumeBefore(m, i.id)),
    'reading',
  );
  return fromLines(out, 'staged', 'before');
}

async function states(ctx: StepContext, i: RestoreInput): Promise<Map<string, State>> {
  const rec = await readRecord(ctx, i);
  const out = new Map<string, State>();
  for (const s of i.sources) out.set(sourceKey(s), await stateOf(ctx, i, s, rec));
  return out;
}

/** Each chosen source restored beside the live data and proven there; the proofs, all of them. */
async function stageAll(ctx: StepContext, i: RestoreInput, todo: string[]): Promise<Proof[]> {
  const proofs: Proof[] = [];
  const rec: Record = { id: i.id, redis: (await readRecord(ctx, i))?.redis ?? {} };
  for (const e of pgOf(i).filter((x) => todo.includes(`postgres ${x.service}`))) {
    const c = await containerOf(ctx, i, e.service);
    await run(ctx, i, 'psql', createStaging(c, dbOf(e)), `creating ${stagingDb(e.db)} in ${e.service}`);
    await run(
      ctx,
      i,
      'psql',
      loadStaging(i.repo, e.snapshot, c, dbOf(e)),
      `restoring ${e.service} into ${stagingDb(e.db)}`,
    );
    const sums = await tableSums(ctx.transport, c, { ...dbOf(e), db: stagingDb(e.db) }, i.sudo, (s) =>
      ctx.redactor.redact(s),
    );
    proofs.push(...provePostgres(e, sums));
  }
  for (const e of mysqlOf(i).filter((x) => todo.includes(`mysql ${x.service}`)))
    proofs.push(...(await stageMysql(ctx, i, e)));
  for (const e of redisOf(i).filter((x) => todo.includes(`redis ${x.service}`))) {
    const f = rec.redis[e.service] ?? (await redisFiles(liveOf(ctx, i), await containerOf(ctx, i, e.service)));
    rec.redis[e.service] = f;
    await run(
      ctx,
      i,
      'shell',
      cmd('install', '-d', '-m', '700', '/var/lib/ferry/restore'),
      'creating /var/lib/ferry/restore',
    );
    await ctx.transport.upload(recordFile(i.stack), `${JSON.stringify(rec)}\n`, { mode: 0o600, sudo: i.sudo });
    await run(
      ctx,
      i,
      'restic',
      stageRdb(i.repo, e.snapshot, e.service, stagedRdb(f, i.id)),
      `restoring the RDB of ${e.service}`,
    );
    const out = await run(
      ctx,
      i,
      'docker',
      checkRdbFile(e.image, stagedRdb(f, i.id)),
      `checking the RDB of ${e.service}`,
    );
    const keys = /\[info\] (\d+) keys read/.exec(out);
    proofs.push(proveRedis(e, keys ? Number(keys[1]) : undefined));
  }
  for (const f of filesChosen(i).filter((x) => todo.includes(filesKey(x)))) {
    const m = await filesDir(liveOf(ctx, i), f);
    // A path missing here (a new server) is made, empty, so that the swap has a live copy to keep.
    if (f.kind === 'path') await run(ctx, i, 'shell', cmd('mkdir', '-p', '--', m), `creating ${m}`);
    await run(ctx, i, 'shell', removeStaged(volumeStage(m, i.id)), `clearing ${volumeStage(m, i.id)}`);
    await run(ctx, i, 'restic', stageVolume(i.repo, f.e.snapshot, m, i.id), `restoring ${filesKey(f)}`);
    const staged = await volumeManifest(ctx.transport, stagedVolume(m, i.id, f.e.path), i.sudo);
    proofs.push(proveVolume(f.e, staged, f.kind));
  }
  return proofs;
}

/**
 * A MySQL service's dump taken out of the repository and proven in a scratch server of its
 * image (removed after); named staged only when every table matches the manifest.
 */
async function stageMysql(ctx: StepContext, i: RestoreInput, e: MysqlEntry): Promise<Proof[]> {
  const f = filesOfMysql(i, e.service);
  const scratch = scratchName(i.stack, e.service);
  const password = randomBytes(18).toString('base64url');
  ctx.redactor.add(password);
  await run(ctx, i, 'restic', takeOutDump(i.repo, e.snapshot, e.service, f), `taking the dump of ${e.service} out`);
  await run(ctx, i, 'docker', cleanupDrill(i.stack), 'removing scratch containers');
  try {
    await run(ctx, i, 'docker', scratchMysql(scratch, drillLabel(i.stack), e.image, password), `starting ${scratch}`);
    const out = await run(ctx, i, 'mysql', proveStaged(scratch, e.databases, f), `proving the dump of ${e.service}`);
    const proofs = proveMysql(e, tablesOf(out));
    if (proofs.every((p) => p.ok)) await run(ctx, i, 'shell', markStaged(f), `keeping the dump of ${e.service}`);
    return proofs;
  } finally {
    await ctx.transport.exec(cleanupDrill(i.stack), { sudo: i.sudo, timeoutMs: 120_000 });
  }
}

/** Everything staged removed: staging was never served. */
async function unstage(ctx: StepContext, i: RestoreInput): Promise<void> {
  const rec = await readRecord(ctx, i);
  for (const e of pgOf(i)) {
    const c = await containerOf(ctx, i, e.service);
    await run(ctx, i, 'psql', dropStaging(c, dbOf(e)), `dropping ${stagingDb(e.db)}`);
  }
  for (const e of mysqlOf(i))
    await run(ctx, i, 'shell', unstageMysql(filesOfMysql(i, e.service)), `removing the staged dump of ${e.service}`);
  for (const e of redisOf(i)) {
    const f = rec?.redis[e.service];
    if (f) await run(ctx, i, 'shell', removeStaged(stagedRdb(f, i.id)), `removing the staged RDB of ${e.service}`);
  }
  for (const f of filesChosen(i)) {
    const m = await filesDir(liveOf(ctx, i), f);
    await run(ctx, i, 'shell', removeStaged(volumeStage(m, i.id)), `removing ${volumeStage(m, i.id)}`);
  }
}

/** What staging the sources of `todo` takes on the server, per host path. */
async function spaceNeeds(ctx: StepContext, i: RestoreInput, todo: string[]): Promise<SpaceNeed[]> {
  const needs: SpaceNeed[] = [];
  const l = liveOf(ctx, i);
  for (const e of pgOf(i).filter((x) => todo.includes(`postgres ${x.service}`))) {
    const c = await containerOf(ctx, i, e.service);
    // A role that may not read data_directory leaves the database out of the count.
    const r = await ctx.transport.exec(databaseSize(c, dbOf(e)), { sudo: i.sudo });
    const [bytes, dir] = r.code === 0 ? r.stdout.trim().split('|') : [];
    const path = dir ? await hostPathOf(l, c, dir) : undefined;
    if (path) needs.push({ what: `database ${e.db}`, path, bytes: Number(bytes) });
  }
  for (const e of mysqlOf(i).filter((x) => todo.includes(`mysql ${x.service}`))) {
    const r = await ctx.transport.exec(databasesSize(await containerOf(ctx, i, e.service), e.databases), {
      sudo: i.sudo,
    });
    // The dump taken out, its proof in a scratch server, and the kept copy of the live databases.
    const bytes = r.code === 0 ? Number(r.stdout.trim()) || 0 : 0;
    needs.push({ what: `the dumps of ${e.service}`, path: '/var/lib', bytes: 3 * bytes });
  }
  for (const e of redisOf(i).filter((x) => todo.includes(`redis ${x.service}`))) {
    const f = await redisFiles(l, await containerOf(ctx, i, e.service));
    const size = await ctx.transport.exec(cmd('stat', '-c', '%s', `${f.dir}/${f.dbfilename}`), { sudo: i.sudo });
    needs.push({
      what: `the RDB of ${e.service}`,
      path: f.dir,
      bytes: size.code === 0 ? Number(size.stdout.trim()) : 0,
    });
  }
  for (const f of filesChosen(i).filter((x) => todo.includes(filesKey(x))))
    needs.push({ what: filesKey(f), path: await filesDir(l, f), bytes: f.e.bytes });
  return needs;
}

const described = (i: RestoreInput): string => i.sources.map(sourceKey).join(', ');
/** A directory as the plan shows it: a path as it is, a volume's found on the server. */
const docDir = (f: FilesRef): string => (f.kind === 'path' ? f.e.path : `VOLUME_DIR_OF_${f.e.name}/_data`);

function stageStep(i: RestoreInput): Step<{ todo: string[] }> {
  return {
    id: `${i.stack}/restore/stage`,
    host: i.server,
    phase: 'transfer',
    title: `restore ${described(i)} of run ${i.manifest.run} beside the live data, and prove it`,
    dependsOn: [],
    doc: () => ({
      purpose:
        "The backup run is restored beside the live data, while the stack runs, and proven against the run's manifest (rows and checksums, key counts, files): a backup that does not restore stops the restore before anything is stopped.",
      commands: [
        ...pgOf(i).map((e) => `${render(loadStaging(i.repo, e.snapshot, `CONTAINER_OF_${e.service}`, dbOf(e)))}`),
        ...mysqlOf(i).map((e) => render(takeOutDump(i.repo, e.snapshot, e.service, filesOfMysql(i, e.service)))),
        ...filesChosen(i).map((f) => render(stageVolume(i.repo, f.e.snapshot, docDir(f), i.id))),
      ],
      verify: 'Every table, key count and volume staged equals the manifest.',
      undo: 'The staging databases, files and directories are removed (they were never served).',
    }),
    async check(ctx) {
      const st = await states(ctx, i);
      const todo = [...st].filter(([, s]) => s !== 'swapped').map(([k]) => k);
      // Room for what is not staged yet (a resumed run's staging is there, and its Redis may be stopped).
      const fresh = [...st].filter(([, s]) => s === 'none').map(([k]) => k);
      if (fresh.length > 0) await requireSpace(ctx.transport, i.sudo, await spaceNeeds(ctx, i, fresh));
      return todo.length === 0
        ? { needed: false, observed: { todo } }
        : {
            needed: true,
            change: { summary: `restore ${todo.join(', ')} from run ${i.manifest.run}` },
            observed: { todo },
          };
    },
    async apply(ctx, { todo }) {
      const proofs = await stageAll(ctx, i, todo);
      const bad = proofs.filter((p) => !p.ok);
      if (bad.length > 0)
        throw new StepError(
          'restore-proof-failed',
          `${i.server}: run ${i.manifest.run} restored beside the live data does not match its manifest: ${bad.map((p) => `${p.what}: expected ${p.expected}, found ${p.found}`).join('; ')}`,
          'Nothing live was touched. Drill the repository (`ferry backup drill`), or restore another run (`ferry backup list`, then --run).',
          `host ${i.server}`,
        );
    },
    async verify(ctx, { todo }) {
      const st = await states(ctx, i);
      const missing = todo.filter((k) => st.get(k) !== 'staged');
      return missing.length === 0 ? { ok: true } : { ok: false, message: `not staged: ${missing.join(', ')}` };
    },
    rollback: (ctx) => unstage(ctx, i),
  };
}

/**
 * The services the restore stops: all but its Postgres and MySQL services (the swap works
 * in them) and the Redis services it leaves alone.
 */
export function stoppedServices(i: Pick<RestoreInput, 'release' | 'manifest' | 'sources'>): string[] {
  const pg = new Set([...i.manifest.postgres, ...i.manifest.mysql].map((e) => e.service));
  const keptRedis = new Set(
    i.manifest.redis.map((e) => e.service).filter((s) => !i.sources.some((x) => x.kind === 'redis' && x.name === s)),
  );
  return i.release.services.map((s) => s.name).filter((s) => !pg.has(s) && !keptRedis.has(s));
}

async function swapOne(ctx: StepContext, i: RestoreInput, key: string, rec: Record | undefined): Promise<void> {
  const [kind, name] = key.split(' ') as [SourceRef['kind'], string];
  if (kind === 'postgres') {
    const e = i.manifest.postgres.find((x) => x.service === name)!;
    const c = await containerOf(ctx, i, name);
    await run(ctx, i, 'psql', swapDatabases(c, dbOf(e), i.id), `swapping ${e.db} for ${stagingDb(e.db)}`);
  } else if (kind === 'mysql') {
    const c = await containerOf(ctx, i, name);
    const e = mysqlEntry(i, name);
    await run(
      ctx,
      i,
      'mysql',
      swapMysql(c, e.databases, filesOfMysql(i, name)),
      `loading the restored dump of ${name}`,
    );
  } else if (kind === 'redis') {
    const f = rec!.redis[name]!;
    await run(ctx, i, 'shell', swapRedis(f, i.id), `putting the restored RDB of ${name} in place`);
  } else {
    const f = filesRefOf(i, kind, name);
    const m = await filesDir(liveOf(ctx, i), f);
    await run(ctx, i, 'shell', swapVolume(m, i.id, f.e.path), `putting the restored files of ${name} in place`);
  }
}

async function unswapOne(ctx: StepContext, i: RestoreInput, key: string, rec: Record | undefined): Promise<void> {
  const [kind, name] = key.split(' ') as [SourceRef['kind'], string];
  if (kind === 'postgres') {
    const e = i.manifest.postgres.find((x) => x.service === name)!;
    const c = await containerOf(ctx, i, name);
    await run(ctx, i, 'psql', unswapDatabases(c, dbOf(e), i.id), `putting ${e.db} back`);
  } else if (kind === 'mysql') {
    const c = await containerOf(ctx, i, name);
    const e = mysqlEntry(i, name);
    await run(ctx, i, 'mysql', unswapMysql(c, e.databases, filesOfMysql(i, name)), `putting ${name}'s databases back`);
  } else if (kind === 'redis') {
    const f = rec?.redis[name];
    if (f) await run(ctx, i, 'shell', unswapRedis(f, i.id), `putting the files of ${name} back`);
  } else {
    const m = await filesDir(liveOf(ctx, i), filesRefOf(i, kind, name));
    await run(ctx, i, 'shell', unswapVolume(m, i.id), `putting the files of ${name} back`);
  }
}

function swapStep(i: RestoreInput, dependsOn: string[]): Step<{ todo: string[] }> {
  return {
    id: `${i.stack}/restore/swap`,
    host: i.server,
    phase: 'deploy',
    title: `swap the live data of ${described(i)} for the restored data (the live data kept, id ${i.id})`,
    dependsOn,
    holdsRollback: true,
    doc: () => ({
      purpose: `With the stack stopped, the live data is renamed aside and kept (databases \`DB_before_${i.id}\`, MySQL's as a dump in ${restoreDir(i.stack, i.id)}, Redis files in \`.ferry-before-${i.id}\`, volume files in \`ferry-before-${i.id}\` beside \`_data\`, a path's files in \`.NAME.ferry-before-${i.id}\` beside it), and the staged data renamed into its place.`,
      commands: [
        ...pgOf(i).map((e) => render(swapDatabases(`CONTAINER_OF_${e.service}`, dbOf(e), i.id))),
        ...mysqlOf(i).map(
          (e) =>
            `MySQL ${e.service}: its databases ${e.databases.join(', ')} dumped into ${filesOfMysql(i, e.service).before} (kept), dropped, and the restored dump loaded`,
        ),
        ...filesChosen(i).map((f) => render(swapVolume(docDir(f), i.id, f.e.path))),
      ],
      verify: 'Nothing is staged any more, and every kept copy is there.',
      undo: `The restored data is renamed aside (\`_restored_${i.id}\`) and the kept data back into its place.`,
    }),
    async check(ctx) {
      const st = await states(ctx, i);
      const todo = [...st].filter(([, s]) => s === 'staged').map(([k]) => k);
      const prior = (ctx.prior as { todo?: string[] } | undefined)?.todo ?? [];
      const all = [...new Set([...prior, ...todo])];
      return todo.length === 0
        ? { needed: false, observed: { todo: all } }
        : { needed: true, change: { summary: `swap ${todo.join(', ')}` }, observed: { todo: all } };
    },
    async apply(ctx, { todo }) {
      const rec = await readRecord(ctx, i);
      const st = await states(ctx, i);
      for (const key of todo.filter((k) => st.get(k) === 'staged')) await swapOne(ctx, i, key, rec);
    },
    async verify(ctx, { todo }) {
      const st = await states(ctx, i);
      const not = todo.filter((k) => st.get(k) !== 'swapped');
      return not.length === 0 ? { ok: true } : { ok: false, message: `not swapped: ${not.join(', ')}` };
    },
    async rollback(ctx, { todo }) {
      const rec = await readRecord(ctx, i);
      for (const key of todo) await unswapOne(ctx, i, key, rec);
    },
  };
}

function proveStep(i: RestoreInput, dependsOn: string[]): Step<{ sources: string[] }> {
  return {
    id: `${i.stack}/restore/prove`,
    host: i.server,
    phase: 'deploy',
    title: `prove ${described(i)} against the manifest of run ${i.manifest.run}`,
    dependsOn,
    doc: () => ({
      purpose:
        "The data swapped in is read where the stack will serve it from (the restored Redis started, nothing else of the stack running) and compared with the run's manifest.",
      commands: [],
      verify: 'Every table has its rows and checksum, every Redis its key count, every volume its files.',
      undo: 'none: it reads only',
    }),
    check: async () => ({
      needed: true,
      change: { summary: `prove ${described(i)} against run ${i.manifest.run}` },
      observed: { sources: i.sources.map(sourceKey) },
    }),
    apply: async () => undefined,
    async verify(ctx) {
      const proofs = await liveProofs(liveOf(ctx, i), i.manifest, i.sources);
      i.proofs.splice(0, i.proofs.length, ...proofs);
      const bad = proofs.filter((p) => !p.ok);
      return bad.length === 0
        ? { ok: true }
        : { ok: false, message: bad.map((p) => `${p.what}: expected ${p.expected}, found ${p.found}`).join('; ') };
    },
    rollback: async () => undefined,
  };
}

/**
 * stage, stop, swap; then the restored Redis services started alone, the data proven while
 * nothing else runs (an app that writes as it starts would make the proof fail), and only
 * then the rest of the stack started.
 */
export function restoreSteps(i: RestoreInput, healthTimeoutMs: number): Step[] {
  const services = stoppedServices(i);
  const side = { name: i.server, sudo: i.sudo };
  const id = (s: string) => `${i.stack}/restore/${s}`;
  const redis = redisOf(i).map((e) => e.service);
  const rest = services.filter((s) => !redis.includes(s));
  const state = (step: string, want: 'stopped' | 'running', list: string[], after: string) => ({
    id: id(step),
    stack: i.stack,
    side,
    release: i.release,
    services: list,
    want,
    phase: 'deploy' as const,
    dependsOn: [id(after)],
    title: `${want === 'stopped' ? 'stop' : 'start'} ${list.join(', ') || 'nothing'} on ${i.server}`,
  });
  const steps: Step[] = [
    stageStep(i),
    servicesStateStep({ ...state('stop', 'stopped', services, 'stage'), ...(redis.length ? { redis } : {}) }),
    swapStep(i, [id('stop')]),
  ];
  if (redis.length > 0)
    steps.push(servicesStateStep({ ...state('start-redis', 'running', redis, 'swap'), healthTimeoutMs }));
  steps.push(proveStep(i, [id(redis.length > 0 ? 'start-redis' : 'swap')]));
  steps.push(servicesStateStep({ ...state('start', 'running', rest, 'prove'), healthTimeoutMs }));
  return steps;
}
