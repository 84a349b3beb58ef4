/**
 * The exporter of a Postgres installed on the server gets its login before it starts: the
 * password file made on the server (once), the role `ferry_monitor` in `pg_monitor` with
 * that password, and pg_hba.conf's block for it from loopback (checked by Postgres, then
 * reloaded). Verified by logging in as the exporter will. Rollback puts the block back and
 * removes the role and the file when this step made them.
 */
import type { Step, StepContext } from '../engine/step.js';
import type { HostPostgresDef } from '../model/fleet.js';
import { render } from '../shell/command.js';
import { blockIn, psqlAsSuperuser, withBlock } from '../deploy/host-postgres.js';
import { findCluster, hostPostgresTools, pgWhere, writeHba } from '../deploy/steps/host-postgres-read.js';
import {
  dropCommand,
  loginCommand,
  makePasswordCommand,
  MONITOR_BLOCK,
  MONITOR_CONNECTIONS,
  MONITOR_PASSWORD_FILE,
  MONITOR_ROLE,
  monitorHbaBlock,
  passwordFileCommand,
  ROLE_SQL,
  setRoleCommand,
} from './host-postgres.js';

export interface MonitorRoleSeen {
  hbaFile: string;
  hbaOwner: string;
  /** The block as it was ('' none): what rollback puts back. */
  before: string;
  role: boolean;
  member: boolean;
  file: boolean;
}

export function hostPostgresMonitorStep(o: {
  id: string;
  host: string;
  pg: HostPostgresDef;
  sudo: boolean;
  dependsOn: string[];
}): Step<MonitorRoleSeen> {
  const { host, pg, sudo } = o;
  const where = pgWhere(host, pg);
  const { run, sql, readHba, hbaOwner } = hostPostgresTools(pg, sudo);
  const canLogIn = async (ctx: StepContext) => (await ctx.transport.exec(loginCommand(pg), { sudo })).code === 0;

  async function observe(ctx: StepContext): Promise<MonitorRoleSeen> {
    await findCluster(ctx, host, pg, sudo);
    const hbaFile = (await sql(ctx, `reading ${where}'s settings`, 'SHOW hba_file')).trim();
    const state = (await sql(ctx, `reading ${where}'s roles`, ROLE_SQL)).split('\n').map((l) => l.trim());
    const file = (await run(ctx, 'psql', passwordFileCommand(), `reading ${MONITOR_PASSWORD_FILE}`)).trim() === 'file';
    return {
      hbaFile,
      hbaOwner: await hbaOwner(ctx, hbaFile),
      before: blockIn(await readHba(ctx, hbaFile), MONITOR_BLOCK),
      role: state.includes('role'),
      member: state.includes('member'),
      file,
    };
  }

  /** pg_hba.conf with Ferry's block as `block` ('' none), when it is not so already. */
  async function putBlock(ctx: StepContext, seen: MonitorRoleSeen, block: string): Promise<void> {
    const text = await readHba(ctx, seen.hbaFile);
    const next = withBlock(text, MONITOR_BLOCK, block);
    if (next === text) return;
    await writeHba(ctx, {
      host,
      sudo,
      file: seen.hbaFile,
      owner: seen.hbaOwner,
      text: next,
      previous: text,
      sql,
      hint: `Read the line Postgres names and fix it in ${seen.hbaFile}, then run again.`,
    });
  }

  function changesOf(s: MonitorRoleSeen, loggedIn: boolean): string[] {
    const out: string[] = [];
    if (!s.file) out.push(`make the password in ${MONITOR_PASSWORD_FILE}`);
    if (!s.role) out.push(`create role ${MONITOR_ROLE} (pg_monitor)`);
    else if (!s.member) out.push(`grant pg_monitor to ${MONITOR_ROLE}`);
    if (s.before !== monitorHbaBlock()) out.push(`pg_hba.conf: ${MONITOR_ROLE} from 127.0.0.1`);
    if (out.length === 0 && !loggedIn) out.push(`set ${MONITOR_ROLE}'s password (it does not log in)`);
    return out;
  }

  return {
    id: o.id,
    host,
    phase: 'deploy',
    title: `a login for the exporter of ${where}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: `The exporter of the Postgres installed on ${host} logs in on 127.0.0.1 as ${MONITOR_ROLE}, a role in pg_monitor (statistics, not data) of at most ${MONITOR_CONNECTIONS} connections. Its password is made on the server, kept in ${MONITOR_PASSWORD_FILE} (root's, mode 600), and never leaves it: psql reads it on its standard input, the exporter from the file. pg_hba.conf gets a block of Ferry's for it, checked by Postgres and reloaded.`,
      commands: [
        render(makePasswordCommand()),
        render(setRoleCommand(pg)),
        render(psqlAsSuperuser(pg, ['SELECT pg_reload_conf()'])),
      ],
      verify: `${MONITOR_ROLE} logs in to ${where} over 127.0.0.1 with the password in ${MONITOR_PASSWORD_FILE}.`,
      undo: `pg_hba.conf's block is put back as it was; the role and the password file are removed when this step made them.`,
    }),
    async check(ctx) {
      const seen = await observe(ctx);
      const changes = changesOf(seen, seen.role && seen.file ? await canLogIn(ctx) : false);
      if (changes.length === 0) return { needed: false, observed: seen };
      return { needed: true, observed: seen, change: { summary: changes.join('; ') } };
    },
    async apply(ctx, seen) {
      await run(ctx, 'psql', makePasswordCommand(), `making the password in ${MONITOR_PASSWORD_FILE}`);
      await run(ctx, 'psql', setRoleCommand(pg), `setting the role ${MONITOR_ROLE} on ${where}`);
      await putBlock(ctx, seen, monitorHbaBlock());
    },
    async verify(ctx) {
      if (await canLogIn(ctx)) return { ok: true };
      return {
        ok: false,
        message: `${MONITOR_ROLE} cannot log in to ${where} over 127.0.0.1: a line of pg_hba.conf above Ferry's block may refuse it, or Postgres may not listen on 127.0.0.1`,
      };
    },
    async rollback(ctx, seen) {
      await putBlock(ctx, seen, seen.before);
      if (!seen.role || !seen.file)
        await run(ctx, 'psql', dropCommand(pg, !seen.role, !seen.file), 'removing the login');
    },
  };
}
