/**
 * Runs a parallel dump (the commands in dump-commands.ts): a session on the source
 * exports a snapshot and holds it until every stream has read from it, while the
 * target's database is created anew; then the schema file, pre-data, the data streams
 * (the tables shared by size among up to `jobs` streams, and one of the rest) and
 * post-data. The source is only read. A failed stream is thrown as a StepError
 * (`no-space`, `dump-failed`, or psql's own code) once the others have ended; the schema file is removed
 * and the snapshot released in every case.
 */
import { PassThrough } from 'node:stream';
import type { Command } from '../shell/command.js';
import type { ExecResult, Transport } from '../transport/transport.js';
import { StepError } from '../engine/errors.js';
import {
  DUMP_TABLES_SQL,
  load,
  parseDumpTables,
  postData,
  preData,
  recreateDatabase,
  RELEASE_SQL,
  removeFile,
  restDump,
  schemaDump,
  schemaFile,
  shares,
  SNAPSHOT_NAME,
  SNAPSHOT_SQL,
  snapshotSession,
  stream,
  streamCount,
  streamedBytes,
  tableDump,
  writeFile,
  type DumpTable,
} from './dump-commands.js';
import { pgFailure, query, type Database } from './postgres.js';
import type { PgAt } from './pg-at.js';

const LONG = 6 * 60 * 60_000;

/** One end of the move: a database container on a server. */
export interface DbSide {
  transport: Transport;
  sudo: boolean;
  /** The database's container there, or the Postgres installed on the server. */
  container: PgAt;
}

export interface ParallelDump {
  d: Database;
  source: DbSide;
  target: DbSide;
  /** Wraps a command for the target so that it runs from the source through the channel. */
  through: (remote: Command) => Command;
  jobs: number;
  /** `source -> target`, for messages. */
  where: string;
  redact: (text: string) => string;
}

/**
 * A failed part of the dump as a typed error, by psql's classifier (an error psql reports
 * at exit 0 too): a full disk is `no-space`, any other failure of Postgres' tools
 * `dump-failed`; authentication or a database not running keep their own codes. The
 * tail of the tools' words is redacted. Undefined when the part succeeded.
 */
export function dumpFailure(
  p: Pick<ParallelDump, 'd' | 'where' | 'redact'>,
  part: string,
  r: Pick<ExecResult, 'code' | 'stdout' | 'stderr'>,
): StepError | undefined {
  const e = pgFailure(r, { host: p.where, what: `moving database ${p.d.db} (${part})`, redact: p.redact });
  if (e?.code === 'no-space')
    return new StepError(
      'no-space',
      e.message,
      'Free space on the target (its /var/lib/docker), then run migrate again with --resume: the target database is created anew and filled again.',
    );
  if (e?.code === 'psql-failed')
    return new StepError(
      'dump-failed',
      e.message,
      'The source database was only read and is intact; fix the cause (disk, versions), then run migrate again with --resume: the target database is created anew and filled again.',
    );
  return e;
}

/** Moves the database; returns how many tables and streams it took, and the bytes the streams carried. */
export async function parallelDump(p: ParallelDump): Promise<{ tables: number; streams: number; bytes: number }> {
  const { d, source, target } = p;
  let bytes = 0;
  const run = async (side: DbSide, command: Command, part: string) => {
    const r = await side.transport.exec(command, { sudo: side.sudo, timeoutMs: LONG });
    const failed = dumpFailure(p, part, r);
    if (failed) throw failed;
    bytes += streamedBytes(r.stdout);
  };
  const file = schemaFile(d);
  const { snapshot, tables } = await begin(
    p,
    run(target, recreateDatabase(target.container, d), `creating ${d.db} anew on the target`),
  );
  const streams = streamCount(p.jobs, tables.length);
  try {
    await run(
      source,
      stream(schemaDump(source.container, d, snapshot.name), p.through(writeFile(target.container, file))),
      'schema',
    );
    await run(target, preData(target.container, d, file), 'pre-data');
    // Every share of the tables in its stream, and the rest beside them: all at once.
    const parts: { part: string; command: Command }[] = [
      ...shares(tables, streams).map((share) => ({
        part: `rows of ${share.map((t) => t.pattern).join(', ')}`,
        command: tableDump(source.container, d, snapshot.name, share),
      })),
      { part: 'sequence values and large objects', command: restDump(source.container, d, snapshot.name, tables) },
    ];
    await allOf(parts.map((x) => run(source, stream(x.command, p.through(load(target.container, d))), x.part)));
    await run(target, postData(target.container, d, file, Math.max(1, Math.floor(p.jobs))), 'post-data');
  } finally {
    await snapshot.release();
    await target.transport.exec(removeFile(target.container, file), { sudo: target.sudo }).catch(() => undefined);
  }
  return { tables: tables.length, streams, bytes };
}

/** Side by side: the snapshot exported, the tables listed, the target's database created anew; after a failure, the snapshot is released. */
async function begin(p: ParallelDump, created: Promise<void>): Promise<{ snapshot: Snapshot; tables: DumpTable[] }> {
  const all = await Promise.allSettled([
    holdSnapshot(p),
    query(p.source.transport, p.source.container, p.d, DUMP_TABLES_SQL, p.source.sudo, p.redact),
    created,
  ] as const);
  const [held, listed] = all;
  if (held.status === 'fulfilled' && listed.status === 'fulfilled' && all[2].status === 'fulfilled')
    return { snapshot: held.value, tables: parseDumpTables(listed.value) };
  if (held.status === 'fulfilled') await held.value.release();
  throw all.find((x): x is PromiseRejectedResult => x.status === 'rejected')!.reason;
}

/** Waits for every one (none is left running), then throws the first failure. */
export async function allOf(work: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

interface Snapshot {
  name: string;
  /** Commits, and waits for the session to end. */
  release: () => Promise<void>;
}

/** Opens the snapshot session and waits for the snapshot's name. */
async function holdSnapshot(p: ParallelDump): Promise<Snapshot> {
  const input = new PassThrough();
  let out = '';
  let named: (name: string) => void = () => undefined;
  const name = new Promise<string>((resolve) => (named = resolve));
  const session = p.source.transport.exec(snapshotSession(p.source.container, p.d), {
    sudo: p.source.sudo,
    stdin: input,
    timeoutMs: LONG,
    onStdout: (chunk) => {
      out += chunk;
      const line = out
        .split('\n')
        .map((l) => l.trim())
        .find((l) => SNAPSHOT_NAME.test(l));
      if (line) named(line);
    },
  });
  const release = async () => {
    input.end(RELEASE_SQL);
    await session.catch(() => undefined);
  };
  input.write(SNAPSHOT_SQL);
  // Ending before it named a snapshot is a failure; ending later is the release's business.
  const ended = session.then((r) =>
    Promise.reject(
      dumpFailure(p, 'exporting a snapshot on the source', r) ??
        new StepError(
          'dump-failed',
          `${p.where}: moving database ${p.d.db} (exporting a snapshot on the source): psql ended without naming a snapshot`,
          'The source database was only read and is intact; run migrate again with --resume.',
        ),
    ),
  );
  ended.catch(() => undefined);
  try {
    return { name: await Promise.race([name, ended]), release };
  } catch (error) {
    await release();
    throw error;
  }
}
