/**
 * The role and database of a Postgres service kept in the Postgres installed on the stack's
 * server (`server_postgres`): the role (POSTGRES_USER) logs in with the service's
 * POSTGRES_PASSWORD, the database (POSTGRES_DB) is there and owned by it. The password is
 * set by its SCRAM verifier, made here and sent on psql's standard input: the password itself
 * never reaches the server, and nothing secret is on a command line. The check reads the
 * role's verifier (`pg_authid`) and compares it here, so a second apply changes nothing.
 *
 * Rollback leaves the role and the database: the release that failed may have written to
 * it, and an empty database harms nothing.
 */
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { Secret } from '../../core/secret.js';
import { render } from '../../shell/command.js';
import { sqlIdent, sqlLiteral } from '../../shell/sql.js';
import { psqlAsSuperuser } from '../host-postgres.js';
import { scramMatches, scramVerifier } from '../scram.js';
import type { ServedDatabase } from '../server-postgres.js';
import { findCluster, hostPostgresTools, pgWhere } from './host-postgres-read.js';

export interface ServedSeen {
  role: 'missing' | 'ok' | 'password' | 'nologin';
  /** The database's owner; undefined when there is no such database. */
  owner?: string;
}

/** `role|CANLOGIN|VERIFIER` and `db|OWNER`, each when there is one. */
export const stateSql = (d: ServedDatabase): string =>
  `SELECT 'role|' || CASE WHEN rolcanlogin THEN 't' ELSE 'f' END || '|' || coalesce(rolpassword, '') FROM pg_authid WHERE rolname = ${sqlLiteral(d.user)} ` +
  `UNION ALL SELECT 'db|' || pg_get_userbyid(datdba) FROM pg_database WHERE datname = ${sqlLiteral(d.db)}`;

function parseState(out: string, d: ServedDatabase): ServedSeen {
  const seen: ServedSeen = { role: 'missing' };
  for (const line of out.split('\n')) {
    const [kind, a, ...rest] = line.trim().split('|');
    if (kind === 'role')
      seen.role = a !== 't' ? 'nologin' : scramMatches(d.password.reveal(), rest.join('|')) ? 'ok' : 'password';
    if (kind === 'db' && a !== undefined) seen.owner = a;
  }
  return seen;
}

/** What apply sends on psql's stdin: the role made (or its login and password set), then the database. */
export function applySql(d: ServedDatabase, seen: ServedSeen): Secret {
  const role = sqlIdent(d.user);
  const password = sqlLiteral(scramVerifier(d.password.reveal()));
  const lines = [
    ...(seen.role === 'missing' ? [`CREATE ROLE ${role} WITH LOGIN PASSWORD ${password};`] : []),
    ...(seen.role === 'password' || seen.role === 'nologin'
      ? [`ALTER ROLE ${role} WITH LOGIN PASSWORD ${password};`]
      : []),
    ...(seen.owner === undefined ? [`CREATE DATABASE ${sqlIdent(d.db)} OWNER ${role};`] : []),
  ];
  return new Secret(`${lines.join('\n')}\n`);
}

const changesOf = (d: ServedDatabase, s: ServedSeen): string[] => [
  ...(s.role === 'missing' ? [`create role ${d.user}`] : []),
  ...(s.role === 'password' ? [`set role ${d.user}'s password (POSTGRES_PASSWORD)`] : []),
  ...(s.role === 'nologin' ? [`let role ${d.user} log in`] : []),
  ...(s.owner === undefined ? [`create database ${d.db} owned by ${d.user}`] : []),
];

/** The step's id: `STACK/server-postgres/SERVICE` (a migration's dump waits for it). */
export const serverPostgresId = (stack: string, service: string): string => `${stack}/server-postgres/${service}`;

export function serverPostgresStep(o: {
  id: string;
  host: string;
  stack: string;
  d: ServedDatabase;
  sudo: boolean;
  dependsOn: string[];
}): Step<ServedSeen> {
  const { d, host, sudo } = o;
  const pg = d.postgres;
  const where = pgWhere(host, pg);
  const { run, sql } = hostPostgresTools(pg, sudo);

  async function observe(ctx: StepContext): Promise<ServedSeen> {
    await findCluster(ctx, host, pg, sudo);
    const seen = parseState(await sql(ctx, `reading role ${d.user} and database ${d.db} in ${where}`, stateSql(d)), d);
    if (seen.owner !== undefined && seen.owner !== d.user)
      throw new StepError(
        'server-postgres-conflict',
        `${host}: database ${d.db} in ${where} belongs to ${seen.owner}, not to ${d.user} (${o.stack}/${d.service}'s POSTGRES_USER)`,
        `Give it to ${d.user} (ALTER DATABASE ${d.db} OWNER TO ${d.user}) if it is the stack's, or name another database in POSTGRES_DB.`,
      );
    return seen;
  }

  return {
    id: o.id,
    host,
    phase: 'deploy',
    title: `role ${d.user} and database ${d.db} of ${o.stack}/${d.service} in ${where}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `${o.stack}'s service ${d.service} is kept in ${where}, not in a container: its role ${d.user} logs in with the service's POSTGRES_PASSWORD, and its database ${d.db} is there, owned by the role.`,
      commands: [
        render(psqlAsSuperuser(pg, [stateSql(d)])),
        `${render(psqlAsSuperuser(pg, []))} < CREATE ROLE / ALTER ROLE ${d.user} WITH LOGIN PASSWORD 'SCRAM-SHA-256$…'; CREATE DATABASE ${d.db} OWNER ${d.user} (what is missing)`,
      ],
      verify: `Role ${d.user} logs in with POSTGRES_PASSWORD (its verifier matches) and owns database ${d.db}.`,
      undo: 'Nothing: the role and the database stay (a failed release may have written to them).',
    }),
    async check(ctx) {
      const seen = await observe(ctx);
      const changes = changesOf(d, seen);
      if (changes.length === 0) return { needed: false, observed: seen };
      return { needed: true, observed: seen, change: { summary: changes.join('; ') } };
    },
    async apply(ctx, seen) {
      await run(
        ctx,
        'psql',
        psqlAsSuperuser(pg, []),
        `creating role ${d.user} and database ${d.db} in ${where}`,
        applySql(d, seen),
      );
    },
    async verify(ctx) {
      const left = changesOf(d, await observe(ctx));
      return left.length === 0 ? { ok: true } : { ok: false, message: `${host}: still to do: ${left.join('; ')}` };
    },
    async rollback() {},
  };
}
