/**
 * For the unit tests of the database steps of a migration: a small migration of stack
 * `shop` from server `old` to `new`, one Postgres service, both servers as recording
 * transports that answer its containers and its pg_isready. The sides' own transports
 * throw: a step reaches a server only through its context.
 */
import { render } from '../../shell/command.js';
import { inspectProjectCommand } from '../../deploy/compose-cli.js';
import { RecordingTransport } from '../../transport/recording.js';
import type { Transport } from '../../transport/transport.js';
import { testContext } from '../../engine/test-helpers.js';
import type { Step, StepContext } from '../../engine/step.js';
import { Redactor } from '../../core/redact.js';
import { channelFor, type Endpoint } from '../channel.js';
import type { Migration, Side } from '../context.js';
import { acceptingCommand, psql, type Database } from '../postgres.js';

export const d: Database = { service: 'db', user: 'demo', db: 'demo', volumes: ['db-data'] };
export const SRC = 'shop_db_1';
export const TGT = 'shop-db-1';

const endpoint = (name: string, address: string): Endpoint => ({ name, address, port: 22, user: 'root', sudo: false });

const side = (name: string): Side =>
  ({
    name,
    sudo: false,
    transport: () => {
      throw new Error(`a step reached ${name} through its side, not its context`);
    },
  }) as Side;

export function migration(o: Partial<Migration> = {}): Migration {
  const release = { id: 'r2', project: 'shop', composeFiles: ['compose.yml'], services: [] };
  return {
    stack: 'shop',
    project: 'shop',
    source: side('old'),
    target: side('new'),
    ch: channelFor('shop', endpoint('old', '10.0.0.1'), endpoint('new', '10.0.0.2')),
    sourceRelease: { ...release, id: 'r1' },
    release,
    databases: [d],
    volumes: [],
    redis: [],
    mode: 'dump',
    maxPauseMs: 60_000,
    marks: { startedAt: 0, tables: [], volumes: [] },
    ...o,
  };
}

/** `docker inspect` of the project's containers, answering one running container of service `db`. */
export const inspectLine = render(inspectProjectCommand('shop'));
const running = (name: string) =>
  JSON.stringify([
    { Name: `/${name}`, State: { Status: 'running' }, Config: { Labels: { 'com.docker.compose.service': 'db' } } },
  ]);

/** A psql line as a step runs it. */
export const pg = (container: string, sql: string): string => render(psql(container, d, sql));
export const ready = (container: string): string => render(acceptingCommand(container));

/** Both servers, answering their containers (and the target's pg_isready); `secret` is redacted. */
export function servers() {
  const redactor = new Redactor();
  redactor.add('s3cret');
  const source = new RecordingTransport('old', { redactor }).when(inspectLine, { stdout: running(SRC) });
  const target = new RecordingTransport('new', { redactor })
    .when(inspectLine, { stdout: running(TGT) })
    .when(ready(TGT), {});
  return { source, target, redactor };
}

/** The step's context: its own host's transport, and the other server as the one it reaches. */
export function contextFor(
  step: Pick<Step, 'id' | 'host' | 'reaches'>,
  s: ReturnType<typeof servers>,
  prior?: unknown,
): StepContext {
  const own = step.host === 'old' ? s.source : s.target;
  const other: Record<string, Transport> = step.host === 'old' ? { new: s.target } : { old: s.source };
  return testContext(own, { step, others: other, redactor: s.redactor, ...(prior === undefined ? {} : { prior }) });
}

/** The error a promise rejects with. */
export const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );
