/**
 * A stack let into the Postgres on its own server (outside Docker), before its release
 * starts: the stack's Docker networks exist (created as Compose would, when this is its
 * first deploy), `pg_hba.conf` holds one block for the stack with exactly their subnets
 * (checked by Postgres itself, `pg_hba_file_rules`, before the reload), Postgres listens
 * on the address `host-gateway` names (a restart, once, and a drop-in that starts it after
 * Docker at boot), and ufw (installed, active or not) lets the containers in.
 *
 * Rollback puts the stack's block back as it was and reloads; `listen_addresses` stays
 * (pg_hba.conf still decides who logs in), as do the networks Compose now owns.
 */
import { dirname } from 'node:path';
import { StepError } from '../../engine/errors.js';
import type { Step, StepContext } from '../../engine/step.js';
import { addCommand, addedLine, deleteCommand } from '../../harden/render/ufw.js';
import { cmd, render, type Command } from '../../shell/command.js';
import { HBA_ERRORS, hostPostgresReader, writeHba, type HostPostgresSeen } from './host-postgres-read.js';
import {
  AFTER_DOCKER_PATH,
  AFTER_DOCKER_TEXT,
  blockIn,
  clusterUnit,
  waitReadyCommand,
  clustersCommand,
  hostPostgresAllows,
  listenWith,
  psqlAsSuperuser,
  withBlock,
  type HostPostgresAccess,
  type StackNetwork,
} from '../host-postgres.js';

/** `ALTER SYSTEM SET listen_addresses`: the value is addresses Ferry read or computed, quoted for SQL. */
const alterListen = (value: string) => `ALTER SYSTEM SET listen_addresses = '${value.replaceAll("'", "''")}'`;

export function hostPostgresStep(o: {
  id: string;
  host: string;
  access: HostPostgresAccess;
  sudo: boolean;
  dependsOn: string[];
}): Step<HostPostgresSeen> {
  const { access: a, sudo, host } = o;
  const pg = a.postgres;
  const { where, run, sql, exec, subnets, desired, readHba, observe } = hostPostgresReader(o);

  const reload = (ctx: StepContext, s: HostPostgresSeen, text: string, previous: string) =>
    writeHba(ctx, {
      host,
      sudo,
      file: s.hbaFile,
      owner: s.hbaOwner,
      text,
      previous,
      sql,
      hint: `Read the line Postgres names; fix what is wrong in ${s.hbaFile} or in stacks.${a.stack}.connections, then apply again.`,
    });

  return {
    id: o.id,
    host,
    phase: 'deploy',
    title: a.remote
      ? `let ${a.stack} (from ${a.remote.from}) into ${where}`
      : `let ${a.stack}'s containers into ${where}`,
    dependsOn: o.dependsOn,
    doc: () => ({
      purpose: purposeOf(a, host),
      commands: [
        render(clustersCommand()),
        render(psqlAsSuperuser(pg, ['SHOW hba_file', 'SHOW listen_addresses'])),
        ...a.networks.map(
          (n) =>
            `docker network create --label com.docker.compose.project=${a.project} --label com.docker.compose.network=${n.key} ${n.name} (when missing)`,
        ),
        render(psqlAsSuperuser(pg, [HBA_ERRORS, 'SELECT pg_reload_conf()'])),
      ],
      verify: `pg_hba.conf holds exactly ${a.stack}'s subnets, Postgres reads it without an error, and listens on the bridge address.`,
      undo: `The stack's block in pg_hba.conf is put back as it was, and Postgres reloaded; listen_addresses and the networks stay.`,
    }),
    async check(ctx) {
      const { seen, want } = await observe(ctx);
      const changes = changesOf(a, seen, want);
      if (changes.length === 0) return { needed: false, observed: seen };
      return { needed: true, observed: seen, change: { summary: changes.join('; ') } };
    },
    async apply(ctx, seen) {
      for (const n of a.networks.filter((n) => seen.create.includes(n.name)))
        await run(ctx, 'docker', createNetwork(a.project, n), `creating network ${n.name}`);
      const text = await readHba(ctx, seen.hbaFile);
      const want = desired(await subnets(ctx, a.networks));
      const next = withBlock(text, a.block, want);
      if (next !== text) await reload(ctx, seen, next, text);
      const listen = listenWith(
        (await sql(ctx, `reading ${where}'s listen_addresses`, 'SHOW listen_addresses')).trim(),
        seen.listenOn,
      );
      if (listen !== undefined && !a.remote) {
        await run(
          ctx,
          'systemctl',
          cmd('mkdir', '-p', dirname(AFTER_DOCKER_PATH)),
          `creating ${dirname(AFTER_DOCKER_PATH)}`,
        );
        await ctx.transport.upload(AFTER_DOCKER_PATH, AFTER_DOCKER_TEXT, { mode: 0o644, sudo });
        await run(ctx, 'systemctl', cmd('systemctl', 'daemon-reload'), 'systemctl daemon-reload');
      }
      if (listen !== undefined) {
        await sql(ctx, `setting ${where}'s listen_addresses`, alterListen(listen));
        await run(ctx, 'systemctl', cmd('systemctl', 'restart', clusterUnit(seen.cluster)), `restarting ${where}`);
        await run(ctx, 'psql', waitReadyCommand(pg.port), `waiting for ${where} to accept connections`);
      }
      for (const allow of hostPostgresAllows(a).filter((x) => seen.ufwAdd.includes(addedLine(x)))) {
        const r = await exec(ctx, addCommand(allow));
        if (r.code !== 0)
          throw new StepError(
            'firewall-failed',
            `${host}: ufw did not take the allowance for ${a.stack} from ${allow.from[0]}: ${ctx.redactor.redact(r.stderr.trim())}`,
            "Read ufw's words; fix ufw on the server, then apply again.",
          );
      }
    },
    async verify(ctx, seen) {
      const text = await readHba(ctx, seen.hbaFile);
      const want = desired(await subnets(ctx, a.networks));
      if (blockIn(text, a.block) !== want)
        return { ok: false, message: `${seen.hbaFile} does not hold ${a.stack}'s subnets as written` };
      if ((await sql(ctx, `checking ${seen.hbaFile}`, HBA_ERRORS)).trim() !== '')
        return { ok: false, message: `Postgres reads ${seen.hbaFile} with errors` };
      const listen = (await sql(ctx, `reading ${where}'s listen_addresses`, 'SHOW listen_addresses')).trim();
      if (listenWith(listen, seen.listenOn) !== undefined)
        return { ok: false, message: `${where} does not listen on ${seen.listenOn} (listen_addresses '${listen}')` };
      return { ok: true };
    },
    async rollback(ctx, seen) {
      const text = await readHba(ctx, seen.hbaFile);
      const back = withBlock(text, a.block, seen.before);
      if (back !== text) await reload(ctx, seen, back, text);
      for (const allow of hostPostgresAllows(a).filter((x) => seen.ufwAdd.includes(addedLine(x))))
        await exec(ctx, deleteCommand(allow));
    },
  };
}

/** `docker network create` as Compose would: its labels, driver and `internal`, so that `up` adopts it. */
export function createNetwork(project: string, n: StackNetwork): Command {
  return cmd(
    'docker',
    'network',
    'create',
    ...(n.driver ? ['--driver', n.driver] : []),
    ...(n.internal ? ['--internal'] : []),
    '--label',
    `com.docker.compose.project=${project}`,
    '--label',
    `com.docker.compose.network=${n.key}`,
    n.name,
  );
}

/** What the step is for, in the runbook. */
function purposeOf(a: HostPostgresAccess, host: string): string {
  const pg = a.postgres;
  return a.remote
    ? `${a.stack} connects from its server (${a.remote.from}) to the Postgres installed on ${host} (${a.remote.listen}). That address is written into pg_hba.conf in a block of the stack's own (scram-sha-256 passwords; ${a.pairs.map((p) => `${p.database}/${p.user}`).join(', ')}), checked by Postgres and reloaded; Postgres is made to listen on ${a.remote.listen} when it does not, which restarts it once; ufw (when installed, active or not) lets ${a.remote.from} in to port ${pg.port}.`
    : `${a.stack} connects to the Postgres installed on ${host} (host.docker.internal). Its Docker networks are created first when they do not exist yet (with Compose's labels, so that Compose adopts them), their subnets are written into pg_hba.conf in a block of the stack's own (scram-sha-256 passwords; ${a.pairs.map((p) => `${p.database}/${p.user}`).join(', ')}), checked by Postgres and reloaded. Postgres is made to listen on Docker's bridge address (host-gateway) when it does not, which restarts it once, and starts after Docker at boot. ufw (when installed, active or not) lets Docker's networks in to port ${pg.port}.`;
}

/** What the check found to change, for the plan. */
function changesOf(a: HostPostgresAccess, s: HostPostgresSeen, want: string): string[] {
  const who = a.remote
    ? `${a.remote.from} (the server of ${a.stack})`
    : `the subnets of ${a.networks.map((n) => n.name).join(', ')}`;
  const out: string[] = [];
  if (s.create.length > 0) out.push(`create network ${s.create.join(', ')}`);
  if (s.create.length > 0 || want !== s.before) out.push(`pg_hba.conf: ${who}`);
  const listen = listenWith(s.listen, s.listenOn);
  if (listen !== undefined) out.push(`listen_addresses '${s.listen}' -> '${listen}' (restarts Postgres)`);
  if (s.ufwAdd.length > 0)
    out.push(`ufw: let ${a.remote ? a.remote.from : "Docker's networks"} in to port ${a.postgres.port}`);
  return out;
}
